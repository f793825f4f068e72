//! A server on a listener the program opened, and courier mounted inside an axum app
//! of the program's own: every channel answers there, multiplexed connections included.

use axum::{routing::get, Router};
use courier::{client::HttpClient, prelude::*, tls::TlsConfig};
use courier_samples::{Greeter, GreeterComponent};
use courier_test_support::TestCa;
use tokio::net::TcpListener;

#[tokio::test]
async fn a_server_serves_on_the_listener_it_is_given() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let registry = LocalRegistry::new();
    let mut server = Server::builder()
        .registry(registry.clone())
        .bind("192.0.2.1:1") // ignored: the listener is what it serves on
        .listener(listener)
        .component(GreeterComponent)
        .start()
        .await
        .expect("server starts");
    assert_eq!(server.local_addr(), address);
    assert_eq!(server.url(), format!("http://{address}"));
    let greeter = ServiceManager::new(registry).get::<dyn Greeter>().expect("proxy");
    assert_eq!(greeter.hello("listener".into()).await.expect("hello"), "Hello, listener!");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn courier_mounted_in_an_axum_app_answers_beside_the_apps_routes() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let registry = LocalRegistry::new();
    let (mut server, courier) = Server::builder()
        .registry(registry.clone())
        .component(GreeterComponent)
        .start_router(address)
        .await
        .expect("server starts");
    let app = Router::new().route("/", get(|| async { "the app's own page" })).merge(courier);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app =
        tokio::spawn(
            async move { axum::serve(listener, app).with_graceful_shutdown(async { drop(stopped.await) }).await },
        );
    assert_eq!(server.url(), format!("http://{address}"));
    assert_eq!(registry.instances("greeter-component", ChannelKind::DispatchMsgpack).len(), 1);

    // The proxy's default client multiplexes calls over one upgraded connection.
    let greeter = ServiceManager::new(registry.clone()).get::<dyn Greeter>().expect("proxy");
    for name in ["mounted", "again"] {
        assert_eq!(greeter.hello(name.into()).await.expect("hello"), format!("Hello, {name}!"));
    }
    let plain = ServiceManager::builder()
        .registry(registry.clone())
        .http_client(HttpClient::builder().multiplex(false).build())
        .build();
    let greeter = plain.get::<dyn Greeter>().expect("proxy");
    assert_eq!(greeter.hello("plain".into()).await.expect("hello"), "Hello, plain!");

    let http = reqwest::Client::new();
    let home = http.get(format!("http://{address}/")).send().await.expect("request");
    assert_eq!(home.text().await.expect("body"), "the app's own page");
    let health = http.get(format!("http://{address}/health")).send().await.expect("request");
    assert!(health.status().is_success(), "{}", health.status());
    // The mux path refuses what is not an upgrade, with courier's error body.
    let refused = http.get(format!("http://{address}/mux")).send().await.expect("request");
    assert_eq!(refused.status(), 400);
    let body: serde_json::Value = refused.json().await.expect("error body");
    assert_eq!(body["code"], "bad_request");

    server.shutdown().await.expect("clean shutdown");
    assert!(registry.instances("greeter-component", ChannelKind::DispatchMsgpack).is_empty());
    stop.send(()).expect("app runs");
    app.await.expect("app task").expect("app serves until stopped");
}

#[tokio::test]
async fn a_mounted_server_refuses_tls_of_its_own() {
    let issued = TestCa::new("courier test CA").server();
    let tls = TlsConfig::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes()).expect("a certificate");
    let refused = Server::builder()
        .registry(LocalRegistry::new())
        .component(GreeterComponent)
        .tls(tls)
        .start_router("127.0.0.1:9".parse().expect("address"))
        .await
        .expect_err("TLS is the app's");
    assert!(refused.to_string().contains("leave out `.tls(...)`"), "{refused}");
}
