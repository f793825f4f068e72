//! A real browser for tests of web pages: headless Chromium, driven through ChromeDriver's
//! WebDriver protocol (JSON over HTTP), so a test clicks and types as a user does.

use crate::process_util::{find_binary, free_ports, logged_command, start_until_ready};
use serde_json::{json, Value};
use std::{
    path::{Path, PathBuf},
    process::Child,
    time::Duration,
};

/// The key under which WebDriver names an element.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium with one session; [`close`](Self::close) ends it, and dropping it
/// stops the driver.
#[derive(Debug)]
pub struct Browser {
    driver: Child,
    session: String,
    http: reqwest::Client,
    profile: PathBuf,
}

/// An element of the page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts ChromeDriver (`COURIER_CHROMEDRIVER`, else `chromedriver` on `PATH`) and a
    /// headless Chromium (`COURIER_CHROMIUM`, else `/usr/bin/chromium`). `None` (after
    /// one skip line) when either is missing; panics under CI.
    pub async fn start() -> Option<Self> {
        let driver = find_binary("COURIER_CHROMEDRIVER", "chromedriver", PathBuf::from("/usr/bin/chromedriver"));
        let chromium = std::env::var_os("COURIER_CHROMIUM")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
        let (Some(driver), true) = (driver, chromium.is_file()) else {
            crate::skip_or_panic(
                "Chromium and ChromeDriver not found — run `cargo xtask test` (it installs Debian's chromium and chromium-driver)",
            );
            return None;
        };
        Some(Self::launch(&driver, &chromium).await)
    }

    async fn launch(driver: &Path, chromium: &Path) -> Self {
        let port = free_ports(1).expect("a free port for ChromeDriver")[0];
        let profile = std::env::temp_dir().join(format!("courier-chromium-{}-{port}", std::process::id()));
        let log = std::env::temp_dir().join(format!("courier-chromedriver-{}-{port}.log", std::process::id()));
        let command = logged_command(driver, vec![format!("--port={port}")], &log).expect("a log for ChromeDriver");
        let status = format!("127.0.0.1:{port}");
        let driver = start_until_ready(command, "chromedriver", &log, || {
            std::net::TcpStream::connect(&status).map(drop).map_err(|error| error.to_string())
        })
        .unwrap_or_else(|error| panic!("{error}"));
        let http = reqwest::Client::new();
        let arguments = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1600",
        ]
        .map(str::to_owned)
        .into_iter()
        .chain([format!("--user-data-dir={}", profile.display())]);
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": arguments.collect::<Vec<_>>() },
        } } });
        let base = format!("http://127.0.0.1:{port}");
        let created = send(http.post(format!("{base}/session")).json(&capabilities)).await;
        let session = created["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}")).to_owned();
        Self { driver, session: format!("{base}/session/{session}"), http, profile }
    }

    /// Opens `url`.
    pub async fn open(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The elements that match a CSS selector, within `scope` or the whole page.
    pub async fn find_all(&self, scope: Option<&Element>, css: &str) -> Vec<Element> {
        let path = match scope {
            Some(Element(id)) => format!("/element/{id}/elements"),
            None => "/elements".to_owned(),
        };
        let found = self.post(&path, json!({ "using": "css selector", "value": css })).await;
        found.as_array().into_iter().flatten().filter_map(|element| element[ELEMENT].as_str()).map(element).collect()
    }

    /// The first element that matches, once there is one: waits up to `deadline`.
    pub async fn wait_for(&self, scope: Option<&Element>, css: &str, deadline: Duration) -> Element {
        let started = tokio::time::Instant::now();
        loop {
            if let Some(found) = self.find_all(scope, css).await.into_iter().next() {
                return found;
            }
            assert!(started.elapsed() < deadline, "the page did not show `{css}` within {deadline:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The element's text, as the user sees it.
    pub async fn text(&self, element: &Element) -> String {
        let text = self.get(&format!("/element/{}/text", element.0)).await;
        text.as_str().unwrap_or_default().replace('\u{200b}', "")
    }

    /// Clicks the element.
    pub async fn click(&self, element: &Element) {
        self.post(&format!("/element/{}/click", element.0), json!({})).await;
    }

    /// Types `text` into the element, key by key.
    pub async fn type_into(&self, element: &Element, text: &str) {
        self.post(&format!("/element/{}/value", element.0), json!({ "text": text })).await;
    }

    /// Ends the session, which closes Chromium.
    pub async fn close(self) {
        send(self.http.delete(&self.session)).await;
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        send(self.http.post(format!("{}{path}", self.session)).json(&body)).await
    }

    async fn get(&self, path: &str) -> Value {
        send(self.http.get(format!("{}{path}", self.session))).await
    }
}

fn element(id: &str) -> Element {
    Element(id.to_owned())
}

/// Sends a WebDriver command and returns its `value`; a WebDriver error fails the test.
async fn send(request: reqwest::RequestBuilder) -> Value {
    let response = request.timeout(Duration::from_secs(60)).send().await.expect("ChromeDriver answers");
    let status = response.status();
    let body: Value = response.json().await.expect("a WebDriver answer is JSON");
    assert!(status.is_success(), "WebDriver refused the command ({status}): {body}");
    body["value"].clone()
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
