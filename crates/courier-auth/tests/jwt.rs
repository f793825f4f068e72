//! `JwtAuthenticator` on its own: what it accepts, what it refuses, and with which code.

use courier_auth::JwtAuthenticator;
use courier_core::{auth::Authenticator, auth::Credentials, ErrorCode};
use jsonwebtoken::{EncodingKey, Header};
use std::time::{SystemTime, UNIX_EPOCH};

const SECRET: &[u8] = b"a secret only this test knows";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

fn token(claims: serde_json::Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(secret)).expect("a token")
}

/// What the authenticator makes of `authorization: <value>`.
async fn authenticate(
    authenticator: &JwtAuthenticator,
    value: &str,
) -> Result<Option<courier_core::auth::Principal>, courier_core::ServiceError> {
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::AUTHORIZATION, value.parse().expect("a header value"));
    let extensions = http::Extensions::new();
    authenticator.authenticate(Credentials::new(&headers, &extensions)).await
}

#[tokio::test]
async fn a_valid_token_names_the_caller_and_its_roles() {
    let authenticator = JwtAuthenticator::hs256(SECRET);
    let value = token(serde_json::json!({"sub": "ann", "roles": ["admin"], "exp": now() + 60}), SECRET);
    let principal =
        authenticate(&authenticator, &format!("Bearer {value}")).await.expect("accepted").expect("a caller");
    assert_eq!((principal.name.as_str(), principal.roles.as_slice()), ("ann", &["admin".to_owned()][..]));
    assert_eq!(authenticator.challenge(), Some("Bearer realm=\"courier\""));
}

#[tokio::test]
async fn a_forged_expired_or_foreign_token_is_refused_as_unauthenticated() {
    let authenticator = JwtAuthenticator::hs256(SECRET).audience("billing").leeway(std::time::Duration::ZERO);
    let forged = token(serde_json::json!({"sub": "eve", "aud": "billing", "exp": now() + 60}), b"another secret");
    let expired = token(serde_json::json!({"sub": "ann", "aud": "billing", "exp": now() - 120}), SECRET);
    let foreign = token(serde_json::json!({"sub": "ann", "aud": "payroll", "exp": now() + 60}), SECRET);
    for (what, value) in [("forged", forged), ("expired", expired), ("for another audience", foreign)] {
        let refused = authenticate(&authenticator, &format!("Bearer {value}")).await.expect_err(what);
        assert_eq!(refused.code, ErrorCode::Unauthenticated, "{what}: {refused}");
    }
}
