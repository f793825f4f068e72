//! The OpenAPI 3 document of the REST routes a server mounts, from the same descriptors:
//! parameters, bodies, results and errors as JSON Schemas of their Rust types, shared
//! ones under `components.schemas`.

use crate::rest::Mounted;
use courier_core::{
    jobs::JobStatus,
    rest::{ParameterLocation, RouteSchemas},
    ServiceError,
};
use schemars::{generate::SchemaSettings, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

/// Where the document is served.
pub(crate) const OPENAPI_PATH: &str = "/openapi.json";

/// The document for these routes, and for `/jobs/{id}` when one of them is queued.
pub(crate) fn document(routes: &[Mounted]) -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let error = generator.subschema_for::<ServiceError>().to_value();
    let job = generator.subschema_for::<JobStatus>().to_value();
    let mut paths = Map::new();
    for mounted in routes {
        let schemas = (mounted.route.schemas)(&mut generator);
        let mut operation = operation(&mut generator, mounted, schemas, &error);
        if mounted.method.queued {
            queued(&mut operation, &job);
        }
        let entry = paths.entry(mounted.route.path.to_owned()).or_insert_with(|| json!({}));
        entry[mounted.route.method.as_str().to_ascii_lowercase()] = operation;
    }
    if routes.iter().any(|mounted| mounted.method.queued) {
        paths.insert("/jobs/{id}".to_owned(), jobs(&job, &error));
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": "courier services", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": { "schemas": generator.take_definitions(true) },
    })
}

/// A schema the generator handed out inline, with the changes OpenAPI 3.0 needs
/// (`nullable` for optional values, ...) that it makes to its definitions.
fn finished(generator: &mut SchemaGenerator, mut schema: Schema) -> Value {
    for transform in generator.transforms_mut() {
        transform.transform(&mut schema);
    }
    schema.to_value()
}

fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

fn operation(generator: &mut SchemaGenerator, mounted: &Mounted, schemas: RouteSchemas, error: &Value) -> Value {
    let route = mounted.route;
    let mut parameters = Vec::new();
    let mut body = None;
    for (parameter, schema) in route.parameters.iter().zip(schemas.parameters) {
        let schema = finished(generator, schema);
        let place = match parameter.location {
            ParameterLocation::Path => "path",
            ParameterLocation::Query => "query",
            ParameterLocation::Body => {
                body = Some((parameter, schema));
                continue;
            }
        };
        let optional = parameter.rust_type.starts_with("Option<");
        parameters.push(json!({
            "name": parameter.name,
            "in": place,
            "required": place == "path" || !optional,
            "schema": schema,
        }));
    }
    let method_error = finished(generator, schemas.error);
    let faults = match &method_error == error {
        true => error.clone(),
        false => json!({ "anyOf": [error, method_error] }),
    };
    let mut operation = json!({
        "operationId": format!("{}.{}", mounted.service, mounted.method.name),
        "tags": [mounted.service],
        "summary": route.summary,
        "parameters": parameters,
        "responses": {
            "default": {
                "description": "a fault (`Error`), or the method's own error, marked with the `courier-error: method` header",
                "content": json_content(faults),
            }
        }
    });
    operation["responses"][if route.no_content { "204" } else { "200" }] = match route.no_content {
        true => json!({ "description": "done" }),
        false => json!({ "description": "the result", "content": json_content(finished(generator, schemas.result)) }),
    };
    if let Some((parameter, schema)) = body {
        operation["requestBody"] = json!({
            "required": !parameter.rust_type.starts_with("Option<"),
            "description": format!("`{}`", parameter.name),
            "content": json_content(schema),
        });
    }
    operation
}

/// A queued method's route answers `202` with the job, not the result.
fn queued(operation: &mut Value, job: &Value) {
    let responses = &mut operation["responses"];
    if let Some(responses) = responses.as_object_mut() {
        responses.remove("200");
        responses.remove("204");
    }
    responses["202"] = json!({
        "description": "queued as a job: ask `Location` for its status and, once it ends, its result",
        "headers": { "Location": { "schema": { "type": "string" }, "description": "/jobs/{id}" } },
        "content": json_content(job.clone()),
    });
}

/// `GET` and `DELETE` on `/jobs/{id}`.
fn jobs(job: &Value, error: &Value) -> Value {
    let id = json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } });
    let status = json_content(job.clone());
    let fault = json!({
        "description": "unknown (404), malformed (400), cancelled (409), expired (410), or a fault that ended it",
        "content": json_content(error.clone()),
    });
    json!({
        "get": {
            "operationId": "jobs.get",
            "tags": ["jobs"],
            "summary": "A job's status while it runs; its result once it has ended",
            "parameters": [id, {
                "name": "wait", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 },
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
