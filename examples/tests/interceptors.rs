//! Interceptors and the call context over real sockets: metadata set by a client layer
//! reaches the implementation, a failing layer stops the call before it is sent, a
//! nested call carries the context on, and a server layer wraps one component's calls.

use axum::http::{HeaderValue, StatusCode};
use axum::{
    extract::Request,
    middleware::{self, Next},
    response::Response,
};
use courier::{
    channel::{Reply, TraceContext},
    client::{CallService, ClientCall},
    prelude::*,
    ErrorCode,
};
use courier_samples::{Greeter, GreeterComponent, Polite};
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

/// Says which tenant the call is for, asking the next hop when told to.
#[service(name = "tenancy")]
pub trait Tenancy {
    async fn tenant(&self) -> Result<String, ServiceError>;
    async fn relay(&self) -> Result<String, ServiceError>;
    async fn trace_id(&self) -> Result<String, ServiceError>;
    /// Answers after `millis`, counting the calls it is answering at once.
    async fn slow(&self, millis: u64) -> Result<(), ServiceError>;
}

#[component(name = "tenancy", services = [Tenancy])]
#[derive(Debug)]
pub struct TenancyComponent;

struct Teller {
    calls: Arc<AtomicUsize>,
    next: Option<Arc<dyn Tenancy>>,
    /// Calls of `slow` running now, and the most there were at once.
    running: Arc<(AtomicUsize, AtomicUsize)>,
}

#[implementation(manual)]
impl Tenancy for Teller {
    async fn tenant(&self) -> Result<String, ServiceError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(CallContext::current().metadata("tenant").unwrap_or("none").to_owned())
    }

    async fn relay(&self) -> Result<String, ServiceError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match &self.next {
            Some(next) => next.tenant().await,
            None => Err(ServiceError::internal("nowhere to relay")),
        }
    }

    async fn trace_id(&self) -> Result<String, ServiceError> {
        let trace = CallContext::current().trace().ok_or_else(|| ServiceError::internal("no trace context"))?;
        Ok(format!("{:032x}", trace.trace_id()))
    }

    async fn slow(&self, millis: u64) -> Result<(), ServiceError> {
        /// Counts the call out when it ends, or is dropped unfinished.
        struct Running<'a>(&'a AtomicUsize);
        impl Drop for Running<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let (now, most) = &*self.running;
        most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
        let _running = Running(now);
        tokio::time::sleep(Duration::from_millis(millis)).await;
        Ok(())
    }
}

/// Sets `tenant` on every call, or refuses every call.
#[derive(Clone)]
struct Tenant(Option<&'static str>);

impl tower::Layer<CallService> for Tenant {
    type Service = WithTenant;
    fn layer(&self, inner: CallService) -> WithTenant {
        WithTenant { tenant: self.0, inner }
    }
}

#[derive(Clone)]
struct WithTenant {
    tenant: Option<&'static str>,
    inner: CallService,
}

impl tower::Service<ClientCall> for WithTenant {
    type Response = Reply;
    type Error = ServiceError;
    type Future = courier::service::BoxFuture<'static, Result<Reply, ServiceError>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), ServiceError>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut call: ClientCall) -> Self::Future {
        let Some(tenant) = self.tenant else {
            return Box::pin(async {
                Err(ServiceError::new(courier::ErrorCode::Forbidden, "refused by the interceptor"))
            });
        };
        call.set_metadata("tenant", tenant);
        let future = self.inner.call(call);
        Box::pin(future)
    }
}

async fn start(registry: &LocalRegistry, teller: Teller) -> Server {
    Server::builder()
        .registry(registry.clone())
        .component(TenancyComponent)
        .service::<dyn Tenancy>(Arc::new(teller))
        .start()
        .await
        .expect("server starts")
}

