//! Clients and servers in separate processes, over real sockets.

mod common;

use common::ServerProcess;
use courier::{
    client::{BearerToken, Token},
    prelude::*,
    ErrorCode,
};
use courier_samples::{Greeter, Ledger};
use jsonwebtoken::{EncodingKey, Header};
use std::{
    collections::HashMap,
    process::Command,
    time::{SystemTime, UNIX_EPOCH},
};

#[test]
fn a_client_process_calls_a_server_process() {
    let server = ServerProcess::start("solo");
    let output = Command::new(env!("CARGO_BIN_EXE_greeter-client"))
        .arg("2")
        .env("COURIER_PEERS", format!("greeter-component={}", server.url))
        .output()
        .expect("run greeter-client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "client failed: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        ["Hello, caller!", "call 0: answered by solo", "call 1: answered by solo"]
    );
}

#[test]
fn a_plain_fn_main_calls_a_server_process_through_a_blocking_proxy() {
    let (a, b) = (ServerProcess::start("a"), ServerProcess::start("b"));
    let mut client = Command::new(env!("CARGO_BIN_EXE_greeter-blocking-client"));
    client.env("COURIER_PEERS", format!("greeter-component={},greeter-component={}", a.url, b.url));
    let answered = common::instances_answering(client.env_remove("CONSUL_HTTP_ADDR"), 4);
    assert!(answered.windows(2).all(|pair| pair[0] != pair[1]), "calls did not spread: {answered:?}");
}

#[tokio::test]
async fn a_blocking_proxy_called_from_async_code_fails_instead_of_stalling_the_runtime() {
    let server = ServerProcess::start("solo");
    let registry = LocalRegistry::new();
    registry.add_peer("greeter-component", &server.url);
    let greeter = ServiceManager::new(registry).blocking::<dyn Greeter>().expect("proxy");
    let error = greeter.call(|greeter| greeter.whoami()).expect_err("refused on a runtime thread");
    assert_eq!(error.code, ErrorCode::Internal);
    assert!(error.message.contains("use the async proxy"), "{error}");
    // The async proxy underneath serves on.
    assert_eq!(greeter.proxy().whoami().await.expect("async call"), "solo");
}

/// `greeter-client`, with no registry named in its environment but `env`.
fn client_with(env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_greeter-client"))
        .arg("1")
        .env_remove("COURIER_PEERS")
        .env_remove("CONSUL_HTTP_ADDR")
        .envs(env.iter().copied())
        .output()
        .expect("run greeter-client")
}

#[test]
fn a_client_that_finds_no_instance_says_where_it_looked_and_what_to_set() {
    let output = client_with(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the client succeeded without a server");
    assert!(
        stderr.starts_with(
            "Error: unavailable: no live instance of component `greeter-component` on the dispatch-msgpack channel in the \
             in-process registry, which knows this process's servers only (COURIER_PEERS is not set"
        ),
        "{stderr}"
    );
}

#[test]
fn a_malformed_peer_list_fails_the_client_with_an_error_that_names_it() {
    let output = client_with(&[("COURIER_PEERS", "greeter-component")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the client took a malformed COURIER_PEERS");
    assert!(stderr.starts_with("Error: bad_request: COURIER_PEERS: "), "{stderr}");
    assert!(stderr.contains("`greeter-component`"), "{stderr}");
}

#[test]
fn a_server_that_cannot_start_prints_the_reason_as_people_read_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_greeter-server"))
        .env("COURIER_BIND", "not an address")
        .output()
        .expect("run greeter-server");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the server started on a nonsense address");
    assert!(stderr.starts_with("Error: cannot listen on not an address: "), "{stderr}");
    assert!(!stderr.contains("Bind {"), "{stderr}");
}

#[tokio::test]
async fn round_robin_spreads_calls_evenly_over_three_processes() {
    let servers: Vec<_> = ["a", "b", "c"].into_iter().map(ServerProcess::start).collect();
    let registry = LocalRegistry::new();
    for server in &servers {
        registry.add_peer("greeter-component", &server.url);
    }
    let greeter = ServiceManager::new(registry).get::<dyn Greeter>().expect("proxy");
    let mut counts = HashMap::new();
    for _ in 0..300 {
        *counts.entry(greeter.whoami().await.expect("whoami")).or_insert(0) += 1;
    }
    assert_eq!(counts, HashMap::from([("a".to_owned(), 100), ("b".to_owned(), 100), ("c".to_owned(), 100)]));
}

/// The secret this test and the server process sign and check tokens with.
const SECRET: &str = "a secret the test and the server process share";

/// A layer that sends a token for `ann` with these roles, signed with [`SECRET`].
fn token_with_roles(roles: &'static [&'static str]) -> BearerToken {
    BearerToken::new(move || async move {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let claims = serde_json::json!({ "sub": "ann", "roles": roles, "exp": now + 600 });
        let value = jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET.as_bytes()))
            .map_err(|error| ServiceError::internal(error.to_string()))?;
        Ok(Token { value, expires_in: None })
    })
}

