//! Clients and servers in separate processes, over real sockets.

mod common;

use common::ServerProcess;
use courier::prelude::*;
use courier_examples::Greeter;
use std::{collections::HashMap, process::Command};

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
    assert_eq!(stdout.lines().collect::<Vec<_>>(), ["Hello, caller 0! (from solo)", "Hello, caller 1! (from solo)"]);
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
