//! Health endpoints over a real socket: checks declared with `#[health_checks]` on an
//! implementation and added on the builder, their cache, their bound, and the status
//! and HTTP code that follow the worst of them.

use courier::{
    health::{CheckOptions, HealthReport},
    prelude::*,
};
use reqwest::StatusCode;
use std::{
    sync::{
        atomic::{AtomicU8, AtomicUsize, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

#[service(name = "health-inventory")]
trait Inventory {
    async fn count(&self) -> Result<u64, ServiceError>;
}

#[service(name = "health-billing")]
trait Billing {
    async fn total(&self) -> Result<u64, ServiceError>;
}

#[component(name = "health-inventory-component", services = [Inventory], health = "/inventory/health")]
struct InventoryComponent;

#[component(name = "health-billing-component", services = [Billing], health = "/billing/health")]
struct BillingComponent;

/// An implementation whose health checks report what the test sets.
#[derive(Default)]
struct Stock {
    status: Mutex<Option<(HealthStatus, String)>>,
    runs: AtomicUsize,
}

impl Stock {
    fn set(&self, status: HealthStatus, details: &str) {
        *self.status.lock().expect("status") = Some((status, details.to_owned()));
    }
}

#[implementation(manual)]
impl Inventory for Stock {
    async fn count(&self) -> Result<u64, ServiceError> {
        Ok(7)
    }
}

#[health_checks]
impl Stock {
    /// Reports what the test set.
    #[health_check(name = "stock")]
    async fn stock(&self, result: &mut CheckResult) {
        self.runs.fetch_add(1, Ordering::SeqCst);
        if let Some((status, details)) = self.status.lock().expect("status").clone() {
            result.set_status(status, details);
        }
    }

    /// Runs once a minute at most, however often it is asked.
    #[health_check(name = "stock-cached", cache = "60s")]
    async fn cached(&self) -> Result<(), std::io::Error> {
        self.runs.fetch_add(100, Ordering::SeqCst);
        Ok(())
    }
}

#[derive(Default)]
struct Ledger;

#[implementation]
impl Billing for Ledger {
    async fn total(&self) -> Result<u64, ServiceError> {
        Ok(42)
    }
}

#[health_checks]
impl Ledger {
    #[health_check(name = "ledger")]
    async fn ledger(&self) -> Result<(), String> {
        Err("the ledger is closed".into())
    }
}

async fn get(server: &Server, path: &str) -> (StatusCode, HealthReport) {
    probe(server.url().to_owned(), path.to_owned()).await
}

async fn probe(base: String, path: String) -> (StatusCode, HealthReport) {
    let response = reqwest::get(format!("{base}{path}")).await.expect("health endpoint answers");
    let status = response.status();
    assert_eq!(response.headers()["content-type"], "application/json");
    (status, response.json().await.expect("a JSON health report"))
}

fn names(report: &HealthReport) -> Vec<&str> {
    report.checks.iter().map(|check| check.name.as_str()).collect()
}

/// A check of the server's own that reports the status the test sets.
fn switch(level: &Arc<AtomicU8>) -> impl Fn(CheckResult) -> std::future::Ready<CheckResult> + Send + Sync + 'static {
    let level = Arc::clone(level);
    move |mut result| {
        match level.load(Ordering::SeqCst) {
            0 => {}
            1 => result.warning("switched to warning"),
            _ => result.error("switched to error"),
        }
        std::future::ready(result)
    }
}

#[tokio::test]
async fn a_check_cached_for_n_seconds_runs_once_however_often_the_endpoint_is_hit() {
    let stock = Arc::new(Stock::default());
    let mut server = Server::builder()
        .registry(LocalRegistry::new())
        .component(InventoryComponent)
        .service::<dyn Inventory>(stock.clone())
        .start()
        .await
        .expect("server starts");

    let (status, first) = get(&server, "/inventory/health").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!first.check("stock-cached").expect("declared").cached);
    let probes = (0..20).map(|_| probe(server.url().to_owned(), "/inventory/health".to_owned()));
    for (status, report) in futures_join_all(probes).await {
        assert_eq!(status, StatusCode::OK);
        assert!(report.check("stock-cached").expect("declared").cached);
        assert!(!report.check("stock").expect("declared").cached, "an uncached check runs on every probe");
    }
    for _ in 0..10 {
        get(&server, "/health").await;
    }
    assert_eq!(stock.runs.load(Ordering::SeqCst) / 100, 1, "31 probes, one run of the cached check");
    assert_eq!(stock.runs.load(Ordering::SeqCst) % 100, 31, "and 31 of the uncached one");
    server.shutdown().await.expect("clean shutdown");
}

/// `join_all` without a dependency: the probes run at once on the test's runtime.
async fn futures_join_all<F: std::future::Future + Send + 'static>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send,
{
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for task in tasks {
        outputs.push(task.await.expect("probe task"));
    }
    outputs
}

#[tokio::test]
async fn a_check_slower_than_its_bound_reports_error_with_its_duration_and_a_hanging_one_does_not_hang_the_endpoint() {
    let bound = Duration::from_millis(200);
    let mut server = Server::builder()
        .registry(LocalRegistry::new())
        .health_check("slow", CheckOptions::new().fail_if_slower_than(bound), |result| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            result
        })
        .health_check("hangs", CheckOptions::new().fail_if_slower_than(bound), |result| async {
            std::future::pending::<()>().await;
            result
        })
        .health_check("quick", CheckOptions::new().fail_if_slower_than(bound), |result| async { result })
        .start()
        .await
        .expect("server starts");

    let started = Instant::now();
    let (status, report) = get(&server, "/health").await;
    let elapsed = started.elapsed();
    assert!(elapsed >= bound && elapsed < bound + Duration::from_secs(2), "the endpoint answered after {elapsed:?}");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(report.status, HealthStatus::Error);
    for name in ["slow", "hangs"] {
        let check = report.check(name).expect("reported");
        assert_eq!(check.status, HealthStatus::Error, "{name}");
        assert!(check.duration >= bound, "{name} took {:?}", check.duration);
        assert!(check.details.starts_with("slower than 200ms: cut off after 2"), "{name}: {}", check.details);
    }
    assert_eq!(report.check("quick").expect("reported").status, HealthStatus::Ok);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn overall_status_and_http_code_follow_the_worst_check() {
    let level = Arc::new(AtomicU8::new(0));
    let stock = Arc::new(Stock::default());
    let mut server = Server::builder()
        .registry(LocalRegistry::new())
        .component(InventoryComponent)
        .service::<dyn Inventory>(stock.clone())
        .health_check("switch", CheckOptions::new(), switch(&level))
        .start()
        .await
        .expect("server starts");

    let cases = [
        (0, None, HealthStatus::Ok, StatusCode::OK),
        (1, None, HealthStatus::Warning, StatusCode::OK),
        (2, None, HealthStatus::Error, StatusCode::SERVICE_UNAVAILABLE),
        (0, Some(HealthStatus::Warning), HealthStatus::Warning, StatusCode::OK),
        (1, Some(HealthStatus::Error), HealthStatus::Error, StatusCode::SERVICE_UNAVAILABLE),
        (2, Some(HealthStatus::Ok), HealthStatus::Error, StatusCode::SERVICE_UNAVAILABLE),
        (0, Some(HealthStatus::Ok), HealthStatus::Ok, StatusCode::OK),
    ];
    for (switched, stock_status, overall, code) in cases {
        level.store(switched, Ordering::SeqCst);
        if let Some(status) = stock_status {
            stock.set(status, &format!("stock is {status}"));
        }
        let (status, report) = get(&server, "/inventory/health").await;
        assert_eq!((report.status, status), (overall, code), "switch {switched}, stock {stock_status:?}: {report:?}");
        assert_eq!(server.health().await.status, overall, "Server::health agrees");
    }
    let (_, report) = get(&server, "/inventory/health").await;
    let stock_check = report.check("stock").expect("reported");
    assert_eq!((stock_check.status, stock_check.details.as_str()), (HealthStatus::Ok, "stock is OK"));
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn each_component_reports_its_own_checks_and_the_servers_and_health_reports_all() {
    let level = Arc::new(AtomicU8::new(0));
    let mut server = Server::builder()
        .registry(LocalRegistry::new())
        .component(InventoryComponent)
        .component(BillingComponent)
        .service::<dyn Inventory>(Arc::new(Stock::default()))
        .health_check("switch", CheckOptions::new(), switch(&level))
        .start()
        .await
        .expect("server starts, with the discovered Ledger for Billing");

    let (status, inventory) = get(&server, "/inventory/health").await;
    assert_eq!((status, names(&inventory)), (StatusCode::OK, vec!["switch", "stock", "stock-cached"]));
    let (status, billing) = get(&server, "/billing/health").await;
    assert_eq!((status, names(&billing)), (StatusCode::SERVICE_UNAVAILABLE, vec!["switch", "ledger"]));
    let ledger = billing.check("ledger").expect("the discovered implementation's check");
    assert_eq!((ledger.status, ledger.details.as_str()), (HealthStatus::Error, "the ledger is closed"));
    let (status, all) = get(&server, "/health").await;
    assert_eq!(
        (status, names(&all)),
        (StatusCode::SERVICE_UNAVAILABLE, vec!["switch", "stock", "stock-cached", "ledger"])
    );

    server.shutdown().await.expect("clean shutdown");
}