#[tokio::test]
async fn a_protected_service_in_another_process_checks_the_token_and_sees_the_callers_context() {
    let server = ServerProcess::start_with("ledger", &[("COURIER_JWT_SECRET", SECRET)]);
    let registry = LocalRegistry::new();
    registry.add_peer("ledger-component", &server.url);
    let ledger = |layer: Option<BearerToken>| {
        let mut services = ServiceManager::builder().registry(registry.clone());
        if let Some(layer) = layer {
            services = services.layer(layer);
        }
        services.build().get::<dyn Ledger>().expect("proxy")
    };
    let acme = CallContext::default().with_metadata("tenant", "acme");

    let admin = ledger(Some(token_with_roles(&["admin"])));
    assert_eq!(acme.clone().scope(admin.audit()).await.expect("an admin's call"), "ann for acme");
    let guest = ledger(Some(token_with_roles(&["guest"])));
    assert_eq!(acme.clone().scope(guest.audit()).await.expect_err("no role").code, ErrorCode::Forbidden);
    let anonymous = ledger(None);
    assert_eq!(acme.scope(anonymous.audit()).await.expect_err("no token").code, ErrorCode::Unauthenticated);
}

/// The value of the server counter `metric` whose labels include every one of `labels`.
async fn server_count(server: &ServerProcess, metric: &str, labels: &[&str]) -> f64 {
    let scrape = reqwest::get(format!("{}/metrics", server.url)).await.expect("/metrics").text().await.expect("text");
    scrape
        .lines()
        .filter(|line| line.starts_with(&format!("{metric}{{")) && labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn on_a_multiplexed_connection_the_body_limit_deadlines_auth_and_metrics_all_apply() {
    let server =
        ServerProcess::start_with("mux", &[("COURIER_JWT_SECRET", SECRET), ("COURIER_HELLO_DELAY_MS", "5000")]);
    let registry = LocalRegistry::new();
    registry.add_peer("greeter-component", &server.url);
    registry.add_peer("ledger-component", &server.url);
    let client = courier::client::HttpClient::builder().build();
    assert!(format!("{client:?}").contains("multiplexed"), "the default transport: {client:?}");
    let manager = |layer: Option<BearerToken>| {
        let mut services = ServiceManager::builder().registry(registry.clone()).http_client(client.clone());
        if let Some(layer) = layer {
            services = services.layer(layer);
        }
        services.build()
    };
    let greeter = manager(None).get::<dyn Greeter>().expect("proxy");

    for _ in 0..25 {
        let tree = courier_samples::Node::tree(2, 3);
        assert_eq!(greeter.echo(tree.clone()).await.expect("an echo"), tree);
    }
    assert_eq!(
        server_count(&server, "courier_server_requests_total", &["method=\"echo\"", "outcome=\"ok\""]).await,
        25.0
    );

    // Over the 4 MiB body limit, and well within the largest frame: the body limit answers.
    let mut large = courier_samples::Node::tree(0, 0);
    large.name = "x".repeat(4 * 1024 * 1024 + 100);
    let error = greeter.echo(large).await.expect_err("too large");
    assert_eq!(error.code, ErrorCode::PayloadTooLarge, "{error}");
    assert!(error.message.contains("request body exceeds"), "{error}");

    // The deadline travels with the call and stops it, long before the 5 s it would take.
    let started = std::time::Instant::now();
    let within =
        CallContext::default().with_deadline(std::time::Instant::now() + std::time::Duration::from_millis(300));
    let error = within.scope(greeter.hello("late".into())).await.expect_err("past its deadline");
    assert_eq!(error.code, ErrorCode::Timeout, "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "took {:?}", started.elapsed());

    let anonymous = manager(None).get::<dyn Ledger>().expect("proxy");
    assert_eq!(anonymous.audit().await.expect_err("no token").code, ErrorCode::Unauthenticated);
    let admin = manager(Some(token_with_roles(&["admin"]))).get::<dyn Ledger>().expect("proxy");
    assert_eq!(admin.audit().await.expect("an admin's call"), "ann for no tenant");
    let outcomes = [("unauthenticated", 1.0), ("ok", 1.0)];
    for (outcome, count) in outcomes {
        let labels = ["method=\"audit\"", "channel=\"dispatch-msgpack\"", &format!("outcome=\"{outcome}\"")];
        assert_eq!(server_count(&server, "courier_server_requests_total", &labels).await, count, "{outcome}");
    }
    assert_eq!(server_count(&server, "courier_server_requests_total", &["outcome=\"payload_too_large\""]).await, 1.0);
}
