//! A service only admins may call: the server checks each call's bearer token, the
//! client attaches one to every call. The token is signed here; in real life it comes
//! from your identity provider.

use courier::{
    auth::JwtAuthenticator,
    client::{BearerToken, Token},
    prelude::*,
};
use jsonwebtoken::{EncodingKey, Header};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const KEY: &[u8] = b"the secret the identity provider signs with";

#[service]
#[authorize(roles = ["admin"])]
pub trait Vault {
    async fn secret(&self) -> Result<String, ServiceError>;
}

#[component(services = [Vault])]
struct VaultComponent;

#[derive(Default)]
struct Keeper;

#[implementation]
impl Vault for Keeper {
    async fn secret(&self) -> Result<String, ServiceError> {
        let caller = CallContext::current().principal().map(|who| who.name.clone()).unwrap_or_default();
        Ok(format!("the launch codes, for {caller}"))
    }
}

/// What an identity provider hands out: a JWT naming the caller and their roles.
async fn login() -> Result<Token, ServiceError> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let claims = serde_json::json!({ "sub": "ann", "roles": ["admin"], "exp": now + 300 });
    let token = jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(KEY))
        .map_err(|error| ServiceError::internal(error.to_string()))?;
    Ok(Token { value: token, expires_in: Some(Duration::from_secs(300)) })
}

#[tokio::main]
async fn main() -> Result<(), Report> {
    // Server: checks each call's bearer JWT, then the method's roles.
    let auth = JwtAuthenticator::hs256(KEY);
    let mut server = Server::builder().component(VaultComponent).authenticator(auth).start().await?;

    // Client: a token on every call, fetched again before it expires.
    let services = ServiceManager::builder().layer(BearerToken::new(login)).build();
    println!("{}", services.get::<dyn Vault>()?.secret().await?);

    // Without a token, the call is refused before the method runs.
    let refused = ServiceManager::default().get::<dyn Vault>()?.secret().await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Unauthenticated);
    println!("without a token: {}", refused.message);

    server.shutdown().await?;
    Ok(())
}
