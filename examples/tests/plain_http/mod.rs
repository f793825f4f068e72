//! A greeter server in this process, called with plain HTTP requests, without a proxy.

use courier::prelude::*;
use courier_samples::GreeterComponent;
use reqwest::{Method, RequestBuilder};

/// A server running [`GreeterComponent`], and an HTTP client to call it.
pub(crate) struct Fixture {
    server: Server,
    http: reqwest::Client,
}

impl Fixture {
    /// Starts a server that takes request bodies of up to `max_body_bytes`.
    pub(crate) async fn start(max_body_bytes: usize) -> Self {
        let server = Server::builder()
            .registry(LocalRegistry::new())
            .component(GreeterComponent)
            .max_body_bytes(max_body_bytes)
            .start()
            .await
            .expect("server starts");
        Self { server, http: reqwest::Client::new() }
    }

    /// A `method` request to `path` on the server, to finish and send.
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.server.url()))
    }
}
