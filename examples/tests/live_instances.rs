//! A proxy follows the registry while it lives: new instances get calls, removed ones
//! stop getting them.

mod common;

use common::greeter_named;
use courier::prelude::*;
use courier_samples::Greeter;
use std::collections::BTreeMap;

async fn start(registry: &LocalRegistry, name: &str) -> Server {
    greeter_named(registry.clone(), name).await.expect("server starts")
}

async fn tally(greeter: &dyn Greeter, calls: usize) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for _ in 0..calls {
        *counts.entry(greeter.whoami().await.expect("whoami")).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn a_proxy_follows_instances_as_they_come_and_go() {
    let registry = LocalRegistry::new();
    let greeter = ServiceManager::new(registry.clone()).get::<dyn Greeter>().expect("proxy");
    let error = greeter.whoami().await.expect_err("no instance yet");
    assert_eq!(error.code, ErrorCode::Unavailable);

    let mut a = start(&registry, "a").await;
    assert_eq!(tally(&*greeter, 4).await, BTreeMap::from([("a".into(), 4)]));

    let mut b = start(&registry, "b").await;
    assert_eq!(tally(&*greeter, 10).await, BTreeMap::from([("a".into(), 5), ("b".into(), 5)]));

    a.shutdown().await.expect("a stops");
    assert_eq!(tally(&*greeter, 6).await, BTreeMap::from([("b".into(), 6)]));
    b.shutdown().await.expect("b stops");
}
