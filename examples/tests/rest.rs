//! The rest channel answers plain HTTP requests, made without the proxy, with the
//! statuses and bodies a REST user expects.

mod plain_http;

use courier_samples::Node;
use plain_http::Fixture;
use reqwest::{header::CONTENT_TYPE, Method, StatusCode};
use serde_json::{json, Value};

/// The largest request body the server takes.
const LIMIT: usize = 64 * 1024;

impl Fixture {
    /// A `method` request to `path`, with a body of the content type given, if any.
    async fn send(&self, method: Method, path: &str, body: Option<(&str, Vec<u8>)>) -> reqwest::Response {
        let mut request = self.request(method, path);
        if let Some((content_type, body)) = body {
            request = request.header(CONTENT_TYPE, content_type).body(body);
        }
        request.send().await.expect("request")
    }

    /// A `method` request to `path` with `body` as JSON.
    async fn json(&self, method: Method, path: &str, body: &Value) -> reqwest::Response {
        self.send(method, path, Some(("application/json", body.to_string().into_bytes()))).await
    }
}

async fn body(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    response.json().await.expect("a JSON body")
}

async fn fault(response: reqwest::Response, status: StatusCode, code: &str) {
    let error = body(response, status).await;
    assert_eq!(error["code"], code, "{error}");
    assert!(error["message"].as_str().is_some_and(|message| !message.is_empty()), "{error}");
}

#[tokio::test]
async fn routes_answer_plain_http_with_results_and_statuses() {
    let fixture = Fixture::start(LIMIT).await;
    let reply = fixture.send(Method::GET, "/api/hello/world%20wide", None).await;
    assert_eq!(body(reply, StatusCode::OK).await, "Hello, world wide!");

    let reply = fixture.send(Method::POST, "/api/greet?name=Ann&excited=true", None).await;
    assert_eq!(body(reply, StatusCode::OK).await, "Hello, Ann!");

    let tree = serde_json::to_value(Node::tree(2, 3)).expect("JSON tree");
    let reply = fixture.json(Method::POST, "/api/echo", &tree).await;
    assert_eq!(body(reply, StatusCode::OK).await, tree);

    let reply = fixture.json(Method::PATCH, "/api/trees/42?name=renamed", &tree).await;
    let renamed = body(reply, StatusCode::OK).await;
    assert_eq!((renamed["id"].clone(), renamed["name"].clone()), (json!(42), json!("renamed")));

    let reply = fixture.send(Method::DELETE, "/api/ping", None).await;
    assert_eq!(reply.status(), StatusCode::NO_CONTENT);
    assert!(reply.bytes().await.expect("body").is_empty());
}

#[tokio::test]
async fn a_method_error_is_an_error_status_with_the_error_as_json() {
    let fixture = Fixture::start(LIMIT).await;
    let reply = fixture.send(Method::POST, "/api/greet?name=Mallory&excited=false", None).await;
    assert_eq!(reply.headers()["courier-error"], "method");
    let error = body(reply, StatusCode::INTERNAL_SERVER_ERROR).await;
    assert_eq!(error, json!({"Refused": {"name": "Mallory", "reason": "on the list"}}));
}

