//! Authentication and authorization on the dispatch and REST channels, over real
//! sockets, and in-process on the local channel.

use base64::Engine;
use courier::{
    auth::{Authenticator, BasicAuthenticator, JwtAuthenticator, Principal},
    client::{BearerToken, Token},
    prelude::*,
    ErrorCode,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

const SECRET: &[u8] = b"a shared secret of 32 bytes or more";
const RSA_PRIVATE: &[u8] = include_bytes!("keys/rsa.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("keys/rsa.pub.pem");
const EC_PRIVATE: &[u8] = include_bytes!("keys/ec.pem");
const EC_PUBLIC: &[u8] = include_bytes!("keys/ec.pub.pem");

/// Keeps secrets for admins.
#[service(name = "vault")]
#[rest("/vault")]
#[authorize(roles = ["admin"])]
pub trait Vault {
    /// Admins only: the secret, addressed to the caller.
    #[get("/secret")]
    async fn secret(&self) -> Result<String, ServiceError>;

    /// Anyone authenticated: who the caller is.
    #[authorize]
    #[get("/me")]
    async fn me(&self) -> Result<String, ServiceError>;

    /// Anyone at all.
    #[public]
    #[get("/motd")]
    async fn motd(&self) -> Result<String, ServiceError>;
}

#[component(name = "vault-component", services = [Vault])]
#[derive(Debug)]
pub struct VaultComponent;

#[derive(Default)]
struct Keeper;

#[implementation]
impl Vault for Keeper {
    async fn secret(&self) -> Result<String, ServiceError> {
        let context = CallContext::current();
        let name = context.principal().map(|principal| principal.name.clone()).unwrap_or_default();
        Ok(format!("the secret, for {name}"))
    }

    async fn me(&self) -> Result<String, ServiceError> {
        Ok(CallContext::current().principal().map(|principal| principal.name.clone()).unwrap_or_default())
    }

    async fn motd(&self) -> Result<String, ServiceError> {
        Ok("be kind".into())
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or_default()
}

fn claims(subject: &str, roles: &[&str]) -> Value {
    json!({ "sub": subject, "roles": roles, "exp": now() + 600, "aud": "vault", "iss": "tests" })
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret)).expect("token")
}

fn jwt() -> JwtAuthenticator {
    JwtAuthenticator::hs256(SECRET).audience("vault").issuer("tests")
}

async fn start(authenticator: impl Authenticator) -> Server {
    start_in(LocalRegistry::new(), authenticator).await
}

async fn start_in(registry: LocalRegistry, authenticator: impl Authenticator) -> Server {
    Server::builder()
        .registry(registry)
        .component(VaultComponent)
        .channels([ChannelKind::DispatchJson, ChannelKind::Rest])
        .authenticator(authenticator)
        .start()
        .await
        .expect("server starts")
}

/// One call of `method` on both channels, with this `Authorization` header.
async fn call_both(
    server: &Server,
    method: &str,
    authorization: Option<&str>,
) -> [(StatusCode, Value, Option<String>); 2] {
    let http = reqwest::Client::new();
    let dispatch = http
        .post(format!("{}/invoke/vault-component/vault/{method}", server.url()))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{}");
    let rest = http.get(format!("{}/vault/{method}", server.url()));
    let mut answers = Vec::new();
    for mut request in [dispatch, rest] {
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        let response = request.send().await.expect("the server answers");
        let challenge =
            response.headers().get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let status = response.status();
        answers.push((status, response.json().await.expect("a JSON body"), challenge));
    }
    [answers.remove(0), answers.remove(0)]
}

async fn refused(server: &Server, method: &str, authorization: Option<&str>, status: StatusCode, says: &str) {
    for (got, body, challenge) in call_both(server, method, authorization).await {
        assert_eq!(got, status, "{body}");
        assert!(body["message"].as_str().is_some_and(|message| message.contains(says)), "{body} should say {says}");
        if status == StatusCode::UNAUTHORIZED {
            assert!(challenge.is_some_and(|challenge| challenge.starts_with("Bearer")), "401 carries a challenge");
        }
    }
}

#[tokio::test]
async fn bad_credentials_are_401_and_a_missing_role_is_403_on_dispatch_and_rest() {
    let server = start(jwt()).await;
    refused(&server, "secret", None, StatusCode::UNAUTHORIZED, "credential").await;

    let expired =
        hs256(&json!({ "sub": "ann", "roles": ["admin"], "exp": now() - 600, "aud": "vault", "iss": "tests" }), SECRET);
    refused(&server, "secret", Some(&format!("Bearer {expired}")), StatusCode::UNAUTHORIZED, "expired").await;

    let elsewhere =
        hs256(&json!({ "sub": "ann", "roles": ["admin"], "exp": now() + 600, "aud": "shop", "iss": "tests" }), SECRET);
    refused(&server, "secret", Some(&format!("Bearer {elsewhere}")), StatusCode::UNAUTHORIZED, "audience").await;

    let forged = hs256(&claims("ann", &["admin"]), b"somebody else's secret, 32 bytes+");
    refused(&server, "secret", Some(&format!("Bearer {forged}")), StatusCode::UNAUTHORIZED, "signature").await;

    let guest = hs256(&claims("bob", &["guest"]), SECRET);
    refused(&server, "secret", Some(&format!("Bearer {guest}")), StatusCode::FORBIDDEN, "admin").await;
    for (status, body, _) in call_both(&server, "me", Some(&format!("Bearer {guest}"))).await {
        assert_eq!((status, body), (StatusCode::OK, json!("bob")), "any authenticated caller may ask who they are");
    }
}

#[tokio::test]
async fn required_claims_refuse_refresh_tokens_and_the_leeway_bounds_clock_skew() {
    let server = start(jwt().require_claim("type", "access").leeway(Duration::from_secs(5))).await;
    let with = |kind: Option<&str>, exp: u64| {
        let mut claims = claims("ann", &["admin"]);
        claims["exp"] = json!(exp);
        if let Some(kind) = kind {
            claims["type"] = json!(kind);
        }
        format!("Bearer {}", hs256(&claims, SECRET))
    };
    refused(&server, "secret", Some(&with(Some("refresh"), now() + 600)), StatusCode::UNAUTHORIZED, "`type`").await;
    refused(&server, "secret", Some(&with(None, now() + 600)), StatusCode::UNAUTHORIZED, "`type` claim").await;
    // Expired 3 s ago: within the 5 s leeway. 30 s ago: not.
    for (status, body, _) in call_both(&server, "secret", Some(&with(Some("access"), now() - 3))).await {
        assert_eq!((status, body), (StatusCode::OK, json!("the secret, for ann")));
    }
    refused(&server, "secret", Some(&with(Some("access"), now() - 30)), StatusCode::UNAUTHORIZED, "expired").await;
    let printed = format!("{:?}", jwt().require_claim("type", "access"));
    assert!(!printed.contains(std::str::from_utf8(SECRET).unwrap()), "{printed}");
}

#[tokio::test]
async fn a_valid_token_with_the_role_runs_the_method_which_sees_the_principal() {
    let server = start(jwt()).await;
    let admin = hs256(&claims("ann", &["admin"]), SECRET);
    for (status, body, _) in call_both(&server, "secret", Some(&format!("Bearer {admin}"))).await {
        assert_eq!((status, body), (StatusCode::OK, json!("the secret, for ann")));
    }
    for (status, body, _) in call_both(&server, "motd", None).await {
        assert_eq!((status, body), (StatusCode::OK, json!("be kind")), "public methods need no credential");
    }
}

#[tokio::test]
async fn rs256_and_es256_tokens_verify_with_public_keys() {
    let claims = claims("ann", &["admin"]);
    let cases = [
        (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(RSA_PRIVATE).expect("RSA key"),
            JwtAuthenticator::rs256_pem(RSA_PUBLIC),
        ),
        (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(EC_PRIVATE).expect("EC key"),
            JwtAuthenticator::es256_pem(EC_PUBLIC),
        ),
    ];
    for (algorithm, key, authenticator) in cases {
        let server = start(authenticator.expect("public key").audience("vault").issuer("tests")).await;
        let token = jsonwebtoken::encode(&Header::new(algorithm), &claims, &key).expect("token");
        for (status, body, _) in call_both(&server, "secret", Some(&format!("Bearer {token}"))).await {
            assert_eq!((status, body), (StatusCode::OK, json!("the secret, for ann")), "{algorithm:?}");
        }
        let hs = hs256(&claims, SECRET);
        refused(&server, "secret", Some(&format!("Bearer {hs}")), StatusCode::UNAUTHORIZED, "algorithm").await;
    }
}

#[tokio::test]
async fn basic_auth_checks_the_password_against_the_users_file() {
    let users =
        format!("# name:hash:roles\nann:{}:admin\n", courier::auth::hash_password("correct horse").expect("hash"));
    let server = start(BasicAuthenticator::parse(&users).expect("users")).await;
    let basic = |credentials: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials));
    for (status, body, _) in call_both(&server, "secret", Some(&basic("ann:correct horse"))).await {
        assert_eq!((status, body), (StatusCode::OK, json!("the secret, for ann")));
    }
    for (status, body, challenge) in call_both(&server, "secret", Some(&basic("ann:wrong horse"))).await {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert!(challenge.is_some_and(|challenge| challenge.starts_with("Basic")));
    }
    let (status, _, _) = &call_both(&server, "secret", Some(&basic("nobody:correct horse"))).await[0];
    assert_eq!(*status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_authorization_headers_get_401_and_never_break_the_server() {
    let server = start(jwt()).await;
    let http = reqwest::Client::new();
    let mut rng = fastrand::Rng::with_seed(7);
    let mut values: Vec<Vec<u8>> = vec![
        b"Bearer".to_vec(),
        b"Bearer ".to_vec(),
        b"Bearer a.b.c".to_vec(),
        b"Bearer ....".to_vec(),
        b"Basic !!!!".to_vec(),
        b"Digest username=\"ann\"".to_vec(),
        b"bearer eyJ0eXAiOiJKV1QifQ.e30.".to_vec(),
        format!("Bearer {}", "A".repeat(16 * 1024)).into_bytes(),
    ];
    for _ in 0..200 {
        let length = rng.usize(1..300);
        // Visible ASCII, spaces and obs-text: everything a header value may hold.
        values.push((0..length).map(|_| if rng.bool() { rng.u8(0x20..0x7f) } else { rng.u8(0x80..=0xff) }).collect());
    }
    for value in values {
        let header = header::HeaderValue::from_bytes(&value).expect("a valid header value");
        let response = http
            .get(format!("{}/vault/secret", server.url()))
            .header(header::AUTHORIZATION, header)
            .send()
            .await
            .expect("the server answers every request");
        assert!(
            matches!(response.status(), StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED),
            "{} for {:?}",
            response.status(),
            String::from_utf8_lossy(&value)
        );
    }
    let admin = hs256(&claims("ann", &["admin"]), SECRET);
    let (status, _, _) = &call_both(&server, "secret", Some(&format!("Bearer {admin}"))).await[1];
    assert_eq!(*status, StatusCode::OK, "still serving");
}

#[tokio::test]
async fn the_local_channel_checks_the_callers_principal_from_the_context() {
    let mut server = Server::builder()
        .registry(LocalRegistry::new())
        .component(VaultComponent)
        .start()
        .await
        .expect("server starts");
    let vault = ServiceManager::default().proxy::<dyn Vault>().channel(ChannelKind::Local).build().expect("local");
    assert_eq!(vault.secret().await.expect_err("no principal").code, ErrorCode::Unauthenticated);
    let guest = CallContext::default().with_principal(Some(Principal::new("bob", ["guest"])));
    assert_eq!(guest.scope(vault.secret()).await.expect_err("no role").code, ErrorCode::Forbidden);
    let admin = CallContext::default().with_principal(Some(Principal::new("ann", ["admin"])));
    assert_eq!(admin.scope(vault.secret()).await.expect("admin"), "the secret, for ann");
    assert_eq!(vault.motd().await.expect("public"), "be kind");
    server.shutdown().await.expect("clean shutdown");
}

/// A proxy to `vault` whose calls carry tokens from a [`BearerToken`] layer. The n-th
/// token fetched (from 1) names `user-n`, lasts `lifetime`, and is signed with a key the
/// server knows unless `forged(n)`.
fn vault_with_tokens(
    registry: LocalRegistry,
    lifetime: Option<Duration>,
    forged: fn(usize) -> bool,
) -> (Arc<dyn Vault>, Arc<AtomicUsize>) {
    let fetched = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&fetched);
    let tokens = BearerToken::new(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            let key: &[u8] = if forged(n) { b"not the server's secret, but as long" } else { SECRET };
            Ok(Token { value: hs256(&claims(&format!("user-{n}"), &["admin"]), key), expires_in: lifetime })
        }
    });
    let services = ServiceManager::builder().registry(registry).layer(tokens).build();
    (services.proxy::<dyn Vault>().channel(ChannelKind::DispatchJson).build().expect("proxy"), fetched)
}

