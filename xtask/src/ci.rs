use std::process::Stdio;

use crate::{cargo, step, test, Result};

/// Formatting, lints and docs first: they fail in seconds, the tests take minutes.
pub(crate) fn run(cargo_test_args: &[String]) -> Result {
    if has_cargo_subcommand("fmt") {
        let mut fmt = cargo();
        fmt.args(["fmt", "--all", "--", "--check"]);
        step(format!("running {}", crate::describe(&fmt)));
        crate::run(&mut fmt)?;
    } else {
        step("fmt: skipped, `cargo fmt` is not installed (rustup component add rustfmt)");
    }

    if has_cargo_subcommand("clippy") {
        let mut clippy = cargo();
        clippy.args(["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"]);
        step(format!("running {}", crate::describe(&clippy)));
        crate::run(&mut clippy)?;
    } else {
        step("clippy: skipped, `cargo clippy` is not installed (rustup component add clippy)");
    }

    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--no-deps", "--all-features"]).env("RUSTDOCFLAGS", "-D warnings");
    step(format!("running RUSTDOCFLAGS='-D warnings' {}", crate::describe(&doc)));
    crate::run(&mut doc)?;

    test::run(cargo_test_args)
}

fn has_cargo_subcommand(name: &str) -> bool {
    cargo()
        .args([name, "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
