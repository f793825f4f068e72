//! The server on its own, with a service declared below the facade
//! (`#[service(crate = "courier_core")]`): the dispatch endpoint over a real socket, its
//! limits and its errors, with no proxy in between.

use courier_core::{ErrorCode, LocalRegistry, ServiceError};
use courier_macros::{component, implementation, service};
use courier_server::Server;
use serde_json::{json, Value};

/// Counts letters.
#[service(crate = "courier_core")]
pub trait Letters {
    /// How many letters `word` has.
    async fn count(&self, word: String) -> Result<u64, ServiceError>;
}

#[component(crate = "courier_core", services = [Letters], channels = ["dispatch-json"])]
struct LettersComponent;

#[derive(Default)]
struct Counter;

#[implementation(crate = "courier_core")]
impl Letters for Counter {
    async fn count(&self, word: String) -> Result<u64, ServiceError> {
        match word.is_empty() {
            true => Err(ServiceError::bad_request("an empty word has no letters to count")),
            false => Ok(word.chars().count() as u64),
        }
    }
}

async fn server() -> Server {
    Server::builder()
        .registry(LocalRegistry::new())
        .component(LettersComponent)
        .max_body_bytes(64)
        .start()
        .await
        .expect("server starts")
}

async fn call(server: &Server, body: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/invoke/letters-component/letters/count", server.url()))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("the server answers");
    (response.status().as_u16(), response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn a_json_call_reaches_the_implementation_and_its_answer_comes_back() {
    let server = server().await;
    assert_eq!(call(&server, r#"{"word":"courier"}"#).await, (200, json!(7)));
}

#[tokio::test]
async fn errors_come_back_as_a_status_and_a_code() {
    let server = server().await;
    // The method's own error: 500, and the error as the method returned it.
    let (status, body) = call(&server, r#"{"word":""}"#).await;
    assert_eq!((status, &body["code"]), (500, &json!(ErrorCode::BadRequest)), "{body}");
    assert_eq!(body["message"], "an empty word has no letters to count");
    // courier's own faults: the status of their code.
    let (status, body) = call(&server, r#"{"letters":"courier"}"#).await;
    assert_eq!((status, &body["code"]), (400, &json!("bad_request")), "{body}");
    let (status, body) = call(&server, &format!(r#"{{"word":"{}"}}"#, "a".repeat(100))).await;
    assert_eq!((status, &body["code"]), (413, &json!("payload_too_large")), "{body}");
}

#[tokio::test]
async fn the_server_describes_what_it_runs() {
    let server = server().await;
    let described: Value =
        reqwest::get(format!("{}/describe", server.url())).await.expect("answers").json().await.expect("JSON");
    let method = &described["components"][0]["services"][0]["methods"][0];
    assert_eq!(described["components"][0]["name"], "letters-component");
    assert_eq!(method["arguments"], json!([{"name": "word", "type": "String"}]));
    assert_eq!((&method["returns"], &method["description"]), (&json!("u64"), &json!("How many letters `word` has.")));
}
