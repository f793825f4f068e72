//! What picking an instance costs, with 3 instances and with 1,000: the built-in
//! selectors over the registry's list, as a proxy runs them on every call.
//!
//! `cargo bench -p courier-benches --bench selection`

use courier::{client::Selection, registry::Instance};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

fn selection(c: &mut Criterion) {
    let mut group = c.benchmark_group("select");
    for count in [3, 1000] {
        let instances: Vec<Instance> = (0..count)
            .map(|n| Instance::new(format!("greeter-{n}"), format!("http://10.0.{}.{}:8080", n / 250, n % 250)))
            .collect();
        let (round_robin, least_loaded) = (Selection::RoundRobin.selector(), Selection::LeastLoaded.selector());
        group.bench_with_input(BenchmarkId::new("round robin", count), &instances, |b, instances| {
            b.iter(|| black_box(round_robin.select(black_box(instances)).map(|instance| instance.id.len())))
        });
        group.bench_with_input(BenchmarkId::new("least loaded", count), &instances, |b, instances| {
            b.iter(|| black_box(least_loaded.select(black_box(instances)).map(|instance| instance.id.len())))
        });
    }
    group.finish();
}

criterion_group!(benches, selection);
criterion_main!(benches);
