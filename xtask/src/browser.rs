//! Headless Chromium and ChromeDriver for the tests of web pages: Debian's `chromium` and
//! `chromium-driver` packages, installed with apt-get when they are missing.

use crate::{step, Result};
use std::{
    path::{Path, PathBuf},
    process::Command,
};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The paths of Chromium and ChromeDriver, installed first if need be.
pub(crate) fn install() -> Result<(PathBuf, PathBuf)> {
    let (chromium, driver) = (Path::new(CHROMIUM), Path::new(CHROMEDRIVER));
    if chromium.is_file() && driver.is_file() {
        step(format!("chromium: {CHROMIUM} and {CHROMEDRIVER} already installed"));
        return Ok((chromium.to_path_buf(), driver.to_path_buf()));
    }
    step("chromium: installing Debian's chromium and chromium-driver with apt-get");
    let apt = |args: &[&str]| {
        let mut command = Command::new("apt-get");
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        crate::run(&mut command)
    };
    apt(&["update", "-qq"])
        .and_then(|()| apt(&["install", "-y", "-qq", "--no-install-recommends", "chromium", "chromium-driver"]))
        .map_err(|error| {
            format!("cannot install chromium and chromium-driver ({error}): install them as root, or run as root")
        })?;
    Ok((chromium.to_path_buf(), driver.to_path_buf()))
}
