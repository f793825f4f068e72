//! `courier` as a user runs it: a separate process, against real servers over real
//! sockets, finding them through `COURIER_PEERS` or a real Consul agent.

use courier::{prelude::*, registry::ConsulRegistry};
use courier_samples::GreeterComponent;
use courier_test_support::{wait_until, ConsulAgent};
use serde_json::{json, Value};
use std::time::Duration;

/// What one run of `courier` printed, and its exit status.
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.stdout))
    }
}

/// Runs `courier` with these arguments, and only these registry variables.
async fn courier(env: &[(&str, &str)], args: &[&str]) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_courier"))
        .args(args)
        .env_remove("COURIER_PEERS")
        .env_remove("CONSUL_HTTP_ADDR")
        .envs(env.iter().copied())
        .output()
        .await
        .expect("run courier");
    Run {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn greeter_server(registry: impl ComponentRegistry) -> Server {
    Server::builder().registry(registry).component(GreeterComponent).start().await.expect("server starts")
}

#[tokio::test]
async fn with_courier_peers_it_lists_describes_calls_and_checks_a_component() {
    let server = greeter_server(LocalRegistry::new()).await;
    let peers = format!("greeter-component={}", server.url());
    let env = [("COURIER_PEERS", peers.as_str())];

    let listed = courier(&env, &["ls", "--json"]).await;
    assert_eq!(listed.status, 0, "{}", listed.stderr);
    assert_eq!(listed.json()[0]["component"], "greeter-component");
    assert_eq!(listed.json()[0]["url"], server.url());
    assert!(listed.json()[0]["channels"].as_array().is_some_and(|channels| channels.contains(&json!("dispatch-json"))));
    let listed = courier(&env, &["ls"]).await;
    assert!(listed.stdout.starts_with("greeter-component\n"), "{}", listed.stdout);

    let described = courier(&env, &["describe", "greeter-component"]).await;
    assert_eq!(described.status, 0, "{}", described.stderr);
    assert!(described.stdout.contains("service greeter — Greets people and echoes trees."), "{}", described.stdout);
    assert!(described.stdout.contains("  hello(name: String) -> Result<String, ServiceError>"), "{}", described.stdout);
    assert!(described.stdout.contains("greet(name: String, excited: bool) -> Result<String, GreetingError>"));
    let described = courier(&env, &["describe", "greeter-component", "--json"]).await.json();
    let hello = &described["services"][0]["methods"][0];
    assert_eq!(hello["arguments"], json!([{"name": "name", "type": "String"}]));
    assert_eq!((&hello["idempotent"], &hello["route"]), (&json!(true), &json!("GET /api/hello/{name}")));

    let called = courier(&env, &["call", "greeter-component.greeter.hello", r#"{"name":"Ada"}"#]).await;
    assert_eq!((called.status, called.stdout.trim()), (0, r#""Hello, Ada!""#), "{}", called.stderr);
    let tree = r#"{"tree":{"name":"root","id":1,"value":0.5,"tags":["a"],"children":[]}}"#;
    let echoed = courier(&env, &["--json", "call", "greeter-component.greeter.echo", tree]).await;
    assert_eq!(echoed.json(), json!({"name": "root", "id": 1, "value": 0.5, "tags": ["a"], "children": []}));

    let checked = courier(&env, &["health", "greeter-component"]).await;
    assert_eq!(checked.status, 0, "{}", checked.stderr);
    assert!(checked.stdout.contains("  component greeter-component: running"), "{}", checked.stdout);
    let checked = courier(&env, &["--json", "health", "greeter-component"]).await.json();
    assert_eq!(checked[0]["report"]["status"], "OK");
}

#[tokio::test]
async fn a_failing_call_prints_its_error_with_the_code_and_exits_non_zero() {
    let server = greeter_server(LocalRegistry::new()).await;
    let peers = format!("greeter-component={}", server.url());
    let env = [("COURIER_PEERS", peers.as_str())];

    let refused =
        courier(&env, &["--json", "call", "greeter-component.greeter.greet", r#"{"name":"Mallory","excited":true}"#])
            .await;
    assert_eq!(refused.status, 1);
    assert_eq!(refused.json(), json!({"method_error": {"Refused": {"name": "Mallory", "reason": "on the list"}}}));
    let refused =
        courier(&env, &["call", "greeter-component.greeter.greet", r#"{"name":"Mallory","excited":true}"#]).await;
    assert_eq!(refused.status, 1);
    assert!(refused.stderr.contains("the method failed: {\"Refused\""), "{}", refused.stderr);

    let malformed = courier(&env, &["--json", "call", "greeter-component.greeter.hello", r#"{"nom":"Ada"}"#]).await;
    assert_eq!(malformed.status, 1);
    assert_eq!(malformed.json()["error"]["code"], "bad_request", "{}", malformed.stdout);
    let malformed = courier(&env, &["call", "greeter-component.greeter.hello", r#"{"nom":"Ada"}"#]).await;
    assert!(malformed.stderr.starts_with("error bad_request: "), "{}", malformed.stderr);

    let unknown = courier(&env, &["call", "greeter-component.greeter.shout", "{}"]).await;
    assert_eq!(unknown.status, 2);
    assert!(
        unknown.stderr.contains("service `greeter` has no method `shout`; it has: hello, greet"),
        "{}",
        unknown.stderr
    );
    let not_json = courier(&env, &["call", "greeter-component.greeter.hello", "{name: Ada}"]).await;
    assert_eq!(not_json.status, 2);
    assert!(not_json.stderr.contains("the arguments are not JSON"), "{}", not_json.stderr);
    let nowhere = courier(&env, &["describe", "orders"]).await;
    assert_eq!(nowhere.status, 2);
    assert!(
        nowhere.stderr.contains("knows no live instance of `orders`; it knows: greeter-component"),
        "{}",
        nowhere.stderr
    );
}

#[tokio::test]
async fn without_a_registry_it_says_which_variables_to_set() {
    let run = courier(&[], &["ls"]).await;
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("set CONSUL_HTTP_ADDR to a Consul agent, or COURIER_PEERS"), "{}", run.stderr);
    let run = courier(&[], &["--json", "ls"]).await;
    assert_eq!(run.json()["error"]["code"], "usage");
}

#[tokio::test]
async fn with_consul_it_lists_and_calls_what_registered_there() {
    let Some(agent) = ConsulAgent::start().await else { return };
    let address = agent.http_addr();
    let registry = ConsulRegistry::builder().address(&address).build().expect("registry");
    let server = greeter_server(registry).await;
    let env = [("CONSUL_HTTP_ADDR", address.as_str())];

    wait_until(Duration::from_secs(30), "courier ls shows the instance", || async {
        let listed = courier(&env, &["--json", "ls"]).await;
        listed.status == 0
            && listed.json().as_array().is_some_and(|all| all.iter().any(|one| one["url"] == server.url()))
    })
    .await;
    let listed = courier(&env, &["--json", "ls"]).await.json();
    let greeter = listed.as_array().and_then(|all| all.iter().find(|one| one["component"] == "greeter-component"));
    let health = format!("{}/health", server.url());
    assert_eq!(greeter.map(|one| &one["health"]), Some(&json!(health)), "{listed}");

    let called = courier(&env, &["call", "greeter-component.greeter.hello", r#"{"name":"Consul"}"#]).await;
    assert_eq!((called.status, called.stdout.trim()), (0, r#""Hello, Consul!""#), "{}", called.stderr);
    let checked = courier(&env, &["--json", "health", "greeter-component"]).await;
    assert_eq!((checked.status, &checked.json()[0]["url"]), (0, &json!(health)), "{}", checked.stdout);
}
