//! Server processes registered with a real Consul agent, and a client that follows them.

mod common;

use common::{all_answer, ServerProcess};
use courier::{client::HttpClient, prelude::*, registry::ConsulRegistry, tls::Certificate};
use courier_samples::Greeter;
use courier_test_support::{wait_until, ConsulAgent, TestCa};
use std::{collections::BTreeSet, time::Duration};

const DEADLINE: Duration = Duration::from_secs(30);

/// The URLs of the instances Consul says pass.
async fn passing(agent: &ConsulAgent) -> Vec<String> {
    let url = format!("{}/v1/health/service/greeter-component?passing", agent.http_url());
    let entries: Vec<serde_json::Value> = reqwest::get(url).await.expect("Consul answers").json().await.expect("JSON");
    entries
        .iter()
        .filter_map(|entry| entry["Service"]["Meta"]["channel-dispatch-msgpack"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn an_https_instance_registers_passes_its_check_and_is_called() {
    let Some(agent) = ConsulAgent::start().await else { return };
    let ca = TestCa::new("courier test CA");
    let folder = std::env::temp_dir().join(format!("courier-consul-tls-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a folder");
    let (cert, key) = ca.server().write(&folder, "server");
    let address = agent.http_addr();
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let env = [("CONSUL_HTTP_ADDR", address.as_str()), ("COURIER_TLS_CERT", &cert), ("COURIER_TLS_KEY", &key)];
    let server = ServerProcess::start_with("secure", &env);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    // Consul runs the https check, and passes it.
    wait_until(DEADLINE, "Consul passes the https instance", || async {
        passing(&agent).await == [server.url.clone()]
    })
    .await;

    let root = Certificate::from_pem(ca.cert_pem().as_bytes()).expect("the CA");
    let client = HttpClient::builder().platform_roots(false).add_root_certificate(root).build();
    let registry = ConsulRegistry::builder().address(&address).build().expect("registry");
    let services = ServiceManager::builder().registry(registry).http_client(client).build();
    let greeter = services.get::<dyn Greeter>().expect("proxy");
    wait_until(DEADLINE, "the proxy reaches it", || async { greeter.whoami().await.is_ok() }).await;
    assert_eq!(greeter.whoami().await.expect("an answer over TLS"), "secure");
    let _ = std::fs::remove_dir_all(&folder);
}

#[tokio::test]
async fn a_killed_server_leaves_the_passing_set_and_gets_no_more_calls() {
    let Some(agent) = ConsulAgent::start().await else { return };
    let address = agent.http_addr();
    let env = [("CONSUL_HTTP_ADDR", address.as_str())];
    let a = ServerProcess::start_with("a", &env);
    let mut b = ServerProcess::start_with("b", &env);

    let registry = ConsulRegistry::builder().address(&address).build().expect("registry");
    let greeter = ServiceManager::new(registry).get::<dyn Greeter>().expect("proxy");
    wait_until(DEADLINE, "both servers answer", || all_answer(2, || async { greeter.whoami().await.ok() })).await;

    b.kill();
    wait_until(DEADLINE, "Consul's health check fails b", || async { passing(&agent).await == [a.url.clone()] }).await;
    wait_until(DEADLINE, "the proxy learns it", || async {
        // Round-robin over two instances would reach b within two calls.
        greeter.whoami().await.is_ok_and(|who| who == "a") && greeter.whoami().await.is_ok_and(|who| who == "a")
    })
    .await;
    for call in 0..100 {
        assert_eq!(greeter.whoami().await.expect("a answers"), "a", "call {call} was routed to the killed server");
    }
}

#[tokio::test]
async fn the_example_client_alternates_between_two_instances_it_finds_in_consul() {
    let Some(agent) = ConsulAgent::start().await else { return };
    let address = agent.http_addr();
    let env = [("CONSUL_HTTP_ADDR", address.as_str())];
    let (a, b) = (ServerProcess::start_with("a", &env), ServerProcess::start_with("b", &env));
    wait_until(DEADLINE, "Consul passes both instances", || async {
        passing(&agent).await.into_iter().collect::<BTreeSet<_>>() == BTreeSet::from([a.url.clone(), b.url.clone()])
    })
    .await;

    // The README's walkthrough: the client is told nothing but where Consul is.
    let mut client = std::process::Command::new(env!("CARGO_BIN_EXE_greeter-client"));
    client.env_remove("COURIER_PEERS").env("CONSUL_HTTP_ADDR", &address);
    let answered = common::instances_answering(&mut client, 6);
    assert!(answered.windows(2).all(|pair| pair[0] != pair[1]), "consecutive calls reached one instance: {answered:?}");
    assert_eq!(answered.into_iter().collect::<BTreeSet<_>>(), BTreeSet::from(["a".into(), "b".into()]));
}
