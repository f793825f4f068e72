use courier_core::{
    auth::{credential, Authenticator, Credentials, Principal},
    BoxFuture, ErrorCode, ServiceError,
};
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::fmt;

/// Bearer JWTs: `Authorization: Bearer <token>`, signed with HS256, RS256 or ES256.
///
/// `exp` is required and checked, `nbf` checked when present, and `aud` and `iss` when
/// configured. The principal is the `sub` claim, its roles the `roles` claim (an array
/// of strings, or a space-separated string such as OAuth's `scope`).
///
/// ```
/// # mod courier { pub use courier_auth::*; pub mod auth { pub use courier_auth::*; } }
/// use courier::auth::JwtAuthenticator;
/// let authenticator = JwtAuthenticator::hs256(b"a secret of at least 32 bytes....")
///     .audience("orders")
///     .issuer("https://login.example.com");
/// ```
#[derive(Clone)]
pub struct JwtAuthenticator {
    key: DecodingKey,
    validation: Validation,
    roles_claim: String,
    /// Claims a token must carry, with these values.
    required: Vec<(String, String)>,
}

impl fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuthenticator")
            .field("algorithms", &self.validation.algorithms)
            .field("roles_claim", &self.roles_claim)
            .field("required", &self.required)
            .field("leeway_s", &self.validation.leeway)
            .finish_non_exhaustive()
    }
}

impl JwtAuthenticator {
    fn new(key: DecodingKey, algorithm: Algorithm) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.validate_nbf = true;
        validation.validate_aud = false;
        Self { key, validation, roles_claim: "roles".into(), required: Vec::new() }
    }

    /// Tokens signed with HMAC-SHA256 and this shared secret.
    pub fn hs256(secret: &[u8]) -> Self {
        Self::new(DecodingKey::from_secret(secret), Algorithm::HS256)
    }

    /// Tokens signed with RSA-SHA256; `pem` is the public key.
    pub fn rs256_pem(pem: &[u8]) -> Result<Self, ServiceError> {
        let key = DecodingKey::from_rsa_pem(pem)
            .map_err(|error| ServiceError::bad_request(format!("bad RSA key: {error}")))?;
        Ok(Self::new(key, Algorithm::RS256))
    }

    /// Tokens signed with ECDSA P-256 SHA-256; `pem` is the public key.
    pub fn es256_pem(pem: &[u8]) -> Result<Self, ServiceError> {
        let key =
            DecodingKey::from_ec_pem(pem).map_err(|error| ServiceError::bad_request(format!("bad EC key: {error}")))?;
        Ok(Self::new(key, Algorithm::ES256))
    }

    /// Accepts only tokens whose `aud` names this audience.
    pub fn audience(mut self, audience: &str) -> Self {
        self.validation.set_audience(&[audience]);
        self.validation.validate_aud = true;
        self
    }

    /// Accepts only tokens whose `iss` is this issuer.
    pub fn issuer(mut self, issuer: &str) -> Self {
        self.validation.set_issuer(&[issuer]);
        self
    }

    /// Accepts only tokens whose claim `name` is `value` (or, for a list, holds it): for
    /// example `require_claim("type", "access")`, so that a refresh token is not taken
    /// for an access token.
    pub fn require_claim(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.required.push((name.into(), value.into()));
        self
    }

    /// How far `exp` and `nbf` may be off, for clocks that differ. Default: 60 s.
    pub fn leeway(mut self, leeway: std::time::Duration) -> Self {
        self.validation.leeway = leeway.as_secs();
        self
    }

    /// The claim that lists the roles. Default: `roles`.
    pub fn roles_claim(mut self, claim: impl Into<String>) -> Self {
        self.roles_claim = claim.into();
        self
    }

    fn verify(&self, token: &str) -> Result<Principal, ServiceError> {
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &self.validation).map_err(|error| {
            let reason = match error.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::ImmatureSignature => "the token is not valid yet",
                ErrorKind::InvalidAudience => "the token is for another audience",
                ErrorKind::InvalidIssuer => "the token is from another issuer",
                ErrorKind::InvalidSignature => "the token's signature does not verify",
                ErrorKind::InvalidAlgorithm => "the token is signed with another algorithm",
                ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim (exp)",
                _ => "the token is malformed",
            };
            ServiceError::new(ErrorCode::Unauthenticated, reason)
        })?;
        let claims = data.claims;
        for (claim, wanted) in &self.required {
            let holds = match claims.get(claim) {
                Some(Value::String(value)) => value == wanted,
                Some(Value::Array(values)) => values.iter().any(|value| value.as_str() == Some(wanted.as_str())),
                _ => false,
            };
            if !holds {
                return Err(ServiceError::new(
                    ErrorCode::Unauthenticated,
                    format!("the token's `{claim}` claim is not `{wanted}`"),
                ));
            }
        }
        let name = claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_owned();
        let roles = match claims.get(&self.roles_claim) {
            Some(Value::Array(roles)) => roles.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            Some(Value::String(roles)) => roles.split_whitespace().map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        Ok(Principal { name, roles })
    }
}

impl Authenticator for JwtAuthenticator {
    fn authenticate<'a>(
        &'a self,
        credentials: Credentials<'a>,
    ) -> BoxFuture<'a, Result<Option<Principal>, ServiceError>> {
        Box::pin(async move {
            match credential(credentials.headers, "Bearer")? {
                Some(token) => self.verify(token).map(Some),
                None => Ok(None),
            }
        })
    }

    fn challenge(&self) -> Option<&str> {
        Some("Bearer realm=\"courier\"")
    }
}
