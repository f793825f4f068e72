//! Every fault a peer can cause gets its status and a readable body, over a real socket.

mod plain_http;

use plain_http::Fixture;
use reqwest::{header::CONTENT_TYPE, Method, StatusCode};
use serde_json::{json, Value};

const LIMIT: usize = 1024;

impl Fixture {
    /// A POST of `body`, as `content_type`, to `path`.
    async fn post(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.request(Method::POST, path).header(CONTENT_TYPE, content_type).body(body).send().await.expect("request")
    }
}

async fn json_error(response: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    let body: Value = response.json().await.expect("JSON error body");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    body
}

const HELLO: &str = "/invoke/greeter-component/greeter/hello";

#[tokio::test]
async fn unknown_component_service_or_method_is_404() {
    let fixture = Fixture::start(LIMIT).await;
    for path in [
        "/invoke/nobody/greeter/hello",
        "/invoke/greeter-component/nobody/hello",
        "/invoke/greeter-component/greeter/nothing",
        "/invoke/greeter-component",
        "/somewhere/else",
    ] {
        let response = fixture.post(path, "application/json", r#"{"name":"x"}"#).await;
        json_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
}

#[tokio::test]
async fn undecodable_or_mistyped_arguments_are_400() {
    let fixture = Fixture::start(LIMIT).await;
    for body in ["not json", r#"{"name": 5}"#, r#"{}"#, r#"["a","b","c"]"#] {
        let response = fixture.post(HELLO, "application/json", body).await;
        let error = json_error(response, StatusCode::BAD_REQUEST, "bad_request").await;
        assert!(error["message"].as_str().is_some_and(|m| m.contains("JSON")), "{error}");
    }
}

#[tokio::test]
async fn msgpack_callers_get_msgpack_errors() {
    let fixture = Fixture::start(LIMIT).await;
    let response = fixture.post(HELLO, "application/msgpack", vec![0xc1, 0xff, 0x00]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/msgpack");
    let body: Value = rmp_serde::from_slice(&response.bytes().await.expect("body")).expect("msgpack error body");
    assert_eq!(body["code"], "bad_request", "{body}");
}

#[tokio::test]
async fn oversized_body_is_413() {
    let fixture = Fixture::start(LIMIT).await;
    let name = "x".repeat(LIMIT * 2);
    let response = fixture.post(HELLO, "application/json", json!({ "name": name }).to_string()).await;
    json_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn oversized_headers_are_refused() {
    let fixture = Fixture::start(LIMIT).await;
    let response = fixture
        .request(Method::POST, HELLO)
        .header(CONTENT_TYPE, "application/json")
        .header("x-padding", "y".repeat(128 * 1024))
        .body(r#"{"name":"x"}"#)
        .send()
        .await
        .expect("the server answers instead of hanging up");
    assert_eq!(response.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
}

#[tokio::test]
async fn unknown_content_type_is_415_and_wrong_verb_is_405() {
    let fixture = Fixture::start(LIMIT).await;
    let response = fixture.post(HELLO, "text/plain", "hi").await;
    json_error(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;

    let response = fixture.request(Method::GET, HELLO).send().await.expect("request");
    assert_eq!(response.headers()["allow"], "POST");
    json_error(response, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn a_method_error_travels_as_an_error_with_its_own_body() {
    let fixture = Fixture::start(LIMIT).await;
    let response = fixture
        .post("/invoke/greeter-component/greeter/greet", "application/json", r#"{"name":"Mallory","excited":true}"#)
        .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["courier-error"], "method");
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body, json!({"Refused": {"name": "Mallory", "reason": "on the list"}}));

    let response = fixture
        .post("/invoke/greeter-component/greeter/greet", "application/json", r#"{"name":"Ann","excited":false}"#)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<String>().await.expect("JSON result"), "Hello, Ann.");
}
