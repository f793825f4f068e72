use std::fs::{self, File};
use std::path::Path;
use std::process::{self, Command, Stdio};
use std::time::Instant;

use crate::process_util::{find_on_path, log_tail};
use crate::{format_elapsed, step, tools_dir, Result};

/// Builds the main package `module` at `version` from the Go module proxy
/// into `target`, logging to `target/tools/<name>-build.log`. `target`
/// appears whole or not at all.
pub(crate) fn build_binary(name: &str, module: &str, version: &str, target: &Path) -> Result {
    let go = find_on_path("go").ok_or(format!(
        "{name} is not installed and `go` is not on PATH: install Go, or put a {name} binary on PATH"
    ))?;
    let target_dir = target.parent().expect("a binary lives in a folder");
    fs::create_dir_all(target_dir)?;
    let log = tools_dir().join(format!("{name}-build.log"));
    step(format!(
        "building {name} v{version} from the Go module proxy (takes a few minutes cold)... log: {}",
        log.display()
    ));
    let started = Instant::now();
    // Unique names: two builds at once must not share a module or a half-written binary.
    let work = std::env::temp_dir().join(format!("courier-{name}-build-{}", process::id()));
    let partial = target_dir.join(format!(".{name}.partial-{}", process::id()));
    let built = build(&go, &format!("{module}@v{version}"), module, &work, &partial, &log)
        .and_then(|()| Ok(fs::rename(&partial, target)?));
    let _ = fs::remove_dir_all(&work);
    if let Err(e) = built {
        let _ = fs::remove_file(&partial);
        return Err(
            format!("building {name} failed: {e}\n--- end of {} ---\n{}", log.display(), log_tail(&log, 30)).into()
        );
    }
    step(format!("{name} v{version} built in {}: {}", format_elapsed(started.elapsed()), target.display()));
    Ok(())
}

/// Builds `package` as the main package of a throwaway module that requires
/// `module_at_version`, which is how `go install` would do it were the
/// module's go.mod free of `replace` lines.
fn build(go: &Path, module_at_version: &str, package: &str, work: &Path, output: &Path, log: &Path) -> Result {
    let _ = fs::remove_dir_all(work);
    fs::create_dir_all(work)?;
    let log = File::create(log)?;
    let output = output.to_string_lossy();
    for args in [
        &["mod", "init", "wrapper"][..],
        &["get", module_at_version],
        &["build", "-mod=mod", "-trimpath", "-o", &output, package],
    ] {
        let mut command = Command::new(go);
        command
            .args(args)
            .current_dir(work)
            // The checksum database is not reachable from our machines; the
            // module proxy is.
            .env("GOSUMDB", "off")
            .env("GOFLAGS", "-mod=mod")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?);
        step(format!("  go {}", args.join(" ")));
        crate::run(&mut command)?;
    }
    Ok(())
}
