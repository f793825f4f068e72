//! gRPC, checked by a stack that shares no code with courier: Python's grpcio, with stubs
//! that grpcio-tools generates from the committed `.proto` files, calls every method of
//! courier servers; and a grpcio server of the same `.proto` answers a courier proxy on
//! the `grpc` channel.

mod common;

use common::ServerProcess;
use courier::{prelude::*, registry::Registration, ErrorCode};
use courier_samples::{Greeter, GreetingError, Node};
use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

const SECRET: &str = "grpc-test-secret";

/// Python classes and gRPC stubs of the committed `.proto` files, in a folder of their own.
fn generate_stubs(python: &Path, test: &str) -> PathBuf {
    let proto = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../proto"));
    let generated = std::env::temp_dir().join(format!("courier-grpc-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&generated).expect("a folder for generated stubs");
    let protoc = Command::new(python)
        .args(["-m", "grpc_tools.protoc"])
        .arg(format!("-I{}", proto.display()))
        .arg(format!("--python_out={}", generated.display()))
        .arg(format!("--grpc_python_out={}", generated.display()))
        .args(["greeter.proto", "ledger.proto", "courier.proto"])
        .output()
        .expect("run protoc from grpcio-tools");
    assert!(protoc.status.success(), "protoc refused the schema: {}", String::from_utf8_lossy(&protoc.stderr));
    generated
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop").join(name)
}

#[test]
fn python_grpcio_calls_every_method_and_reads_every_status() {
    let Some(python) = courier_test_support::python() else { return };
    let stubs = generate_stubs(&python, "client");
    let server = ServerProcess::start_with("grpc-peer", &[("COURIER_JWT_SECRET", SECRET)]);
    let slow = ServerProcess::start_with("slow-grpc-peer", &[("COURIER_HELLO_DELAY_MS", "5000")]);
    let output = Command::new(&python)
        .arg(script("grpc_client.py"))
        .args([stubs.as_os_str(), server.url.as_ref(), slow.url.as_ref(), SECRET.as_ref()])
        .output()
        .expect("run python");
    let _ = std::fs::remove_dir_all(&stubs);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.trim() == "OK",
        "python says: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn a_courier_proxy_calls_a_grpcio_server_on_the_grpc_channel() {
    let Some(python) = courier_test_support::python() else { return };
    let stubs = generate_stubs(&python, "server");
    let mut command = Command::new(&python);
    command.arg(script("grpc_server.py")).arg(&stubs);
    let peer = ServerProcess::spawn(command);
    let _ = std::fs::remove_dir_all(&stubs);

    let registry = LocalRegistry::new();
    let registration = Registration {
        component: "greeter-component".into(),
        instance_id: "python".into(),
        url: peer.url.clone(),
        channels: vec![ChannelKind::Grpc],
        health_url: None,
    };
    registry.register(&registration).await.expect("register the Python server");
    let services = ServiceManager::builder().registry(registry).build();
    let greeter = services.proxy::<dyn Greeter>().channel(ChannelKind::Grpc).build().expect("proxy");

    assert_eq!(greeter.hello("Ada".into()).await.expect("hello"), "Hello from Python, Ada!");
    let tree = Node::tree(3, 3);
    assert_eq!(greeter.echo(tree.clone()).await.expect("echo"), tree);
    greeter.ping().await.expect("ping");

    // A gRPC status of another stack reads as the courier fault it stands for.
    let refused = greeter.greet("Mallory".into(), false).await.expect_err("refused");
    let GreetingError::Courier(refused) = refused else { panic!("a domain error from a foreign server: {refused:?}") };
    assert_eq!(refused.code, ErrorCode::Forbidden, "{refused}");
    assert!(refused.message.contains("Mallory is not greeted here"), "{refused}");

    // Metadata travels as plain gRPC metadata, and the deadline as grpc-timeout.
    let context =
        CallContext::default().with_metadata("tenant", "acme").with_deadline(Instant::now() + Duration::from_secs(30));
    let whoami = context.scope(greeter.whoami()).await.expect("whoami");
    assert!(whoami.starts_with("python for acme, ") && !whoami.ends_with("no deadline"), "{whoami}");

    let context = CallContext::default().with_deadline(Instant::now() + Duration::from_millis(300));
    let started = Instant::now();
    let late = context.scope(greeter.rename(1, None, tree)).await.expect_err("past its deadline");
    assert_eq!(late.code, ErrorCode::Timeout, "{late}");
    assert!(started.elapsed() < Duration::from_secs(2), "the deadline did not cut the call short");
}
