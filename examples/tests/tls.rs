//! TLS over real sockets: every channel, multiplexed and over HTTP/1.1; a client that
//! trusts another CA; plain HTTP sent to a TLS port; mutual TLS, whose certificates name
//! the caller and decide its roles; a renewed certificate without a dropped call; and
//! Python's `ssl` as a client that shares no code with courier.

use courier::{
    auth::CertificateAuthenticator,
    client::HttpClient,
    prelude::*,
    tls::{Certificate, Identity, TlsConfig},
    ErrorCode,
};
use courier_samples::{Greeter, GreeterComponent, GreetingError, Node};
use courier_test_support::{wait_until, Issued, TestCa};
use std::{
    path::PathBuf,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

/// Who calls, as the server sees it.
#[service(name = "badge")]
pub trait Badge {
    /// Any authenticated caller: its name.
    #[authorize]
    async fn me(&self) -> Result<String, ServiceError>;

    /// Admins only.
    #[authorize(roles = ["admin"])]
    async fn secret(&self) -> Result<String, ServiceError>;

    /// Anyone.
    #[public]
    async fn motd(&self) -> Result<String, ServiceError>;

    /// Anyone: answers once the test lets it.
    #[public]
    async fn hold(&self) -> Result<String, ServiceError>;
}

#[component(name = "badge-component", services = [Badge])]
#[derive(Debug)]
pub struct BadgeComponent;

#[derive(Default)]
struct Desk;

static HELD: AtomicBool = AtomicBool::new(false);
static RELEASE: tokio::sync::Notify = tokio::sync::Notify::const_new();

#[implementation]
impl Badge for Desk {
    async fn me(&self) -> Result<String, ServiceError> {
        Ok(CallContext::current().principal().map(|principal| principal.name.clone()).unwrap_or_default())
    }

    async fn secret(&self) -> Result<String, ServiceError> {
        Ok("the secret".into())
    }

    async fn motd(&self) -> Result<String, ServiceError> {
        Ok("be kind".into())
    }

    async fn hold(&self) -> Result<String, ServiceError> {
        HELD.store(true, Ordering::SeqCst);
        RELEASE.notified().await;
        Ok("held".into())
    }
}

fn tls(issued: &Issued) -> TlsConfig {
    TlsConfig::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes()).expect("a usable certificate")
}

/// A server of the greeter, with a certificate `ca` issued.
async fn greeter_over_tls(registry: LocalRegistry, ca: &TestCa) -> Server {
    Server::builder()
        .registry(registry)
        .component(GreeterComponent)
        .tls(tls(&ca.server()))
        .start()
        .await
        .expect("server starts")
}

/// A client that trusts only `ca`, multiplexed or not, presenting `identity` if given.
fn client(ca: &TestCa, multiplex: bool, identity: Option<&Issued>) -> HttpClient {
    let root = Certificate::from_pem(ca.cert_pem().as_bytes()).expect("the CA certificate");
    let mut builder = HttpClient::builder().multiplex(multiplex).platform_roots(false).add_root_certificate(root);
    if let Some(issued) = identity {
        let identity = Identity::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes()).expect("identity");
        builder = builder.identity(identity);
    }
    builder.build()
}

fn services(registry: &LocalRegistry, client: HttpClient) -> ServiceManager {
    ServiceManager::builder().registry(registry.clone()).http_client(client).build()
}

fn badge(services: &ServiceManager) -> Arc<dyn Badge> {
    services.proxy::<dyn Badge>().channel(ChannelKind::DispatchMsgpack).build().expect("proxy")
}

/// A folder of its own for one test's files.
fn folder(test: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("courier-tls-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a folder");
    folder
}

/// The error a call fails with, which must come within the deadline.
async fn fails<T: std::fmt::Debug>(call: impl std::future::Future<Output = Result<T, ServiceError>>) -> ServiceError {
    tokio::time::timeout(Duration::from_secs(10), call).await.expect("an answer, not a hang").expect_err("refused")
}

