//! The OpenAPI 3 document of the REST routes a server mounts, from the same descriptors.

use crate::rest::Mounted;
use courier_core::rest::{ParameterLocation, RestRoute};
use serde_json::{json, Map, Value};

/// Where the document is served.
pub(crate) const OPENAPI_PATH: &str = "/openapi.json";

/// The document for these routes, and for `/jobs/{id}` when one of them is queued.
pub(crate) fn document(routes: &[Mounted]) -> Value {
    let mut paths = Map::new();
    for mounted in routes {
        let mut operation = operation(mounted.service, mounted.method.name, mounted.route);
        if mounted.method.queued {
            queued(&mut operation);
        }
        let entry = paths.entry(mounted.route.path.to_owned()).or_insert_with(|| json!({}));
        entry[mounted.route.method.as_str().to_ascii_lowercase()] = operation;
    }
    if routes.iter().any(|mounted| mounted.method.queued) {
        paths.insert("/jobs/{id}".to_owned(), jobs());
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": "courier services", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": { "schemas": {
            "Error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": { "code": { "type": "string" }, "message": { "type": "string" } }
            },
            "JobStatus": {
                "type": "object",
                "required": ["id", "state", "attempts", "submitted_ms"],
                "properties": {
                    "id": { "type": "string", "description": "the job's token" },
                    "state": {
                        "type": "string",
                        "enum": ["queued", "running", "succeeded", "failed", "cancelled", "expired"]
                    },
                    "progress": { "type": "number", "minimum": 0, "maximum": 1 },
                    "message": { "type": "string" },
                    "attempts": { "type": "integer" },
                    "submitted_ms": { "type": "integer" },
                    "started_ms": { "type": "integer" },
                    "finished_ms": { "type": "integer" }
                }
            }
        } }
    })
}

/// A queued method's route answers `202` with the job, not the result.
fn queued(operation: &mut Value) {
    let responses = &mut operation["responses"];
    if let Some(responses) = responses.as_object_mut() {
        responses.remove("200");
        responses.remove("204");
    }
    responses["202"] = json!({
        "description": "queued as a job: ask `Location` for its status and, once it ends, its result",
        "headers": { "Location": { "schema": { "type": "string" }, "description": "/jobs/{id}" } },
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/JobStatus" } } }
    });
}

/// `GET` and `DELETE` on `/jobs/{id}`.
fn jobs() -> Value {
    let id = json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } });
    let status = json!({ "application/json": { "schema": { "$ref": "#/components/schemas/JobStatus" } } });
    let fault = json!({
        "description": "unknown (404), malformed (400), cancelled (409), expired (410), or a fault that ended it",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    });
    json!({
        "get": {
            "operationId": "jobs.get",
            "tags": ["jobs"],
            "summary": "A job's status while it runs; its result once it has ended",
            "parameters": [id, {
                "name": "wait", "in": "query", "required": false, "schema": { "type": "integer" },
                "description": "milliseconds to wait for the job to end first (at most 30000)"
            }],
            "responses": {
                "202": { "description": "the job has not ended", "content": status },
                "200": { "description": "the job's result, as the call would have answered it" },
                "default": fault
            }
        },
        "delete": {
            "operationId": "jobs.cancel",
            "tags": ["jobs"],
            "summary": "Cancels a job",
            "parameters": [id],
            "responses": { "200": { "description": "the job's status after that", "content": status }, "default": fault }
        }
    })
}

fn operation(service: &str, method: &str, route: &RestRoute) -> Value {
    let parameters: Vec<Value> = route
        .parameters
        .iter()
        .filter_map(|parameter| {
            let place = match parameter.location {
                ParameterLocation::Path => "path",
                ParameterLocation::Query => "query",
                ParameterLocation::Body => return None,
            };
            let optional = parameter.rust_type.starts_with("Option<");
            Some(json!({
                "name": parameter.name,
                "in": place,
                "required": place == "path" || !optional,
                "schema": schema(parameter.rust_type),
            }))
        })
        .collect();
    let mut operation = json!({
        "operationId": format!("{service}.{method}"),
        "tags": [service],
        "summary": route.summary,
        "parameters": parameters,
        "responses": {
            "default": {
                "description": "a fault, or the method's own error (with the `courier-error: method` header)",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
            }
        }
    });
    let success = match route.no_content {
        true => ("204", json!({ "description": "done" })),
        false => ("200", json!({ "description": "the result", "content": { "application/json": { "schema": {} } } })),
    };
    operation["responses"][success.0] = success.1;
    if let Some(body) = route.parameters.iter().find(|parameter| parameter.location == ParameterLocation::Body) {
        operation["requestBody"] = json!({
            "required": true,
            "description": format!("`{}`: {}", body.name, body.rust_type),
            "content": { "application/json": { "schema": {} } }
        });
    }
    operation
}

/// The JSON schema of a path or query parameter's Rust type.
fn schema(rust_type: &str) -> Value {
    let inner = rust_type.strip_prefix("Option<").and_then(|rest| rest.strip_suffix('>')).unwrap_or(rust_type);
    match inner {
        "bool" => json!({ "type": "boolean" }),
        "f32" | "f64" => json!({ "type": "number" }),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => {
            json!({ "type": "integer" })
        }
        _ => json!({ "type": "string" }),
    }
}
