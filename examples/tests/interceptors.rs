//! Interceptors and the call context over real sockets: metadata set by a client layer
//! reaches the implementation, a failing layer stops the call before it is sent, and a
//! nested call carries the context on.

use courier::{prelude::*, CallService, ClientCall, Reply};
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    task::{Context, Poll},
};

/// Says which tenant the call is for, asking the next hop when told to.
#[service(name = "tenancy")]
pub trait Tenancy {
    async fn tenant(&self) -> Result<String, ServiceError>;
    async fn relay(&self) -> Result<String, ServiceError>;
}

#[component(name = "tenancy", services = [Tenancy])]
#[derive(Debug)]
pub struct TenancyComponent;

struct Teller {
    calls: Arc<AtomicUsize>,
    next: Option<Arc<dyn Tenancy>>,
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
    type Future = courier::BoxFuture<'static, Result<Reply, ServiceError>>;

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
    let _server = start(&registry, Teller { calls: Arc::clone(&calls), next: None }).await;
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
    let _back = start(&back_registry, Teller { calls: Arc::clone(&back_calls), next: None }).await;
    let next = ServiceManager::new(back_registry).get::<dyn Tenancy>().expect("proxy to the back");
    let _front = start(&front_registry, Teller { calls: Arc::default(), next: Some(next) }).await;
    let front = ServiceManager::new(front_registry).get::<dyn Tenancy>().expect("proxy to the front");
    let context = CallContext::default().with_metadata("tenant", "globex");
    assert_eq!(context.scope(front.relay()).await.expect("relayed"), "globex");
    assert_eq!(back_calls.load(Ordering::SeqCst), 1);
}
