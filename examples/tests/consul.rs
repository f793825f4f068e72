//! Server processes registered with a real Consul agent, and a client that follows them.

mod common;

use common::ServerProcess;
use courier::{prelude::*, ConsulRegistry};
use courier_examples::Greeter;
use courier_test_support::{wait_until, ConsulAgent};
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
async fn a_killed_server_leaves_the_passing_set_and_gets_no_more_calls() {
    let Some(agent) = ConsulAgent::start().await else { return };
    let address = agent.http_addr();
    let env = [("CONSUL_HTTP_ADDR", address.as_str())];
    let a = ServerProcess::start_with("a", &env);
    let mut b = ServerProcess::start_with("b", &env);

    let registry = ConsulRegistry::builder().address(&address).build().expect("registry");
    let greeter = ServiceManager::new(registry).get::<dyn Greeter>().expect("proxy");
    wait_until(DEADLINE, "both servers answer", || async {
        let mut seen = BTreeSet::new();
        for _ in 0..4 {
            seen.extend(greeter.whoami().await.ok());
        }
        seen.len() == 2
    })
    .await;

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
