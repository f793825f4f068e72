//! A component with 1,000 instances: a change to them reaches a live proxy within a
//! second, through the in-process registry and through a real Consul agent.
//!
//! 998 of the instances are registered at an address nobody listens on; two real server
//! processes, `a` and `b`, make up the rest. The proxy's selector prefers `b`, then `a`,
//! so which one answers tells which instances the proxy knows.

mod common;

use common::ServerProcess;
use courier::{
    client::UrlSelector,
    prelude::*,
    registry::{ComponentRegistry, ConsulRegistry, Instance, Registration},
    service::Component,
    ChannelKind,
};
use courier_samples::{Greeter, GreeterComponent};
use courier_test_support::{wait_until, ConsulAgent};
use futures_util::{stream, StreamExt};
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

const INSTANCES: usize = 1000;

/// How long a change may take to reach the proxy.
const CHANGE_DEADLINE: Duration = Duration::from_secs(1);

/// How long Consul may take to take in the first 1,000 registrations.
const SETUP_DEADLINE: Duration = Duration::from_secs(60);

/// Picks the first of `preferred` it is offered, and remembers how many instances it was
/// offered last.
#[derive(Debug)]
struct Prefer {
    preferred: Vec<String>,
    offered: AtomicUsize,
}

impl UrlSelector for Prefer {
    fn select<'a>(&self, instances: &'a [Instance]) -> Option<&'a Instance> {
        self.offered.store(instances.len(), Ordering::Relaxed);
        self.preferred.iter().find_map(|url| instances.iter().find(|instance| &instance.url == url))
    }
}

fn registration(id: &str, url: &str) -> Registration {
    Registration {
        component: GreeterComponent.descriptor().name.to_owned(),
        instance_id: id.to_owned(),
        url: url.to_owned(),
        channels: ChannelKind::REMOTE.to_vec(),
        health_url: None,
    }
}

/// Registers the instances nobody answers, a few at a time.
async fn register_idle(registry: &dyn ComponentRegistry, count: usize) {
    stream::iter(0..count)
        .for_each_concurrent(16, |i| async move {
            let url = format!("http://192.0.2.1:{}", 10_000 + i);
            registry.register(&registration(&format!("idle-{i}"), &url)).await.expect("registered");
        })
        .await;
}

/// With `registry` (`name`d in what the test prints) holding `a` and 998 idle instances: `b` joins, then leaves, and each
/// change reaches a proxy that is calling all along within [`CHANGE_DEADLINE`].
async fn changes_reach_the_proxy(name: &str, registry: impl ComponentRegistry + Clone) {
    let (a, b) = (ServerProcess::start("a"), ServerProcess::start("b"));
    register_idle(&registry, INSTANCES - 2).await;
    registry.register(&registration("a", &a.url)).await.expect("a registered");

    let selector = Arc::new(Prefer { preferred: vec![b.url.clone(), a.url.clone()], offered: AtomicUsize::new(0) });
    let services = ServiceManager::builder().registry(registry.clone()).build();
    let greeter = services.proxy::<dyn Greeter>().selector(selector.clone()).build().expect("proxy");
    wait_until(SETUP_DEADLINE, "the proxy knows all 999 instances", || async {
        greeter.whoami().await.is_ok() && selector.offered.load(Ordering::Relaxed) == INSTANCES - 1
    })
    .await;
    assert_eq!(greeter.whoami().await.expect("a answers"), "a");

    let joined = Instant::now();
    registry.register(&registration("b", &b.url)).await.expect("b registered");
    wait_until(CHANGE_DEADLINE, "the proxy calls b, which joined", || async {
        greeter.whoami().await.is_ok_and(|who| who == "b")
    })
    .await;
    assert_eq!(selector.offered.load(Ordering::Relaxed), INSTANCES);
    eprintln!("{name}: b reached the proxy {:?} after it registered", joined.elapsed());

    let left = Instant::now();
    registry.deregister(&registration("b", &b.url)).await.expect("b deregistered");
    wait_until(CHANGE_DEADLINE, "the proxy calls a again, b having left", || async {
        greeter.whoami().await.is_ok_and(|who| who == "a")
    })
    .await;
    assert_eq!(selector.offered.load(Ordering::Relaxed), INSTANCES - 1);
    eprintln!("{name}: b left the proxy {:?} after it deregistered", left.elapsed());
}

#[tokio::test]
async fn a_change_among_1000_instances_in_the_local_registry_reaches_the_proxy_within_a_second() {
    changes_reach_the_proxy("local registry", LocalRegistry::new()).await;
}

#[tokio::test]
async fn a_change_among_1000_instances_in_consul_reaches_the_proxy_within_a_second() {
    let Some(agent) = ConsulAgent::start().await else { return };
    let registry = ConsulRegistry::builder().address(agent.http_addr()).build().expect("registry");
    changes_reach_the_proxy("Consul", registry).await;
}
