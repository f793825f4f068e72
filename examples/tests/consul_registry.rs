//! ConsulRegistry against a real Consul agent (`consul agent -dev`, started per test):
//! registration, health checks, watches, ACLs, an agent that goes away and returns, and
//! Consul's own tools.

mod common;

use common::{all_answer, greeter_named};
use courier::{prelude::*, registry::ConsulRegistry, server::ServerError};
use courier_samples::{Greeter, GreeterComponent};
use courier_test_support::{wait_until, ConsulAgent};
use serde_json::Value;
use std::{
    process::Command,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

const COMPONENT: &str = "greeter-component";
const DEADLINE: Duration = Duration::from_secs(30);

fn registry(agent: &ConsulAgent, token: Option<&str>) -> ConsulRegistry {
    let mut builder = ConsulRegistry::builder()
        .address(agent.http_url())
        .check_interval(Duration::from_secs(1))
        .resync_interval(Duration::from_millis(300))
        .watch_wait(Duration::from_secs(5));
    if let Some(token) = token {
        builder = builder.token(token);
    }
    builder.build().expect("registry")
}

/// What Consul itself says passes, read over its HTTP API.
async fn passing(agent: &ConsulAgent) -> Vec<Value> {
    let url = format!("{}/v1/health/service/{COMPONENT}?passing", agent.http_url());
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = agent.management_token() {
        request = request.header("X-Consul-Token", token);
    }
    request.send().await.expect("Consul answers").json().await.expect("a JSON array")
}

fn ports(entries: &[Value]) -> Vec<u64> {
    entries.iter().filter_map(|entry| entry["Service"]["Port"].as_u64()).collect()
}

#[tokio::test]
async fn a_started_server_is_passing_with_its_address_and_meta_and_gone_at_once_after_shutdown() {
    let Some(agent) = ConsulAgent::start().await else { return };
    let mut server = greeter_named(registry(&agent, None), "a").await.expect("server starts");
    let port = server.local_addr().port();

    let entries = passing(&agent).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let service = &entries[0]["Service"];
    assert_eq!(service["Service"], COMPONENT);
    assert_eq!(service["Address"], "127.0.0.1");
    assert_eq!(service["Port"], port);
    assert_eq!(service["Meta"]["channel-dispatch-msgpack"], server.url());
    assert_eq!(service["Meta"]["channel-dispatch-json"], server.url());
    let check = entries[0]["Checks"].as_array().expect("checks").iter().find(|c| c["ServiceID"] == service["ID"]);
    assert_eq!(check.expect("the instance has a check")["Type"], "http");

    server.shutdown().await.expect("clean shutdown");
    assert_eq!(passing(&agent).await, Vec::<Value>::new(), "deregistered on shutdown, not after a check fails");
}

#[tokio::test]
async fn a_server_started_after_the_proxy_was_built_gets_its_calls() {
    let Some(agent) = ConsulAgent::start().await else { return };
    let registry = registry(&agent, None);
    let greeter = ServiceManager::new(registry.clone()).get::<dyn Greeter>().expect("proxy");
    let error = greeter.whoami().await.expect_err("nothing registered yet");
    assert_eq!(error.code, ErrorCode::Unavailable);

    let mut a = greeter_named(registry.clone(), "a").await.expect("a starts");
    wait_until(DEADLINE, "the proxy calls a", || async { greeter.whoami().await.is_ok_and(|who| who == "a") }).await;
    let mut b = greeter_named(registry.clone(), "b").await.expect("b starts");
    wait_until(DEADLINE, "the proxy calls b", || async { greeter.whoami().await.is_ok_and(|who| who == "b") }).await;

    a.shutdown().await.expect("a stops");
    wait_until(DEADLINE, "the proxy forgets a", || async {
        let mut answers = Vec::new();
        for _ in 0..4 {
            answers.push(greeter.whoami().await);
        }
        answers.iter().all(|answer| answer.as_deref() == Ok("b"))
    })
    .await;
    b.shutdown().await.expect("b stops");
}

#[tokio::test]
async fn calls_go_on_while_consul_is_down_and_the_server_registers_again_when_it_returns() {
    let Some(mut agent) = ConsulAgent::start().await else { return };
    let registry = registry(&agent, None);
    let mut a = greeter_named(registry.clone(), "a").await.expect("a starts");
    let greeter = ServiceManager::new(registry.clone()).get::<dyn Greeter>().expect("proxy");
    assert_eq!(greeter.whoami().await.expect("a answers"), "a");

    agent.stop();
    for i in 0..20 {
        assert_eq!(greeter.whoami().await.expect("calls to known instances go on"), "a", "call {i}");
    }

    agent.restart().await;
    wait_until(DEADLINE, "the server registers again with the restarted agent", || async {
        ports(&passing(&agent).await) == [u64::from(a.local_addr().port())]
    })
    .await;
    let mut b = greeter_named(registry.clone(), "b").await.expect("b starts");
    wait_until(DEADLINE, "the watch resumes and finds b", || async {
        greeter.whoami().await.is_ok_and(|who| who == "b")
    })
    .await;
    a.shutdown().await.expect("a stops");
    b.shutdown().await.expect("b stops");
}

#[tokio::test]
async fn with_acls_a_missing_or_weak_token_is_refused_clearly_and_the_management_token_works() {
    let Some(agent) = ConsulAgent::start_with_acl("root").await else { return };
    let refused = greeter_named(registry(&agent, None), "a").await.expect_err("the anonymous token may not register");
    let message = refused.to_string();
    assert!(message.contains("service:write"), "{message}");

    let weak = read_only_token(&agent).await;
    let refused =
        greeter_named(registry(&agent, Some(&weak)), "a").await.expect_err("a read-only token may not register");
    let ServerError::Registry { source, .. } = &refused else { panic!("expected a registry error, got {refused}") };
    assert_eq!(source.code, ErrorCode::Forbidden);
    assert!(source.message.contains("service:write"), "{source}");
    assert!(passing(&agent).await.is_empty());

    let mut server = greeter_named(registry(&agent, Some("root")), "a").await.expect("the management token may");
    wait_until(DEADLINE, "the server passes", || async { passing(&agent).await.len() == 1 }).await;
    server.shutdown().await.expect("clean shutdown");
}

/// A token whose policy may only read services.
async fn read_only_token(agent: &ConsulAgent) -> String {
    let http = reqwest::Client::new();
    let policy = serde_json::json!({ "Name": "read-only", "Rules": r#"service_prefix "" { policy = "read" }"# });
    http.put(format!("{}/v1/acl/policy", agent.http_url()))
        .header("X-Consul-Token", "root")
        .json(&policy)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("policy created");
    let token: Value = http
        .put(format!("{}/v1/acl/token", agent.http_url()))
        .header("X-Consul-Token", "root")
        .json(&serde_json::json!({ "Policies": [{ "Name": "read-only" }] }))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("token created")
        .json()
        .await
        .expect("token JSON");
    token["SecretID"].as_str().expect("a secret").to_owned()
}

#[tokio::test]
async fn consul_s_own_tools_read_the_registration() {
    let Some(agent) = ConsulAgent::start().await else { return };
    let registry =
        ConsulRegistry::builder().address(agent.http_url()).tags(["courier", "v1"]).build().expect("registry");
    let mut server = Server::builder().registry(registry).component(GreeterComponent).start().await.expect("starts");

    let output = Command::new(agent.binary())
        .args(["catalog", "services", "-tags", &format!("-http-addr={}", agent.http_addr())])
        .output()
        .expect("consul catalog services");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let line =
        stdout.lines().find(|line| line.starts_with(COMPONENT)).unwrap_or_else(|| panic!("not listed: {stdout}"));
    assert!(line.contains("courier,v1"), "{line}");

    let url = format!("{}/v1/catalog/service/{COMPONENT}", agent.http_url());
    let catalog: Vec<Value> = reqwest::get(url).await.expect("catalog").json().await.expect("JSON");
    assert_eq!(catalog.len(), 1);
    assert_eq!(catalog[0]["ServicePort"], server.local_addr().port());
    assert_eq!(catalog[0]["ServiceMeta"]["channel-dispatch-msgpack"], server.url());
    server.shutdown().await.expect("clean shutdown");
}

/// A service of its own, so the components below never answer for `Greeter`.
#[service(name = "consul-lifecycle-probe")]
trait Probe {
    async fn ping(&self) -> Result<(), ServiceError>;
}

#[derive(Default)]
struct Pong;

#[implementation]
impl Probe for Pong {
    async fn ping(&self) -> Result<(), ServiceError> {
        Ok(())
    }
}

#[component(name = "consul-lifecycle-ready", services = [Probe])]
struct Ready;

#[component(name = "consul-lifecycle-broken", services = [Probe], startup = Self::fail)]
struct Broken;

impl Broken {
    async fn fail(&self) -> Result<(), ServiceError> {
        Err(ServiceError::unavailable("the database is unreachable"))
    }
}

#[tokio::test]
async fn a_failing_startup_hook_registers_nothing_with_consul() {
    let Some(agent) = ConsulAgent::start().await else { return };
    let error = Server::builder()
        .registry(registry(&agent, None))
        .component(Ready)
        .component(Broken)
        .start()
        .await
        .expect_err("the broken component's startup hook fails");
    assert!(matches!(error, ServerError::Hook { component: "consul-lifecycle-broken", stage: "start", .. }), "{error}");

    let services: Value = reqwest::get(format!("{}/v1/agent/services", agent.http_url()))
        .await
        .expect("Consul answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(services, serde_json::json!({}), "the agent knows no service");
    for component in ["consul-lifecycle-ready", "consul-lifecycle-broken"] {
        let url = format!("{}/v1/health/service/{component}", agent.http_url());
        let entries: Vec<Value> = reqwest::get(url).await.expect("Consul answers").json().await.expect("JSON");
        assert!(entries.is_empty(), "{component}: {entries:?}");
    }
}

/// Tells which instance answered, so the test sees where calls go.
#[service(name = "consul-health-named")]
trait Named {
    async fn name(&self) -> Result<String, ServiceError>;
}

/// Registered with a health endpoint of its own, which Consul's check asks.
#[component(name = "consul-health-component", services = [Named], health = "/named/health")]
struct NamedComponent;

struct Switchable {
    name: &'static str,
    failing: AtomicBool,
}

#[implementation(manual)]
impl Named for Switchable {
    async fn name(&self) -> Result<String, ServiceError> {
        Ok(self.name.to_owned())
    }
}

#[health_checks]
impl Switchable {
    #[health_check(name = "switch", fail_if_slower_than = "500ms")]
    async fn switch(&self, result: &mut CheckResult) {
        if self.failing.load(Ordering::SeqCst) {
            result.error(format!("{} is switched off", self.name));
        }
    }
}

async fn start_named(registry: &ConsulRegistry, name: &'static str) -> (Server, Arc<Switchable>) {
    let instance = Arc::new(Switchable { name, failing: AtomicBool::new(false) });
    let server = Server::builder()
        .registry(registry.clone())
        .component(NamedComponent)
        .service::<dyn Named>(instance.clone())
        .start()
        .await
        .expect("server starts");
    (server, instance)
}

/// The entries of a component, passing or all, as Consul reports them.
async fn health_entries(agent: &ConsulAgent, component: &str, only_passing: bool) -> Vec<Value> {
    let query = if only_passing { "?passing" } else { "" };
    let url = format!("{}/v1/health/service/{component}{query}", agent.http_url());
    reqwest::get(url).await.expect("Consul answers").json().await.expect("a JSON array")
}

/// Calls until `name` has answered twice in a row: round-robin over two instances
/// would have reached the other one.
async fn only(named: &dyn Named, name: &str) -> bool {
    named.name().await.is_ok_and(|who| who == name) && named.name().await.is_ok_and(|who| who == name)
}

#[tokio::test]
async fn a_failing_health_check_takes_the_instance_out_of_consul_and_out_of_the_proxy_until_it_passes_again() {
    let Some(agent) = ConsulAgent::start().await else { return };
    let registry = registry(&agent, None);
    let (mut a, _) = start_named(&registry, "a").await;
    let (mut b, switch_b) = start_named(&registry, "b").await;
    let component = "consul-health-component";
    wait_until(DEADLINE, "both instances pass", || async { health_entries(&agent, component, true).await.len() == 2 })
        .await;
    let named = ServiceManager::new(registry.clone()).get::<dyn Named>().expect("proxy");
    wait_until(DEADLINE, "both instances get calls", || all_answer(2, || async { named.name().await.ok() })).await;

    switch_b.failing.store(true, Ordering::SeqCst);
    let a_port = [u64::from(a.local_addr().port())];
    wait_until(DEADLINE, "Consul's check fails b", || async {
        ports(&health_entries(&agent, component, true).await) == a_port
    })
    .await;
    let entries = health_entries(&agent, component, false).await;
    let b_entry = entries.iter().find(|entry| entry["Service"]["Port"] == b.local_addr().port()).expect("b is known");
    let b_check = b_entry["Checks"].as_array().expect("checks").iter().find(|check| check["Type"] == "http");
    let b_check = b_check.expect("b's HTTP check");
    assert_eq!(b_check["Status"], "critical");
    let output = b_check["Output"].as_str().unwrap_or_default();
    assert!(output.contains("503") && output.contains("b is switched off"), "Consul read our report: {output}");
    wait_until(DEADLINE, "the proxy stops calling b", || async { only(&*named, "a").await }).await;
    for call in 0..20 {
        assert_eq!(named.name().await.expect("a answers"), "a", "call {call} reached the failing instance");
    }

    switch_b.failing.store(false, Ordering::SeqCst);
    wait_until(DEADLINE, "b passes again", || async { health_entries(&agent, component, true).await.len() == 2 }).await;
    wait_until(DEADLINE, "the proxy calls b again", || async {
        named.name().await.is_ok_and(|who| who == "b") || named.name().await.is_ok_and(|who| who == "b")
    })
    .await;
    a.shutdown().await.expect("a stops");
    b.shutdown().await.expect("b stops");
}