#[tokio::test]
async fn a_bearer_token_is_fetched_once_shared_renewed_before_expiry_and_replaced_when_refused() {
    let registry = LocalRegistry::new();
    let _server = start_in(registry.clone(), jwt()).await;

    // A long-lived token: fetched once, for concurrent calls too.
    let (vault, fetched) = vault_with_tokens(registry.clone(), Some(Duration::from_secs(600)), |_| false);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let vault = Arc::clone(&vault);
        calls.spawn(async move { vault.me().await });
    }
    while let Some(name) = calls.join_next().await {
        assert_eq!(name.expect("the call task").expect("a valid token"), "user-1");
    }
    assert_eq!(fetched.load(Ordering::SeqCst), 1);

    // A token about to expire is renewed before the call, not after the server refuses it.
    let (vault, fetched) = vault_with_tokens(registry.clone(), Some(Duration::from_secs(1)), |_| false);
    for n in 1..=3 {
        assert_eq!(vault.me().await.expect("renewed token"), format!("user-{n}"));
    }
    assert_eq!(fetched.load(Ordering::SeqCst), 3);

    // A token the server refuses is replaced, and the call sent again once.
    let (vault, fetched) = vault_with_tokens(registry.clone(), None, |n| n == 1);
    assert_eq!(vault.me().await.expect("the second token is good"), "user-2");
    assert_eq!(vault.me().await.expect("kept"), "user-2");
    assert_eq!(fetched.load(Ordering::SeqCst), 2);

    // Once only: a second refusal is the caller's answer.
    let (vault, fetched) = vault_with_tokens(registry, None, |_| true);
    assert_eq!(vault.me().await.expect_err("every token is forged").code, ErrorCode::Unauthenticated);
    assert_eq!(fetched.load(Ordering::SeqCst), 2);
}
