//! `GET /metrics`: the process's metrics in the Prometheus text format.
//!
//! courier records through the `metrics` facade, so what servers, proxies and registries
//! measure, and whatever the program measures itself, lands in the one recorder a
//! process has. The first server to start installs a Prometheus recorder as that
//! recorder, unless the program installed one of its own before; then courier's metrics
//! go there, and servers do not serve `/metrics`.

use axum::{routing::get, Router};
use courier_core::telemetry;
use http::header;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::{sync::OnceLock, time::Duration};

/// Where the metrics are served.
pub(crate) const METRICS_PATH: &str = "/metrics";

/// Upper bounds of the latency histograms' buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The buckets of job durations, in seconds: from a tenth of a second to an hour.
const JOB_BUCKETS: &[f64] = &[0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0];

/// How often histogram samples are folded into their buckets when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The version of the text format, as Prometheus expects it named.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `/metrics` route, when courier's recorder is the process's.
pub(crate) fn routes() -> Router {
    match prometheus() {
        Some(handle) => Router::new().route(
            METRICS_PATH,
            get(move || std::future::ready(([(header::CONTENT_TYPE, CONTENT_TYPE)], handle.render()))),
        ),
        None => Router::new(),
    }
}

fn prometheus() -> Option<&'static PrometheusHandle> {
    static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    PROMETHEUS.get_or_init(install).as_ref()
}

fn install() -> Option<PrometheusHandle> {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix(telemetry::DURATION_SUFFIX.to_owned()), LATENCY_BUCKETS)
        // A full name is matched before a suffix.
        .and_then(|builder| {
            builder.set_buckets_for_metric(Matcher::Full(telemetry::JOB_DURATION.to_owned()), JOB_BUCKETS)
        });
    let recorder = match builder {
        Ok(builder) => builder.build_recorder(),
        Err(error) => {
            tracing::warn!(%error, "cannot build the Prometheus recorder; /metrics is not served");
            return None;
        }
    };
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::info!("the program installed a metrics recorder of its own: courier's metrics go there, and /metrics is not served");
        return None;
    }
    telemetry::describe();
    // Histograms hold raw samples until folded into buckets; a process nobody scrapes
    // would pile them up. A thread, because the recorder outlives any one runtime.
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new().name("courier-metrics".into()).spawn(move || loop {
        std::thread::sleep(UPKEEP_INTERVAL);
        upkeep.run_upkeep();
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the metrics upkeep thread; histograms are folded when scraped");
    }
    Some(handle)
}
