//! Clients and servers in separate processes, over real sockets.

mod common;

use common::ServerProcess;
use courier::{prelude::*, BearerToken, ErrorCode, Token};
use courier_examples::{Greeter, Ledger};
use jsonwebtoken::{EncodingKey, Header};
use std::{
    collections::HashMap,
    process::Command,
    time::{SystemTime, UNIX_EPOCH},
};

#[test]
fn a_client_process_calls_a_server_process() {
    let server = ServerProcess::start("solo");
    let output = Command::new(env!("CARGO_BIN_EXE_greeter-client"))
        .arg("2")
        .env("COURIER_PEERS", format!("greeter-component={}", server.url))
        .output()
        .expect("run greeter-client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "client failed: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(stdout.lines().collect::<Vec<_>>(), ["Hello, caller 0! (from solo)", "Hello, caller 1! (from solo)"]);
}

#[tokio::test]
async fn round_robin_spreads_calls_evenly_over_three_processes() {
    let servers: Vec<_> = ["a", "b", "c"].into_iter().map(ServerProcess::start).collect();
    let registry = LocalRegistry::new();
    for server in &servers {
        registry.add_peer("greeter-component", &server.url);
    }
    let greeter = ServiceManager::new(registry).get::<dyn Greeter>().expect("proxy");
    let mut counts = HashMap::new();
    for _ in 0..300 {
        *counts.entry(greeter.whoami().await.expect("whoami")).or_insert(0) += 1;
    }
    assert_eq!(counts, HashMap::from([("a".to_owned(), 100), ("b".to_owned(), 100), ("c".to_owned(), 100)]));
}

/// The secret this test and the server process sign and check tokens with.
const SECRET: &str = "a secret the test and the server process share";

/// A layer that sends a token for `ann` with these roles, signed with [`SECRET`].
fn token_with_roles(roles: &'static [&'static str]) -> BearerToken {
    BearerToken::new(move || async move {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let claims = serde_json::json!({ "sub": "ann", "roles": roles, "exp": now + 600 });
        let value = jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET.as_bytes()))
            .map_err(|error| ServiceError::internal(error.to_string()))?;
        Ok(Token { value, expires_in: None })
    })
}

#[tokio::test]
async fn a_protected_service_in_another_process_checks_the_token_and_sees_the_callers_context() {
    let server = ServerProcess::start_with("ledger", &[("COURIER_JWT_SECRET", SECRET)]);
    let registry = LocalRegistry::new();
    registry.add_peer("ledger-component", &server.url);
    let ledger = |layer: Option<BearerToken>| {
        let mut services = ServiceManager::builder().registry(registry.clone());
        if let Some(layer) = layer {
            services = services.layer(layer);
        }
        services.build().get::<dyn Ledger>().expect("proxy")
    };
    let acme = CallContext::default().with_metadata("tenant", "acme");

    let admin = ledger(Some(token_with_roles(&["admin"])));
    assert_eq!(acme.clone().scope(admin.audit()).await.expect("an admin's call"), "ann for acme");
    let guest = ledger(Some(token_with_roles(&["guest"])));
    assert_eq!(acme.clone().scope(guest.audit()).await.expect_err("no role").code, ErrorCode::Forbidden);
    let anonymous = ledger(None);
    assert_eq!(acme.scope(anonymous.audit()).await.expect_err("no token").code, ErrorCode::Unauthenticated);
}