#[tokio::test]
async fn every_channel_travels_over_tls_multiplexed_and_over_http1() {
    let ca = TestCa::new("courier test CA");
    let registry = LocalRegistry::new();
    let mut server = greeter_over_tls(registry.clone(), &ca).await;
    assert!(server.url().starts_with("https://"), "registered as {}", server.url());
    let tree = Node::tree(2, 3);
    for multiplex in [true, false] {
        let services = services(&registry, client(&ca, multiplex, None));
        for &channel in ChannelKind::REMOTE {
            let greeter = services.proxy::<dyn Greeter>().channel(channel).build().expect("proxy");
            let what = format!("{channel}, multiplexed: {multiplex}");
            assert_eq!(greeter.hello("Ann".into()).await.expect("hello"), "Hello, Ann!", "{what}");
            assert_eq!(greeter.echo(tree.clone()).await.expect("echo"), tree, "{what}");
            let refused = greeter.greet("Mallory".into(), false).await.expect_err("refused");
            assert_eq!(
                refused,
                GreetingError::Refused { name: "Mallory".into(), reason: "on the list".into() },
                "{what}"
            );
        }
    }
    // The server's own endpoints too, through another TLS stack (reqwest's).
    let http = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).expect("CA"))
        .build()
        .expect("a reqwest client");
    for path in ["/health", "/metrics", "/openapi.json"] {
        let response = http.get(format!("{}{path}", server.url())).send().await.expect("an answer over TLS");
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{path}");
    }
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_client_that_trusts_another_ca_is_refused_with_a_clear_error() {
    let (ca, stranger) = (TestCa::new("courier test CA"), TestCa::new("another CA"));
    let registry = LocalRegistry::new();
    let _server = greeter_over_tls(registry.clone(), &ca).await;
    for multiplex in [true, false] {
        let greeter = services(&registry, client(&stranger, multiplex, None)).get::<dyn Greeter>().expect("proxy");
        let error = fails(greeter.hello("Ann".into())).await;
        assert_eq!(error.code, ErrorCode::Unavailable, "multiplexed: {multiplex}: {error}");
        assert!(error.message.contains("certificate"), "multiplexed: {multiplex}: {error}");
    }
}

