//! `courier`: the command-line tool for courier services. It finds instances in the
//! registry the environment names (`COURIER_PEERS`, or Consul at `CONSUL_HTTP_ADDR`),
//! as servers and proxies do.
//!
//! ```text
//! courier ls                                            components, instances, channels
//! courier describe greeter-component                    services, methods, argument types
//! courier call greeter-component.greeter.hello '{"name":"Ada"}'
//! courier health greeter-component                      each instance's checks
//! ```
//!
//! `--json` prints for scripts. Exit status: 0 on success, 1 when a call or a health
//! check fails, 2 when the command cannot run (no registry, no such component, bad JSON).

mod call;
mod describe;
mod failure;
mod health;
mod list;
mod servers;

use clap::{Parser, Subcommand};
use failure::Failure;
use std::process::ExitCode;

/// List, describe, call and check courier services.
#[derive(Debug, Parser)]
#[command(name = "courier", version, about)]
struct Cli {
    /// Print JSON, for scripts.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every component the registry knows, its instances and their channels.
    Ls,
    /// A component's services, methods and argument types, as its server describes them.
    Describe {
        /// The component, as the registry names it: `greeter-component`.
        component: String,
    },
    /// Calls a method through a proxy, and prints its JSON result.
    Call {
        /// `<component>.<service>.<method>`: `greeter-component.greeter.hello`.
        target: String,
        /// The arguments as a JSON object, by name: `'{"name":"Ada"}'`; none: `{}`.
        #[arg(default_value = "{}")]
        arguments: String,
    },
    /// Each instance's health checks.
    Health {
        /// The component: `greeter-component`.
        component: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return Failure::Usage(format!("cannot start a runtime: {error}")).report(cli.json),
    };
    let outcome = runtime.block_on(async {
        match &cli.command {
            Command::Ls => list::run(cli.json).await,
            Command::Describe { component } => describe::run(component, cli.json).await,
            Command::Call { target, arguments } => call::run(target, arguments, cli.json).await,
            Command::Health { component } => health::run(component, cli.json).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(cli.json),
    }
}
