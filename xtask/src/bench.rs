use crate::{cargo, step, Result};

/// Forwards `args` to the roundtrip benchmark binary of `courier-benches`.
pub(crate) fn run(args: &[String]) -> Result {
    let mut command = cargo();
    command.args(["run", "--release", "-p", "courier-benches", "--bin", "roundtrip", "--"]).args(args);
    step(format!("running {}", crate::describe(&command)));
    crate::run(&mut command)
}
