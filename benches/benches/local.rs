//! The local channel's cost: a call through a proxy on `ChannelKind::Local` beside the
//! same call made directly on the implementation as a trait object. The difference is
//! what courier adds in-process (the access check and the call context).
//!
//! `cargo bench -p courier-benches --bench local`

use courier::prelude::*;
use courier_samples::{Greeter, GreeterComponent, Polite};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn local_channel(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    // A server in this process publishes its implementations for local proxies.
    let server = runtime.block_on(async {
        Server::builder().registry(LocalRegistry::new()).component(GreeterComponent).start().await.expect("starts")
    });
    let direct: Arc<dyn Greeter> = Arc::new(Polite::default());
    let local = ServiceManager::builder()
        .build()
        .proxy::<dyn Greeter>()
        .channel(ChannelKind::Local)
        .build()
        .expect("a local proxy");

    let mut group = c.benchmark_group("ping");
    group.bench_function("direct trait-object call", |b| {
        b.to_async(&runtime).iter(|| async { black_box(direct.ping().await) })
    });
    group.bench_function("courier local channel", |b| {
        b.to_async(&runtime).iter(|| async { black_box(local.ping().await) })
    });
    group.finish();

    let mut group = c.benchmark_group("hello");
    group.bench_function("direct trait-object call", |b| {
        b.to_async(&runtime).iter(|| async { black_box(direct.hello(black_box("Ada".to_owned())).await) })
    });
    group.bench_function("courier local channel", |b| {
        b.to_async(&runtime).iter(|| async { black_box(local.hello(black_box("Ada".to_owned())).await) })
    });
    group.finish();
    drop(server);
}

criterion_group!(benches, local_channel);
criterion_main!(benches);