#[tokio::test]
async fn an_interceptors_metadata_reaches_the_implementation_and_a_refusal_sends_nothing() {
    let registry = LocalRegistry::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let _server = start(&registry, Teller { calls: Arc::clone(&calls), next: None, running: Arc::default() }).await;
    let services = ServiceManager::builder().registry(registry).layer(Tenant(Some("acme"))).build();
    let tenancy = services.get::<dyn Tenancy>().expect("proxy");
    assert_eq!(tenancy.tenant().await.expect("tenant"), "acme");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let refusing = services.proxy::<dyn Tenancy>().layer(Tenant(None)).build().expect("proxy");
    let error = refusing.tenant().await.expect_err("the interceptor refuses");
    assert_eq!(error.code, courier::ErrorCode::Forbidden);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the refused call never reached the server");
}

#[tokio::test]
async fn a_nested_call_carries_the_context_on() {
    let (front_registry, back_registry) = (LocalRegistry::new(), LocalRegistry::new());
    let back_calls = Arc::new(AtomicUsize::new(0));
    let _back =
        start(&back_registry, Teller { calls: Arc::clone(&back_calls), next: None, running: Arc::default() }).await;
    let next = ServiceManager::new(back_registry).get::<dyn Tenancy>().expect("proxy to the back");
    let _front =
        start(&front_registry, Teller { calls: Arc::default(), next: Some(next), running: Arc::default() }).await;
    let front = ServiceManager::new(front_registry).get::<dyn Tenancy>().expect("proxy to the front");
    let context = CallContext::default().with_metadata("tenant", "globex");
    assert_eq!(context.scope(front.relay()).await.expect("relayed"), "globex");
    assert_eq!(back_calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_implementation_reads_the_callers_trace_from_the_context() {
    let registry = LocalRegistry::new();
    let _server = start(&registry, Teller { calls: Arc::default(), next: None, running: Arc::default() }).await;
    let tenancy = ServiceManager::new(registry).get::<dyn Tenancy>().expect("proxy");
    let caller = TraceContext::root();
    let seen = caller.scope(tenancy.trace_id()).await.expect("trace id");
    assert_eq!(seen, format!("{:032x}", caller.trace_id()));
}

#[tokio::test]
async fn towers_own_layers_wrap_a_proxy_timeouts_and_concurrency_limits_included() {
    let registry = LocalRegistry::new();
    let running = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let teller = Teller { calls: Arc::default(), next: None, running: Arc::clone(&running) };
    let _server = start(&registry, teller).await;
    let services = ServiceManager::new(registry);

    let one_at_a_time =
        services.proxy::<dyn Tenancy>().layer(tower::limit::ConcurrencyLimitLayer::new(1)).build().expect("proxy");
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let proxy = Arc::clone(&one_at_a_time);
        calls.spawn(async move { proxy.slow(50).await });
    }
    while let Some(done) = calls.join_next().await {
        done.expect("the call task").expect("the call");
    }
    assert_eq!(running.1.load(Ordering::SeqCst), 1, "the limit let one call through at a time");

    // The caller tells the server with a cancel frame, and the server drops the call.
    abandon_a_slow_call(&services, &running).await;
}

/// Gives up on a slow call with tower's `TimeoutLayer`, waits until the server stops it
/// (`running` counts the calls it runs), and calls again through the same proxy.
async fn abandon_a_slow_call(services: &ServiceManager, running: &(AtomicUsize, AtomicUsize)) {
    let impatient = services
        .proxy::<dyn Tenancy>()
        .layer(tower::timeout::TimeoutLayer::new(Duration::from_millis(100)))
        .build()
        .expect("proxy");
    assert_eq!(impatient.slow(10_000).await.expect_err("too slow").code, ErrorCode::Timeout);
    let stopped = || async { running.0.load(Ordering::SeqCst) == 0 };
    courier_test_support::wait_until(Duration::from_secs(5), "the server stops the abandoned call", stopped).await;
    impatient.slow(0).await.expect("the proxy serves on");
}

#[tokio::test]
async fn a_call_abandoned_over_http1_is_dropped_on_the_server_when_its_connection_closes() {
    let registry = LocalRegistry::new();
    let running = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let teller = Teller { calls: Arc::default(), next: None, running: Arc::clone(&running) };
    let _server = start(&registry, teller).await;
    let client = courier::client::HttpClient::builder().multiplex(false).build();
    let services = ServiceManager::builder().registry(registry).http_client(client).build();
    abandon_a_slow_call(&services, &running).await;
}

/// Lets through only requests that carry `x-api-key: open-sesame`, and marks its answers.
async fn api_key(request: Request, next: Next) -> Result<Response, StatusCode> {
    if request.headers().get("x-api-key").is_none_or(|key| key != "open-sesame") {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let mut response = next.run(request).await;
    response.headers_mut().insert("x-guarded-by", HeaderValue::from_static("api-key"));
    Ok(response)
}

/// Sends `x-api-key` with every call.
#[derive(Clone)]
struct ApiKey;

impl tower::Layer<CallService> for ApiKey {
    type Service = tower::util::MapRequest<CallService, fn(ClientCall) -> ClientCall>;
    fn layer(&self, inner: CallService) -> Self::Service {
        tower::util::MapRequest::new(inner, |mut call: ClientCall| {
            call.headers.insert("x-api-key", HeaderValue::from_static("open-sesame"));
            call
        })
    }
}

/// The greeter behind the `api_key` layer, tenancy beside it without one; with a
/// server-wide layer too when `wide`, so calls go through the router, not the fast path.
async fn guarded_server(registry: &LocalRegistry, wide: bool) -> Server {
    let mut builder = Server::builder()
        .registry(registry.clone())
        .component_with_layer(GreeterComponent, middleware::from_fn(api_key))
        .service::<dyn Greeter>(Polite::named("guarded"))
        .component(TenancyComponent)
        .service::<dyn Tenancy>(Arc::new(Teller { calls: Arc::default(), next: None, running: Arc::default() }))
        .channels([ChannelKind::DispatchMsgpack, ChannelKind::Rest]);
    if wide {
        builder = builder.layer(tower::util::MapResponseLayer::new(|response: Response| response));
    }
    builder.start().await.expect("server starts")
}

#[tokio::test]
async fn a_component_layer_wraps_that_components_calls_on_every_channel_and_no_others() {
    for wide in [false, true] {
        let registry = LocalRegistry::new();
        let server = guarded_server(&registry, wide).await;
        let services = ServiceManager::new(registry.clone());

        let refused = services.get::<dyn Greeter>().expect("proxy").hello("ann".into()).await;
        assert_eq!(refused.expect_err("no key").code, ErrorCode::Unauthenticated, "server-wide layer: {wide}");
        let rest = services.proxy::<dyn Greeter>().channel(ChannelKind::Rest).build().expect("rest proxy");
        assert_eq!(rest.hello("ann".into()).await.expect_err("no key").code, ErrorCode::Unauthenticated);

        let keyed = ServiceManager::builder().registry(registry).layer(ApiKey).build();
        assert!(keyed.get::<dyn Greeter>().expect("proxy").hello("ann".into()).await.expect("key").contains("ann"));
        let rest = keyed.proxy::<dyn Greeter>().channel(ChannelKind::Rest).build().expect("rest proxy");
        assert!(rest.hello("bob".into()).await.expect("key").contains("bob"));

        assert_eq!(services.get::<dyn Tenancy>().expect("proxy").tenant().await.expect("no layer"), "none");

        let http = reqwest::Client::new();
        let guarded = http.get(format!("{}/api/hello/cy", server.url())).header("x-api-key", "open-sesame");
        let response = guarded.send().await.expect("answer");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers().get("x-guarded-by").map(|v| v.as_bytes()), Some(&b"api-key"[..]));
        let tenancy = http
            .post(format!("{}/invoke/tenancy/tenancy/tenant", server.url()))
            .header("content-type", "application/json")
            .body("{}");
        let response = tenancy.send().await.expect("answer");
        assert_eq!(response.status(), StatusCode::OK, "server-wide layer: {wide}");
        assert!(response.headers().get("x-guarded-by").is_none(), "tenancy is not behind the layer");
    }
}
