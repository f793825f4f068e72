//! One trace id follows a call across processes' worth of hops: client → service A →
//! service B, over HTTP, each hop a `tracing` span that names its parent's span id.

use courier::{channel::TraceContext, prelude::*};
use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
};
use tracing::{
    field::{Field, Visit},
    span::{Attributes, Id, Record},
    Subscriber,
};
use tracing_subscriber::{layer::Context, prelude::*, registry::LookupSpan, Layer};

/// The spans of the process, with their fields, as a subscriber layer sees them.
#[derive(Default)]
struct Captured {
    spans: Mutex<HashMap<u64, Span>>,
}

#[derive(Debug, Clone, Default)]
struct Span {
    name: &'static str,
    fields: HashMap<String, String>,
    parent: Option<u64>,
}

impl Span {
    fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

struct Capture(&'static Captured);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        let mut span = Span {
            name: attributes.metadata().name(),
            parent: context.span(id).and_then(|span| span.parent()).map(|parent| parent.id().into_u64()),
            ..Span::default()
        };
        attributes.record(&mut Fields(&mut span.fields));
        self.0.spans.lock().expect("spans").insert(id.into_u64(), span);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some(span) = self.0.spans.lock().expect("spans").get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }
}

/// The process's spans; the subscriber is installed once, for every test of this file.
fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<&'static Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured: &'static Captured = Box::leak(Box::default());
        tracing_subscriber::registry().with(Capture(captured)).init();
        captured
    })
}

/// The courier spans of one trace, by tracing id.
fn trace(trace_id: &str) -> HashMap<u64, Span> {
    let spans = captured().spans.lock().expect("spans");
    spans
        .iter()
        .filter(|(_, span)| span.name.starts_with("courier.") && span.field("trace_id") == trace_id)
        .map(|(id, span)| (*id, span.clone()))
        .collect()
}

/// Service A: relays to service B.
#[service(name = "tracing-front")]
trait Front {
    async fn relay(&self, text: String) -> Result<String, ServiceError>;
}

/// Service B: the end of the chain.
#[service(name = "tracing-back")]
trait Back {
    async fn shout(&self, text: String) -> Result<String, ServiceError>;
}

#[component(name = "tracing-front-component", services = [Front])]
struct FrontComponent;

#[component(name = "tracing-back-component", services = [Back])]
struct BackComponent;

struct Relay {
    back: Arc<dyn Back>,
}

#[implementation(manual)]
impl Front for Relay {
    async fn relay(&self, text: String) -> Result<String, ServiceError> {
        self.back.shout(text).await
    }
}

#[derive(Default)]
struct Loud;

#[implementation]
impl Back for Loud {
    async fn shout(&self, text: String) -> Result<String, ServiceError> {
        Ok(format!("{}!", text.to_uppercase()))
    }
}

