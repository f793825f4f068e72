//! Dispatch calls take a short way past the router, but never past what the user
//! configured: their layers still see every call, and their routes are still served.

use axum::{extract::Request, middleware::Next, routing::get, Router};
use courier::prelude::*;
use courier_samples::{Greeter, GreeterComponent};
use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

#[tokio::test]
async fn a_layer_sees_dispatch_calls() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let registry = LocalRegistry::new();
    let mut server = Server::builder()
        .registry(registry.clone())
        .component(GreeterComponent)
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            counter.fetch_add(1, Ordering::Relaxed);
            next.run(request)
        }))
        .start()
        .await
        .expect("server starts");
    let greeter = ServiceManager::new(registry).get::<dyn Greeter>().expect("proxy");
    assert_eq!(greeter.hello("layer".into()).await.expect("hello"), "Hello, layer!");
    assert_eq!(greeter.hello("again".into()).await.expect("hello"), "Hello, again!");
    assert_eq!(seen.load(Ordering::Relaxed), 2);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn user_routes_and_health_are_served_beside_dispatch_calls() {
    let registry = LocalRegistry::new();
    let mut server = Server::builder()
        .registry(registry.clone())
        .component(GreeterComponent)
        .routes(Router::new().route("/version", get(|| async { "1.0" })))
        .start()
        .await
        .expect("server starts");
    let http = reqwest::Client::new();
    let version = http.get(format!("{}/version", server.url())).send().await.expect("request");
    assert_eq!(version.text().await.expect("body"), "1.0");
    let health = http.get(format!("{}/health", server.url())).send().await.expect("request");
    assert!(health.status().is_success());
    let greeter = ServiceManager::new(registry).get::<dyn Greeter>().expect("proxy");
    assert_eq!(greeter.hello("routes".into()).await.expect("hello"), "Hello, routes!");
    server.shutdown().await.expect("clean shutdown");
}

/// Panics when given a reason.
#[service(name = "panicky")]
trait Panicky {
    async fn boom(&self, reason: String) -> Result<(), ServiceError>;
}

#[component(name = "panicky-component", services = [Panicky])]
struct PanickyComponent;

#[derive(Default)]
struct Boom;

#[implementation]
impl Panicky for Boom {
    async fn boom(&self, reason: String) -> Result<(), ServiceError> {
        if !reason.is_empty() {
            panic!("{reason}");
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_panicking_method_is_an_internal_fault_and_the_server_goes_on() {
    let registry = LocalRegistry::new();
    let mut server = Server::builder()
        .registry(registry.clone())
        .component(PanickyComponent)
        .component(GreeterComponent)
        .start()
        .await
        .expect("server starts");
    let services = ServiceManager::new(registry);
    for channel in [ChannelKind::DispatchMsgpack, ChannelKind::DispatchJson] {
        let panicky = services.proxy::<dyn Panicky>().channel(channel).build().expect("proxy");
        let fault = panicky.boom("on purpose".into()).await.expect_err("the method panics");
        assert_eq!(fault.code, courier::ErrorCode::Internal, "{channel}: {fault}");
    }
    let greeter = services.get::<dyn Greeter>().expect("proxy");
    assert_eq!(greeter.hello("after".into()).await.expect("hello"), "Hello, after!");
    server.shutdown().await.expect("clean shutdown");
}
