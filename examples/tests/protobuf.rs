//! The dispatch-protobuf channel: the committed schema matches the code, and a protobuf
//! implementation that is not courier's reads what courier writes.

mod common;

use common::ServerProcess;
use std::{path::Path, process::Command};

fn proto_folder() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../proto"))
}

#[test]
fn the_committed_schemas_are_what_the_code_generates() {
    for descriptor in courier_samples::protobuf_services() {
        let schema = descriptor.protobuf.expect("declared for protobuf");
        let file = format!("{}.proto", descriptor.name);
        let committed = std::fs::read_to_string(proto_folder().join(&file)).expect("a committed schema");
        assert!(committed == schema(), "proto/{file} is out of date: run `cargo xtask proto` and commit it");
    }
}

#[test]
fn python_protobuf_reads_and_writes_the_channel() {
    let Some(python) = courier_test_support::python() else { return };
    let generated = std::env::temp_dir().join(format!("courier-proto-{}", std::process::id()));
    std::fs::create_dir_all(&generated).expect("a folder for generated classes");
    let protoc = Command::new(&python)
        .args(["-m", "grpc_tools.protoc"])
        .arg(format!("-I{}", proto_folder().display()))
        .arg(format!("--python_out={}", generated.display()))
        .args(["greeter.proto", "reports.proto", "ledger.proto", "courier.proto"])
        .output()
        .expect("run protoc from grpcio-tools");
    assert!(protoc.status.success(), "protoc refused the schema: {}", String::from_utf8_lossy(&protoc.stderr));

    let server = ServerProcess::start("python-peer");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/protobuf_client.py");
    let output = Command::new(&python).arg(script).arg(&generated).arg(&server.url).output().expect("run python");
    let _ = std::fs::remove_dir_all(&generated);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.trim() == "OK",
        "python says: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