#[tokio::test]
async fn a_call_chain_client_to_a_to_b_shares_one_trace_id() {
    captured();
    let registry = LocalRegistry::new();
    let services = ServiceManager::new(registry.clone());
    let mut back = Server::builder().registry(registry.clone()).component(BackComponent).start().await.expect("B");
    let relay = Arc::new(Relay { back: services.get::<dyn Back>().expect("proxy of B") });
    let mut front = Server::builder()
        .registry(registry.clone())
        .component(FrontComponent)
        .service::<dyn Front>(relay)
        .start()
        .await
        .expect("A");
    assert_ne!(front.url(), back.url(), "two servers: each hop crosses HTTP");

    let front_proxy = services.get::<dyn Front>().expect("proxy of A");
    assert_eq!(front_proxy.relay("psst".into()).await.expect("the chain answers"), "PSST!");
    assert!(TraceContext::current().is_none(), "the caller's own task is left as it was");

    let spans = captured().spans.lock().expect("spans").clone();
    let first = spans
        .values()
        .find(|span| span.name == "courier.client" && span.field("service") == "tracing-front")
        .expect("the client's span of the call to A");
    let trace_id = first.field("trace_id").to_owned();
    assert_eq!(trace_id.len(), 32, "{first:?}");
    let chain = trace(&trace_id);
    let find = |name: &str, service: &str| {
        chain
            .iter()
            .find(|(_, span)| span.name == name && span.field("service") == service)
            .unwrap_or_else(|| panic!("no {name} span of {service} in the trace: {chain:#?}"))
    };
    let (_, client_a) = find("courier.client", "tracing-front");
    let (server_a_id, server_a) = find("courier.server", "tracing-front");
    let (_, client_b) = find("courier.client", "tracing-back");
    let (_, server_b) = find("courier.server", "tracing-back");
    assert_eq!(chain.len(), 4, "four hops, one trace: {chain:#?}");

    assert_eq!(client_a.field("parent_span_id"), "", "the client starts the trace");
    assert_eq!(server_a.field("parent_span_id"), client_a.field("span_id"), "A continues the client's span");
    assert_eq!(client_b.field("parent_span_id"), server_a.field("span_id"), "A's call to B is a child of A's span");
    assert_eq!(server_b.field("parent_span_id"), client_b.field("span_id"), "B continues A's call");
    assert_eq!(client_b.parent, Some(*server_a_id), "in-process, the tracing spans nest too");
    assert_eq!(server_b.parent, None, "B's span has no parent span in memory: only the header joins it to A");

    for span in chain.values() {
        assert_eq!(span.field("method"), if span.field("service") == "tracing-front" { "relay" } else { "shout" });
        assert_eq!(span.field("channel"), "dispatch-msgpack");
        assert_eq!(span.field("outcome"), "ok", "{span:?}");
        assert!(!span.field("instance").is_empty(), "{span:?}");
    }
    assert!(server_b.field("instance").starts_with("tracing-back-component-"), "{server_b:?}");
    assert_eq!(client_b.field("instance"), server_b.field("instance"), "the client names the instance it picked");

    front.shutdown().await.expect("A stops");
    back.shutdown().await.expect("B stops");
}

#[tokio::test]
async fn a_server_continues_a_w3c_traceparent_from_any_caller_and_ignores_a_malformed_one() {
    captured();
    let registry = LocalRegistry::new();
    let mut back = Server::builder().registry(registry).component(BackComponent).start().await.expect("B");
    let http = reqwest::Client::new();
    let url = format!("{}/invoke/tracing-back-component/tracing-back/shout", back.url());
    let call = |traceparent: &'static str| {
        http.post(&url)
            .header("content-type", "application/json")
            .header("traceparent", traceparent)
            .body(r#"{"text":"w3c"}"#)
            .send()
    };

    let response = call("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").await.expect("B answers");
    assert_eq!(response.text().await.expect("body"), r#""W3C!""#);
    let continued = trace("0af7651916cd43dd8448eb211c80319c");
    let span = continued.values().next().expect("B's span carries the caller's trace id");
    assert_eq!((span.name, span.field("parent_span_id")), ("courier.server", "b7ad6b7169203331"));
    assert_eq!(span.field("channel"), "dispatch-json");

    let malformed = "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01";
    call(malformed).await.expect("a malformed traceparent is no reason to refuse the call");
    assert!(trace("0af7651916cd43dd8448eb211c80319c").len() == 1, "a malformed header starts a trace of its own");
    back.shutdown().await.expect("B stops");
}

#[tokio::test]
async fn the_rest_channel_carries_the_trace_too() {
    use courier_samples::{Greeter, GreeterComponent};
    captured();
    let registry = LocalRegistry::new();
    let mut server =
        Server::builder().registry(registry.clone()).component(GreeterComponent).start().await.expect("server");
    let greeter = ServiceManager::new(registry).proxy::<dyn Greeter>().channel(ChannelKind::Rest).build();
    let name = format!("rest-{}", std::process::id());
    assert_eq!(greeter.expect("proxy").hello(name.clone()).await.expect("hello"), format!("Hello, {name}!"));

    let spans = captured().spans.lock().expect("spans").clone();
    let client = spans
        .values()
        .find(|span| span.name == "courier.client" && span.field("channel") == "rest")
        .expect("the client's span of the REST call");
    let chain = trace(client.field("trace_id"));
    let server_span = chain.values().find(|span| span.name == "courier.server").expect("the server continues it");
    assert_eq!(server_span.field("parent_span_id"), client.field("span_id"));
    assert_eq!((server_span.field("service"), server_span.field("method")), ("greeter", "hello"));
    assert_eq!((server_span.field("channel"), server_span.field("outcome")), ("rest", "ok"));
    server.shutdown().await.expect("clean shutdown");
}