#[tokio::test]
async fn faults_get_the_status_a_rest_user_expects() {
    let fixture = Fixture::start(LIMIT).await;
    fault(fixture.send(Method::GET, "/api/nothing", None).await, StatusCode::NOT_FOUND, "not_found").await;
    let reply = fixture.send(Method::PUT, "/api/hello/x", None).await;
    fault(reply, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;

    let reply = fixture.send(Method::POST, "/api/greet?name=Ann", None).await;
    fault(reply, StatusCode::BAD_REQUEST, "bad_request").await;
    let reply = fixture.send(Method::POST, "/api/greet?name=Ann&excited=maybe", None).await;
    fault(reply, StatusCode::BAD_REQUEST, "bad_request").await;
    let tree = serde_json::to_value(Node::tree(0, 0)).expect("JSON tree");
    let reply = fixture.json(Method::PATCH, "/api/trees/forty-two", &tree).await;
    fault(reply, StatusCode::BAD_REQUEST, "bad_request").await;
    let reply = fixture.send(Method::POST, "/api/echo", Some(("application/json", b"{not json".to_vec()))).await;
    fault(reply, StatusCode::BAD_REQUEST, "bad_request").await;

    let reply = fixture.send(Method::POST, "/api/echo", Some(("text/plain", b"a tree".to_vec()))).await;
    fault(reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let huge = vec![b' '; LIMIT * 2];
    let reply = fixture.send(Method::POST, "/api/echo", Some(("application/json", huge))).await;
    fault(reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_routes() {
    let fixture = Fixture::start(LIMIT).await;
    let document = body(fixture.send(Method::GET, "/openapi.json", None).await, StatusCode::OK).await;
    assert_eq!(document["openapi"], "3.0.3");
    let hello = &document["paths"]["/api/hello/{name}"]["get"];
    assert_eq!(hello["operationId"], "greeter.hello");
    assert_eq!(
        hello["parameters"],
        json!([{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}])
    );
    let rename = &document["paths"]["/api/trees/{id}"]["patch"];
    assert_eq!(rename["parameters"][0]["schema"], json!({"type": "integer", "format": "uint64", "minimum": 0}));
    assert_eq!(
        rename["parameters"][1],
        json!({"name": "name", "in": "query", "required": false, "schema": {"type": "string", "nullable": true}})
    );
    let node = json!({"$ref": "#/components/schemas/Node"});
    assert_eq!(rename["requestBody"]["content"]["application/json"]["schema"], node);
    assert_eq!(rename["responses"]["200"]["content"]["application/json"]["schema"], node);
    assert_eq!(rename["summary"], "The tree, with the id given and, if one is given, a new name.");
    assert!(document["paths"]["/api/ping"]["delete"]["responses"]["204"].is_object());
    let hello_result = &hello["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(hello_result, &json!({"type": "string"}));

    // Shared types are components, recursive ones by reference, with their doc comments.
    let schemas = &document["components"]["schemas"];
    let tree = &schemas["Node"];
    assert_eq!(tree["description"], "A tree of named values: the payload the channels are tested and measured with.");
    assert_eq!(tree["properties"]["children"]["items"], node, "{tree}");
    assert_eq!(tree["properties"]["name"], json!({"type": "string", "description": "A label."}));
    assert_eq!(tree["required"], json!(["name", "id", "value", "tags", "children"]));
    let sample = &schemas["Sample"];
    assert_eq!(sample["properties"]["parent"]["anyOf"][0], json!({"$ref": "#/components/schemas/Sample"}), "{sample}");
    assert!(!sample["required"].as_array().expect("required").contains(&json!("parent")), "{sample}");

    // Faults are `Error`; a method with its own error type may answer either.
    let error = json!({"$ref": "#/components/schemas/Error"});
    assert_eq!(hello["responses"]["default"]["content"]["application/json"]["schema"], error);
    let greet = &document["paths"]["/api/greet"]["post"]["responses"]["default"]["content"]["application/json"];
    assert_eq!(greet["schema"], json!({"anyOf": [error, {"$ref": "#/components/schemas/GreetingError"}]}));
    let refused = &schemas["GreetingError"]["oneOf"][0]["properties"]["Refused"];
    assert_eq!(refused["required"], json!(["name", "reason"]), "{}", schemas["GreetingError"]);
    assert_eq!(schemas["Error"]["required"], json!(["code", "message"]));
    let codes = schemas["ErrorCode"]["oneOf"].as_array().expect("one schema per code");
    assert!(codes.iter().any(|code| code["enum"] == json!(["not_found"])), "{codes:?}");
    let served: usize = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|path| path.as_object().map_or(0, |ops| ops.len()))
        .sum();
    assert_eq!(served, 7, "one operation per route");
}

#[tokio::test]
async fn the_openapi_document_passes_an_independent_validator() {
    let Some(python) = courier_test_support::python() else { return };
    let fixture = Fixture::start(LIMIT).await;
    let document = fixture.send(Method::GET, "/openapi.json", None).await.bytes().await.expect("the document");
    let file = std::env::temp_dir().join(format!("courier-openapi-{}.json", std::process::id()));
    std::fs::write(&file, &document).expect("write the document");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/openapi_validate.py");
    let output = std::process::Command::new(python).arg(script).arg(&file).output().expect("run python");
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.trim() == "OK",
        "openapi-spec-validator says: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