#[tokio::test]
async fn plain_http_to_a_tls_port_is_told_to_use_https() {
    let ca = TestCa::new("courier test CA");
    let server = greeter_over_tls(LocalRegistry::new(), &ca).await;
    let plain = server.url().replacen("https://", "http://", 1);
    let response = reqwest::Client::new()
        .post(format!("{plain}/invoke/greeter-component/greeter/hello"))
        .header("content-type", "application/json")
        .body(r#"{"name":"Ann"}"#)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.expect("a JSON error");
    assert_eq!(body["code"], "bad_request", "{body}");
    assert!(body["message"].as_str().is_some_and(|message| message.contains("https://")), "{body}");
}

async fn mutual_tls_server(registry: &LocalRegistry, config: TlsConfig) -> Server {
    let authenticator = CertificateAuthenticator::new().grant("alice", ["admin"]);
    Server::builder()
        .registry(registry.clone())
        .component(BadgeComponent)
        .authenticator(authenticator)
        .tls(config)
        .start()
        .await
        .expect("server starts")
}

#[tokio::test]
async fn mutual_tls_names_the_caller_by_its_certificate_and_its_roles_apply() {
    let (ca, stranger) = (TestCa::new("courier test CA"), TestCa::new("another CA"));
    let registry = LocalRegistry::new();
    let config = tls(&ca.server()).require_client_certificates(ca.cert_pem().as_bytes()).expect("client CA");
    let _server = mutual_tls_server(&registry, config).await;
    let (alice, bob, eve) = (ca.client("alice"), ca.client("bob"), stranger.client("eve"));
    for multiplex in [true, false] {
        let what = format!("multiplexed: {multiplex}");
        let as_alice = badge(&services(&registry, client(&ca, multiplex, Some(&alice))));
        assert_eq!(as_alice.me().await.expect("alice is authenticated"), "alice", "{what}");
        assert_eq!(as_alice.secret().await.expect("alice is an admin"), "the secret", "{what}");
        let as_bob = badge(&services(&registry, client(&ca, multiplex, Some(&bob))));
        assert_eq!(as_bob.me().await.expect("bob is authenticated"), "bob", "{what}");
        assert_eq!(as_bob.secret().await.expect_err("bob is no admin").code, ErrorCode::Forbidden, "{what}");
        for (who, identity) in [("no certificate", None), ("another CA's", Some(&eve))] {
            let refused = fails(badge(&services(&registry, client(&ca, multiplex, identity))).motd()).await;
            assert_eq!(refused.code, ErrorCode::Unavailable, "{who}, {what}: {refused}");
            assert!(refused.message.contains("received fatal alert"), "{who}, {what}: {refused}");
        }
    }
}

#[tokio::test]
async fn optional_client_certificates_let_anonymous_callers_reach_public_methods_only() {
    let ca = TestCa::new("courier test CA");
    let registry = LocalRegistry::new();
    let config = tls(&ca.server()).accept_client_certificates(ca.cert_pem().as_bytes()).expect("client CA");
    let _server = mutual_tls_server(&registry, config).await;
    for multiplex in [true, false] {
        let anonymous = badge(&services(&registry, client(&ca, multiplex, None)));
        assert_eq!(anonymous.motd().await.expect("public"), "be kind");
        assert_eq!(anonymous.me().await.expect_err("anonymous").code, ErrorCode::Unauthenticated);
        let as_alice = badge(&services(&registry, client(&ca, multiplex, Some(&ca.client("alice")))));
        assert_eq!(as_alice.me().await.expect("alice is authenticated"), "alice");
    }
}

#[tokio::test]
async fn a_renewed_certificate_serves_new_connections_without_dropping_a_call() {
    let folder = folder("renewal");
    let (first, second, third) = (TestCa::new("first CA"), TestCa::new("second CA"), TestCa::new("third CA"));
    let (cert, key) = first.server().write(&folder, "server");
    let config = TlsConfig::from_pem_files(&cert, &key).expect("certificate files").watch(Duration::from_millis(100));
    let registry = LocalRegistry::new();
    let server = Server::builder()
        .registry(registry.clone())
        .component(BadgeComponent)
        .tls(config)
        .start()
        .await
        .expect("server starts");

    // A call in flight over a connection made with the first certificate...
    let held = badge(&services(&registry, client(&first, true, None)));
    let call = tokio::spawn(async move { held.hold().await });
    wait_until(Duration::from_secs(10), "the call runs", || async { HELD.load(Ordering::SeqCst) }).await;

    // ...outlives a reload: new connections get the second certificate,
    second.server().write(&folder, "server");
    server.reload_tls(&TlsConfig::from_pem_files(&cert, &key).expect("renewed files")).expect("reloads");
    let renewed = badge(&services(&registry, client(&second, true, None)));
    assert_eq!(renewed.motd().await.expect("the second certificate is served"), "be kind");
    let outdated = badge(&services(&registry, client(&first, true, None)));
    assert!(fails(outdated.motd()).await.message.contains("certificate"));
    RELEASE.notify_one();
    assert_eq!(call.await.expect("the call task").expect("the call in flight finishes"), "held");

    // and a renewal written to the watched files is picked up without a call.
    third.server().write(&folder, "server");
    let services = services(&registry, client(&third, false, None));
    wait_until(Duration::from_secs(10), "the third certificate is served", || async {
        badge(&services).motd().await.is_ok()
    })
    .await;
    let _ = std::fs::remove_dir_all(&folder);
}

#[tokio::test]
async fn python_ssl_verifies_the_server_and_calls_the_json_endpoint() {
    let Some(python) = courier_test_support::python() else { return };
    let ca = TestCa::new("courier test CA");
    let folder = folder("python");
    let ca_file = folder.join("ca.pem");
    std::fs::write(&ca_file, ca.cert_pem()).expect("write the CA");
    let server = greeter_over_tls(LocalRegistry::new(), &ca).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/tls_client.py");
    let output = tokio::process::Command::new(&python)
        .arg(script)
        .arg(&ca_file)
        .arg(server.local_addr().port().to_string())
        .output()
        .await
        .expect("run python");
    let _ = std::fs::remove_dir_all(&folder);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.trim() == "OK",
        "python says: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
