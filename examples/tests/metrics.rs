//! `/metrics` in the Prometheus text format, read back with an independent parser: after
//! N calls, the server's and the client's counters say N.
//!
//! The recorder is the process's, so counts are read as differences from before the calls.

use courier::{prelude::*, ErrorCode};
use courier_samples::{Greeter, GreeterComponent};
use prometheus_parse::{Scrape, Value};
use std::collections::BTreeMap;

/// One scrape of `/metrics`, checked line by line.
struct Metrics(Scrape);

impl Metrics {
    async fn scrape(server: &Server) -> Self {
        let response = reqwest::get(format!("{}/metrics", server.url())).await.expect("/metrics answers");
        assert!(response.status().is_success());
        assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
        let text = response.text().await.expect("a text body");
        let scrape = Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("the text format parses");
        // The parser skips what it cannot read; so every sample line must be accounted for.
        let sample_lines = text.lines().filter(|line| !line.trim().is_empty() && !line.starts_with('#')).count();
        let parsed: usize = scrape
            .samples
            .iter()
            .map(|sample| match &sample.value {
                Value::Histogram(buckets) => buckets.len(),
                _ => 1,
            })
            .sum();
        assert_eq!(parsed, sample_lines, "every sample line parses:\n{text}");
        Self(scrape)
    }

    /// The value of the sample named `metric` whose labels include `labels`; 0 if none.
    fn value(&self, metric: &str, labels: &[(&str, &str)]) -> f64 {
        let matching: Vec<_> = self
            .0
            .samples
            .iter()
            .filter(|sample| sample.metric == metric)
            .filter(|sample| labels.iter().all(|(name, value)| sample.labels.get(name) == Some(*value)))
            .collect();
        assert!(matching.len() <= 1, "{metric} {labels:?} is ambiguous: {matching:?}");
        matching.first().map_or(0.0, |sample| match &sample.value {
            Value::Counter(value) | Value::Gauge(value) | Value::Untyped(value) => *value,
            Value::Histogram(buckets) => buckets.iter().map(|bucket| bucket.count).fold(0.0, f64::max),
            Value::Summary(_) => panic!("{metric} is a summary, not a histogram"),
        })
    }

    /// The help text of a metric.
    fn help(&self, metric: &str) -> Option<&str> {
        self.0.docs.get(metric).map(String::as_str)
    }
}

fn labels<'a>(method: &'a str, channel: &'a str, outcome: &'a str) -> [(&'a str, &'a str); 4] {
    [("service", "greeter"), ("method", method), ("channel", channel), ("outcome", outcome)]
}

#[tokio::test]
async fn after_n_calls_the_server_and_client_counters_say_n() {
    let registry = LocalRegistry::new();
    let mut server =
        Server::builder().registry(registry.clone()).component(GreeterComponent).start().await.expect("server starts");
    let services = ServiceManager::new(registry);
    let msgpack = services.get::<dyn Greeter>().expect("proxy");
    let json = services.proxy::<dyn Greeter>().channel(ChannelKind::DispatchJson).build().expect("proxy");
    let rest = services.proxy::<dyn Greeter>().channel(ChannelKind::Rest).build().expect("proxy");
    let before = Metrics::scrape(&server).await;

    const N: usize = 7;
    for i in 0..N {
        assert_eq!(msgpack.hello(format!("caller {i}")).await.expect("hello"), format!("Hello, caller {i}!"));
    }
    for _ in 0..3 {
        json.greet("Mallory".into(), true).await.expect_err("Mallory is refused");
    }
    for i in 0..N {
        assert_eq!(rest.hello(format!("rester {i}")).await.expect("hello"), format!("Hello, rester {i}!"));
    }
    let unknown = reqwest::Client::new()
        .post(format!("{}/invoke/greeter-component/greeter/nothing-{}", server.url(), std::process::id()))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("the server answers");
    assert_eq!(unknown.status().as_u16(), ErrorCode::NotFound.status());
    let after = Metrics::scrape(&server).await;
    let delta = |metric: &str, labels: &[(&str, &str)]| after.value(metric, labels) - before.value(metric, labels);

    let hello = labels("hello", "dispatch-msgpack", "ok");
    let refused = labels("greet", "dispatch-json", "method_error");
    for side in ["server", "client"] {
        let requests = format!("courier_{side}_requests_total");
        assert_eq!(delta(&requests, &hello), N as f64, "{side}: one count per call");
        assert_eq!(delta(&requests, &refused), 3.0, "{side}: a method's own error is its own outcome");
        let durations = format!("courier_{side}_request_duration_seconds");
        assert_eq!(delta(&format!("{durations}_count"), &hello), N as f64, "{side}: one latency per call");
        assert_eq!(delta(&durations, &hello), N as f64, "{side}: the +Inf bucket holds every call");
        assert!(after.value(&format!("{durations}_sum"), &hello) > 0.0);
        let in_flight = format!("courier_{side}_requests_in_flight");
        assert_eq!(after.value(&in_flight, &hello[..3]), 0.0, "{side}: nothing is in flight any more");
        assert!(after.help(&requests).is_some(), "{side}: {requests} has its help text");
    }
    let on_rest = labels("hello", "rest", "ok");
    for side in ["server", "client"] {
        assert_eq!(
            delta(&format!("courier_{side}_requests_total"), &on_rest),
            N as f64,
            "{side}: REST calls count too"
        );
    }
    let made_up =
        [("service", "unknown"), ("method", "unknown"), ("channel", "dispatch-json"), ("outcome", "not_found")];
    assert_eq!(delta("courier_server_requests_total", &made_up), 1.0, "a path nobody serves is labelled unknown");

    let selections = [("component", "greeter-component"), ("channel", "dispatch-msgpack")];
    assert_eq!(delta("courier_client_selections_total", &selections), N as f64, "one instance picked per call");
    let selections = [("component", "greeter-component"), ("channel", "rest")];
    assert_eq!(delta("courier_client_selections_total", &selections), N as f64, "on every channel");
    let watched = [("registry", "local"), ("component", "greeter-component"), ("channel", "dispatch-msgpack")];
    assert!(after.value("courier_registry_watch_updates_total", &watched) >= 1.0, "the registration was published");
    assert_eq!(after.value("courier_registry_instances", &watched), 1.0);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn every_server_of_the_process_serves_the_same_metrics() {
    let registry = LocalRegistry::new();
    let mut one = Server::builder().registry(registry.clone()).start().await.expect("one starts");
    let mut two = Server::builder().registry(registry).start().await.expect("two starts");
    let names = |metrics: &Metrics| {
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        for sample in &metrics.0.samples {
            *names.entry(sample.metric.clone()).or_default() += 1;
        }
        names.into_keys().filter(|name| name.starts_with("courier_")).collect::<Vec<_>>()
    };
    let (first, second) = (Metrics::scrape(&one).await, Metrics::scrape(&two).await);
    assert!(names(&first).iter().all(|name| names(&second).contains(name)), "one recorder per process");
    one.shutdown().await.expect("one stops");
    two.shutdown().await.expect("two stops");
}
