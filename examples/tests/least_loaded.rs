//! The least-loaded selector over real instances in other processes: with one of three
//! slow, it sends the slow one almost nothing, where round robin gives it its third.

mod common;

use common::ServerProcess;
use courier::{client::Selection, prelude::*};
use courier_samples::Greeter;
use futures_util::future::join_all;
use prometheus_parse::{Scrape, Value};

const CALLERS: usize = 16;
const CALLS_EACH: usize = 20;

/// The `hello` calls a server has answered, from its `/metrics`.
async fn answered(server: &ServerProcess) -> f64 {
    let text = reqwest::get(format!("{}/metrics", server.url)).await.expect("/metrics").text().await.expect("text");
    let scrape = Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("the text format parses");
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == "courier_server_requests_total")
        .filter(|sample| sample.labels.get("method") == Some("hello"))
        .map(|sample| match sample.value {
            Value::Counter(value) | Value::Untyped(value) => value,
            _ => 0.0,
        })
        .sum()
}

/// The share of `CALLERS` × `CALLS_EACH` concurrent calls that `selection` sent to `slow`.
async fn share_of(selection: Selection, servers: &[ServerProcess], slow: &ServerProcess) -> f64 {
    let registry = LocalRegistry::new();
    for server in servers {
        registry.add_peer("greeter-component", &server.url);
    }
    let services = ServiceManager::builder().registry(registry).selection(selection).build();
    let greeter = services.proxy::<dyn Greeter>().build().expect("proxy");
    let before = answered(slow).await;
    let callers = (0..CALLERS).map(|_| {
        let greeter = Arc::clone(&greeter);
        async move {
            for _ in 0..CALLS_EACH {
                assert_eq!(greeter.hello("Ada".into()).await.expect("hello"), "Hello, Ada!");
            }
        }
    });
    join_all(callers).await;
    (answered(slow).await - before) / (CALLERS * CALLS_EACH) as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_loaded_sends_calls_away_from_a_slow_instance() {
    let slow = ServerProcess::start_with("slow", &[("COURIER_HELLO_DELAY_MS", "100")]);
    let servers = [ServerProcess::start("fast-1"), ServerProcess::start("fast-2"), slow];
    let slow = &servers[2];
    let round_robin = share_of(Selection::RoundRobin, &servers, slow).await;
    assert!((0.3..0.37).contains(&round_robin), "round robin gave the slow instance {round_robin:.3} of the calls");
    let least_loaded = share_of(Selection::LeastLoaded, &servers, slow).await;
    assert!(least_loaded < 0.1, "least loaded gave the slow instance {least_loaded:.3} of the calls");
}
