//! An interceptor that attaches a bearer token to every call, fetching a new one when the
//! last has expired or the server refused it.

use crate::{call::ClientCall, CallService};
use courier_core::{BoxFuture, ErrorCode, Reply, ServiceError};
use http::{header, HeaderValue};
use std::{
    fmt,
    future::Future,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};
use tokio::sync::Mutex;
use tower::ServiceExt;

/// A token and how long it stays good. Its `Debug` shows `<redacted>` for the value.
#[derive(Clone)]
pub struct Token {
    /// The bearer token.
    pub value: String,
    /// How long from now it may be used; `None`: until the server refuses it.
    pub expires_in: Option<Duration>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token").field("value", &"<redacted>").field("expires_in", &self.expires_in).finish()
    }
}

type Fetch = Arc<dyn Fn() -> BoxFuture<'static, Result<Token, ServiceError>> + Send + Sync>;

/// A tower layer that sends `Authorization: Bearer <token>` with every call. The token
/// comes from `fetch`, and is fetched again shortly before it expires; calls wait for a
/// fetch in progress rather than starting their own. When the server answers 401 (the
/// token was revoked, or its clock disagrees), the layer fetches a new token and sends
/// the call once more: a 401 means the method did not run.
///
/// ```
/// # mod courier { pub use courier_client::*; pub mod client { pub use courier_client::*; } }
/// use courier::{ServiceManager, client::{BearerToken, Token}};
/// let services = ServiceManager::builder()
///     .layer(BearerToken::new(|| async {
///         Ok(Token { value: "eyJ...".into(), expires_in: Some(std::time::Duration::from_secs(300)) })
///     }))
///     .build();
/// ```
#[derive(Clone)]
pub struct BearerToken {
    fetch: Fetch,
    cached: Arc<Mutex<Option<Cached>>>,
}

/// The `Authorization` value of the last token, and when it expires.
type Cached = (HeaderValue, Option<Instant>);

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerToken").finish_non_exhaustive()
    }
}

/// Tokens are renewed this long before they expire, so none expires in flight.
const RENEW_EARLY: Duration = Duration::from_secs(5);

impl BearerToken {
    /// A layer that gets its tokens from `fetch`.
    pub fn new<F, Fut>(fetch: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Token, ServiceError>> + Send + 'static,
    {
        Self { fetch: Arc::new(move || Box::pin(fetch())), cached: Arc::default() }
    }

    async fn header(&self) -> Result<HeaderValue, ServiceError> {
        let mut cached = self.cached.lock().await;
        if let Some((value, expires)) = cached.as_ref() {
            if expires.is_none_or(|expires| Instant::now() + RENEW_EARLY < expires) {
                return Ok(value.clone());
            }
        }
        let token = (self.fetch)().await?;
        let mut value = HeaderValue::try_from(format!("Bearer {}", token.value))
            .map_err(|_| ServiceError::internal("the token is not a valid header value"))?;
        // Printed as `Sensitive` wherever the call's headers are logged.
        value.set_sensitive(true);
        *cached = Some((value.clone(), token.expires_in.map(|valid| Instant::now() + valid)));
        Ok(value)
    }

    /// Drops the cached token if it is still `refused`, so the next call fetches another;
    /// a token fetched since by another call stays.
    async fn forget(&self, refused: &HeaderValue) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|(value, _)| value == refused) {
            *cached = None;
        }
    }
}

impl tower::Layer<CallService> for BearerToken {
    type Service = WithToken;

    fn layer(&self, inner: CallService) -> WithToken {
        WithToken { token: self.clone(), inner }
    }
}

/// A call service that adds a bearer token. Made by [`BearerToken`].
#[derive(Clone, Debug)]
pub struct WithToken {
    token: BearerToken,
    inner: CallService,
}

impl tower::Service<ClientCall> for WithToken {
    type Response = Reply;
    type Error = ServiceError;
    type Future = BoxFuture<'static, Result<Reply, ServiceError>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), ServiceError>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut call: ClientCall) -> Self::Future {
        let token = self.token.clone();
        // The service that was polled ready takes the call; a fresh clone waits its turn.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        Box::pin(async move {
            let sent = token.header().await?;
            let mut again = call.clone();
            call.headers.insert(header::AUTHORIZATION, sent.clone());
            match inner.call(call).await {
                Err(error) if error.code == ErrorCode::Unauthenticated => {
                    token.forget(&sent).await;
                    again.headers.insert(header::AUTHORIZATION, token.header().await?);
                    inner.ready().await?.call(again).await
                }
                answered => answered,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_are_never_printed() {
        let token = Token { value: "eyJ.s3cret.sig".into(), expires_in: Some(Duration::from_secs(60)) };
        let printed = format!("{token:?}");
        assert!(!printed.contains("s3cret") && printed.contains("<redacted>"), "{printed}");
        let bearer = BearerToken::new(move || {
            let token = token.clone();
            async move { Ok(token) }
        });
        let header = bearer.header().await.unwrap();
        assert_eq!(format!("{header:?}"), "Sensitive");
        assert!(!format!("{bearer:?}").contains("s3cret"));
    }
}
