//! The benchmarks' command lines: flags with their values in, the usage and errors out.

use crate::Error;
use std::process::ExitCode;

/// What a benchmark's `main` returns. `parse` reads the command line, and `run` does
/// what it asks for; when it asks for help (`parse` returns `None`), the usage is printed
/// instead. An error goes to stderr after the `program`'s name, followed by the usage
/// when it is the command line that is wrong.
pub fn main<T>(
    program: &str,
    usage: &str,
    parse: impl FnOnce(&[String]) -> Result<Option<T>, Error>,
    run: impl FnOnce(T) -> Result<(), Error>,
) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match parse(&args) {
        Ok(None) => {
            println!("{usage}");
            Ok(())
        }
        Ok(Some(command)) => run(command),
        Err(error) => Err(format!("{error}\n\n{usage}").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `options` with the flags in `args` set: each flag is followed by its value
/// (`--calls 100`) or joined to it (`--calls=100`), and `set` sets one on the options,
/// returning whether it knows the flag. `None` when `-h` or `--help` comes first.
pub fn parse_flags<T>(
    args: &[String],
    mut options: T,
    mut set: impl FnMut(&mut T, &str, &str) -> Result<bool, Error>,
) -> Result<Option<T>, Error> {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        if matches!(flag, "-h" | "--help") {
            return Ok(None);
        }
        let value = inline.or_else(|| args.next().cloned()).ok_or_else(|| format!("`{flag}` needs a value"))?;
        if !set(&mut options, flag, &value)? {
            return Err(format!("unknown argument `{arg}`").into());
        }
    }
    Ok(Some(options))
}

/// The value of `flag` as a count of one or more.
pub fn positive(flag: &str, value: &str) -> Result<usize, Error> {
    value
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{flag}` takes a positive count, not `{value}`").into())
}

/// The value of `flag` as a count, zero included.
pub fn count(flag: &str, value: &str) -> Result<usize, Error> {
    value.parse().map_err(|_| format!("`{flag}` takes a count, not `{value}`").into())
}
