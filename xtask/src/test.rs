use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::process_util::find_on_path;
use crate::{cargo, consul, nats, step, tools_dir, Result};

/// What the interop tests import, and the packages that provide it.
const PYTHON_PACKAGES: [&str; 6] =
    ["protobuf", "grpcio-tools", "grpcio-status", "prometheus-client", "openapi-spec-validator", "opentelemetry-proto"];
const PYTHON_IMPORTS: &str =
    "import google.protobuf, grpc_tools, grpc_status, prometheus_client, openapi_spec_validator, \
                              opentelemetry.proto.collector.trace.v1.trace_service_pb2";

/// The programs the README runs; each fails if its calls do not do what it shows.
const README_EXAMPLES: [&str; 5] = ["hello", "rest", "protected", "tls", "jobs"];

/// The test of OTLP export, and the `otel` module's doc example.
const OTEL_TEST: &[&str] = &["test", "-p", "courier-examples", "--features", "otel", "--test", "otel"];
const OTEL_DOC: &[&str] = &["test", "-p", "courier-core", "--features", "otel", "--doc", "otel"];

pub(crate) fn run(cargo_test_args: &[String]) -> Result {
    let env = prepare()?;
    // `-p` and `--workspace` together would test the whole workspace.
    let scope: &[&str] = if selects_packages(cargo_test_args) { &[] } else { &["--workspace"] };
    for kind in ["--all-targets", "--doc"] {
        let mut command = cargo();
        command.arg("test").args(scope).arg(kind).args(cargo_test_args).envs(env.iter().map(|(k, v)| (k, v)));
        step(format!("running {}", crate::describe(&command)));
        crate::run(&mut command)?;
    }
    if cargo_test_args.is_empty() {
        // What needs the `otel` feature, which the workspace's own build leaves off.
        for args in [OTEL_TEST, OTEL_DOC] {
            let mut command = cargo();
            command.args(args).envs(env.iter().map(|(k, v)| (k, v)));
            step(format!("running {}", crate::describe(&command)));
            crate::run(&mut command)?;
        }
        for example in README_EXAMPLES {
            let mut command = cargo();
            command.args(["run", "--quiet", "-p", "courier-examples", "--example", example]);
            step(format!("running {}", crate::describe(&command)));
            crate::run(&mut command)?;
        }
    }
    Ok(())
}

fn selects_packages(cargo_test_args: &[String]) -> bool {
    cargo_test_args
        .iter()
        .take_while(|arg| *arg != "--")
        .any(|arg| arg.starts_with("-p") || arg.starts_with("--package"))
}

/// Installs what the tests need and returns the environment that points the
/// tests at it.
fn prepare() -> Result<Vec<(&'static str, OsString)>> {
    let consul = consul::install()?;
    let nats = nats::install()?;
    let mut path = Vec::new();
    for bin in [&consul, &nats] {
        let dir = bin.parent().expect("a binary lives in a folder");
        if !path.iter().any(|known| known == dir) {
            path.push(dir.to_path_buf());
        }
    }
    path.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    step(format!("consul: COURIER_CONSUL_BIN={} (its folder first on PATH)", consul.display()));
    step(format!("nats-server: COURIER_NATS_BIN={} (its folder first on PATH)", nats.display()));

    let python = python_venv()?;
    step(format!("python: COURIER_PYTHON={}", python.display()));
    let (chromium, chromedriver) = crate::browser::install()?;

    Ok(vec![
        ("PATH", std::env::join_paths(path)?),
        ("COURIER_CONSUL_BIN", consul.into_os_string()),
        ("COURIER_NATS_BIN", nats.into_os_string()),
        ("COURIER_PYTHON", python.into_os_string()),
        ("COURIER_CHROMIUM", chromium.into_os_string()),
        ("COURIER_CHROMEDRIVER", chromedriver.into_os_string()),
    ])
}

/// A venv of the project's own in `target/tools/venv` with the interop
/// tests' packages, so nothing is installed into the system's Python.
fn python_venv() -> Result<PathBuf> {
    let venv = tools_dir().join("venv");
    let python = venv.join("bin/python");
    if !succeeds(&python, &["-c", "pass"]) {
        let python3 =
            find_on_path("python3").ok_or("python3 is not on PATH: install Python 3 (with its venv module)")?;
        step(format!("python: creating a venv in {}", venv.display()));
        crate::run(Command::new(python3).args(["-m", "venv", "--clear"]).arg(&venv))?;
    }
    let packages = PYTHON_PACKAGES.join(" ");
    if succeeds(&python, &["-c", PYTHON_IMPORTS]) {
        step(format!("python: {packages} already installed"));
    } else {
        step(format!("python: installing {packages} with pip"));
        crate::run(
            Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
                .args(PYTHON_PACKAGES),
        )?;
    }
    Ok(python)
}

fn succeeds(program: &Path, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
