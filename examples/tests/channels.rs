//! Every channel carries the recursive payload and a domain error intact.

use courier::{prelude::*, ErrorCode};
use courier_samples::{Greeter, GreeterComponent, GreetingError, Node, Sample};

const CHANNELS: [ChannelKind; 5] = [
    ChannelKind::Local,
    ChannelKind::DispatchJson,
    ChannelKind::DispatchMsgpack,
    ChannelKind::DispatchProtobuf,
    ChannelKind::Rest,
];

#[tokio::test]
async fn every_channel_round_trips_the_recursive_struct_and_a_domain_error() {
    let registry = LocalRegistry::new();
    let mut server =
        Server::builder().registry(registry.clone()).component(GreeterComponent).start().await.expect("server starts");
    // Multiplexed connections (the default), and one HTTP/1.1 request per connection.
    let http1 = courier::client::HttpClient::builder().multiplex(false).build();
    let managers = [
        ServiceManager::new(registry.clone()),
        ServiceManager::builder().registry(registry).http_client(http1).build(),
    ];
    let tree = Node::tree(2, 3);
    assert_eq!(tree.count(), 13);

    for (channel, services) in CHANNELS.into_iter().flat_map(|channel| managers.iter().map(move |m| (channel, m))) {
        let greeter = services.proxy::<dyn Greeter>().channel(channel).build().expect("proxy");
        assert_eq!(greeter.echo(tree.clone()).await.expect("echo"), tree, "{channel}");
        let sample = Sample::full();
        assert_eq!(greeter.inspect(sample.clone()).await.expect("inspect"), sample, "{channel}");
        assert_eq!(greeter.inspect(Sample::default()).await.expect("inspect"), Sample::default(), "{channel}");
        greeter.ping().await.expect("ping");
        let renamed = greeter.rename(7, Some("seven / 7?".into()), tree.clone()).await.expect("rename");
        assert_eq!((renamed.id, renamed.name.as_str(), renamed.children.len()), (7, "seven / 7?", 3), "{channel}");
        assert_eq!(greeter.hello("a b/c".into()).await.expect("hello"), "Hello, a b/c!", "{channel}");
        assert_eq!(greeter.greet("Ann".into(), true).await.expect("greet"), "Hello, Ann!", "{channel}");
        let refused = greeter.greet("Mallory".into(), false).await.expect_err("Mallory is refused");
        assert_eq!(
            refused,
            GreetingError::Refused { name: "Mallory".into(), reason: "on the list".into() },
            "{channel}"
        );
    }
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_fault_of_courier_reaches_a_domain_error_type_through_from() {
    let greeter = ServiceManager::new(LocalRegistry::new()).get::<dyn Greeter>().expect("proxy");
    let error = greeter.greet("Ann".into(), true).await.expect_err("nothing serves the component");
    let GreetingError::Courier(fault) = error else { panic!("expected a courier fault, got {error:?}") };
    assert_eq!(fault.code, ErrorCode::Unavailable);
    assert!(fault.message.contains("greeter-component"), "{fault}");
}

#[tokio::test]
async fn the_local_channel_needs_a_running_implementation() {
    #[service(name = "nobody-runs-this")]
    trait Lonely {
        async fn ping(&self) -> Result<(), ServiceError>;
    }
    let error = ServiceManager::default()
        .proxy::<dyn Lonely>()
        .channel(ChannelKind::Local)
        .build()
        .map(|_| ())
        .expect_err("nothing runs it");
    assert_eq!(error.code, ErrorCode::Unavailable);
}

/// Answers in capitals.
#[service(name = "shouter")]
pub trait Shouter {
    async fn shout(&self, text: String) -> Result<String, ServiceError>;
}

/// Served on `dispatch-json` alone.
#[component(name = "shouter", services = [Shouter], channels = ["dispatch-json"])]
#[derive(Debug)]
pub struct ShouterComponent;

#[derive(Default)]
struct Loud;

#[implementation]
impl Shouter for Loud {
    async fn shout(&self, text: String) -> Result<String, ServiceError> {
        Ok(text.to_uppercase())
    }
}

#[tokio::test]
async fn a_proxy_calls_over_a_channel_its_component_is_served_on() {
    let registry = LocalRegistry::new();
    let _server =
        Server::builder().registry(registry.clone()).component(ShouterComponent).start().await.expect("server starts");
    let shouter = ServiceManager::new(registry).get::<dyn Shouter>().expect("proxy");
    assert_eq!(shouter.shout("hey".into()).await.expect("over dispatch-json"), "HEY");
}
