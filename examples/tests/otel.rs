//! Spans exported over OTLP reach an independent receiver (Python, with the
//! opentelemetry-proto package) as one trace: a client process calls a relay process,
//! which calls a greeter process, and each hop is the child of the one before.

mod common;

use common::ServerProcess;
use courier_test_support::wait_until;
use serde_json::Value;
use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

/// The receiver, killed when dropped.
struct Receiver {
    child: Child,
    endpoint: String,
}

impl Receiver {
    fn start(python: &std::path::Path) -> Self {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/otlp_receiver.py");
        let mut child = Command::new(python).arg(script).stdout(Stdio::piped()).spawn().expect("start the receiver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line).expect("its first line");
        let port = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("the receiver said {line:?}"));
        Self { endpoint: format!("http://127.0.0.1:{port}"), child }
    }

    async fn spans(&self) -> Vec<Value> {
        let spans = reqwest::get(format!("{}/spans", self.endpoint)).await.expect("the receiver answers");
        spans.json().await.expect("JSON spans")
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn relay(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_relay-server"));
    command.env_remove("CONSUL_HTTP_ADDR").env("OTEL_BSP_SCHEDULE_DELAY", "100").envs(env.iter().copied());
    command
}

#[tokio::test]
async fn a_call_across_three_processes_arrives_as_one_trace_with_each_hop_the_child_of_the_last() {
    let Some(python) = courier_test_support::python() else { return };
    let receiver = Receiver::start(&python);
    let endpoint = receiver.endpoint.as_str();
    let greeter = ServerProcess::spawn(relay(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_SERVICE_NAME", "greeter-b"),
        ("COURIER_SERVE_GREETER", "1"),
    ]));
    let peers = format!("greeter-component={}", greeter.url);
    let relay_a = ServerProcess::spawn(relay(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_SERVICE_NAME", "relay-a"),
        ("COURIER_PEERS", &peers),
    ]));
    let peers = format!("relay-component={}", relay_a.url);
    let output =
        relay(&[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint), ("OTEL_SERVICE_NAME", "client"), ("COURIER_PEERS", &peers)])
            .args(["call", "Ada"])
            .output()
            .expect("run the client");
    assert!(output.status.success(), "client failed: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "Hello, Ada!");

    wait_until(Duration::from_secs(30), "the four spans of the call arrive", || async {
        receiver
            .spans()
            .await
            .iter()
            .filter(|span| span["name"].as_str().is_some_and(|name| name.contains('/')))
            .count()
            >= 4
    })
    .await;
    let spans = receiver.spans().await;
    let find = |service: &str, kind: &str| -> Value {
        spans
            .iter()
            .find(|span| span["service"] == service && span["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} span of {service} in {spans:#?}"))
            .clone()
    };
    let client = find("client", "SPAN_KIND_CLIENT");
    let relay_server = find("relay-a", "SPAN_KIND_SERVER");
    let relay_client = find("relay-a", "SPAN_KIND_CLIENT");
    let greeter_server = find("greeter-b", "SPAN_KIND_SERVER");

    let trace = &client["trace_id"];
    for span in [&relay_server, &relay_client, &greeter_server] {
        assert_eq!(&span["trace_id"], trace, "one trace: {span}");
    }
    assert_eq!(client["parent_span_id"], "", "the client's span is the root");
    assert_eq!(relay_server["parent_span_id"], client["span_id"]);
    assert_eq!(relay_client["parent_span_id"], relay_server["span_id"]);
    assert_eq!(greeter_server["parent_span_id"], relay_client["span_id"]);

    assert_eq!((&client["name"], &greeter_server["name"]), (&"relay/forward".into(), &"greeter/hello".into()));
    let attributes = &greeter_server["attributes"];
    assert_eq!((&attributes["service"], &attributes["method"]), (&"greeter".into(), &"hello".into()));
    assert_eq!((&attributes["channel"], &attributes["outcome"]), (&"dispatch-msgpack".into(), &"ok".into()));
    // The ids exported are the ones courier sent as `traceparent`.
    assert_eq!(attributes["trace_id"], *trace);
    assert_eq!(attributes["parent_span_id"], relay_client["span_id"]);
}
