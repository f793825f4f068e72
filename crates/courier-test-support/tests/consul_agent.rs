use std::time::Duration;

use courier_test_support::{free_port, wait_until, ConsulAgent};

async fn leader(client: &reqwest::Client, agent: &ConsulAgent) -> reqwest::Result<String> {
    let body =
        client.get(format!("{}/v1/status/leader", agent.http_url())).send().await?.error_for_status()?.text().await?;
    Ok(serde_json::from_str(&body).expect("leader is a JSON string"))
}

#[tokio::test]
async fn agent_comes_back_on_the_same_address_after_restart() {
    let Some(mut agent) = ConsulAgent::start().await else {
        return;
    };
    let client = reqwest::Client::new();
    let addr = agent.http_addr();

    let first = leader(&client, &agent).await.expect("leader while running");
    assert!(!first.is_empty(), "no leader after start");

    agent.stop();
    assert!(leader(&client, &agent).await.is_err(), "agent still answers after stop");

    agent.restart().await;
    assert_eq!(agent.http_addr(), addr);
    let again = leader(&client, &agent).await.expect("leader after restart");
    assert!(!again.is_empty(), "no leader after restart");
}

#[tokio::test]
async fn acl_agent_hides_the_catalog_without_a_token() {
    let Some(agent) = ConsulAgent::start_with_acl("root").await else {
        return;
    };
    assert_eq!(agent.management_token(), Some("root"));
    let client = reqwest::Client::new();
    let nodes = |token: Option<&'static str>| {
        let mut request = client.get(format!("{}/v1/catalog/nodes", agent.http_url()));
        if let Some(token) = token {
            request = request.header("X-Consul-Token", token);
        }
        async move {
            let body = request.send().await.unwrap().text().await.unwrap();
            serde_json::from_str::<serde_json::Value>(&body).unwrap()
        }
    };

    assert_eq!(nodes(None).await, serde_json::json!([]));
    assert_eq!(nodes(Some("root")).await[0]["Node"], agent.node_name());
}

#[tokio::test]
async fn wait_until_returns_once_the_condition_holds() {
    let mut calls = 0;
    wait_until(Duration::from_secs(5), "the third call", || {
        calls += 1;
        let done = calls >= 3;
        async move { done }
    })
    .await;
    assert_eq!(calls, 3);
}

#[tokio::test]
#[should_panic(expected = "timed out waiting until never")]
async fn wait_until_panics_after_the_deadline() {
    wait_until(Duration::from_millis(120), "never", || async { false }).await;
}

#[test]
fn free_port_can_be_bound() {
    let port = free_port();
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("port is free");
}
