//! Routes that would answer the same requests are refused as the server starts, with an
//! error naming both — whether two services, a service and courier's own routes, or the
//! user's routes and courier's collide.

use axum::{routing::get, Router};
use courier::{
    prelude::*,
    server::{ServerBuilder, ServerError},
};

/// Claims the path of courier's health report.
#[service(name = "squatter")]
#[rest]
trait Squatter {
    #[get("/health")]
    async fn health(&self) -> Result<String, ServiceError>;
}

/// Users, by id.
#[service(name = "users-by-id")]
#[rest("/api")]
trait UsersById {
    #[get("/users/{id}")]
    async fn get(&self, id: u64) -> Result<String, ServiceError>;
}

/// Users, by name: the same requests as by id.
#[service(name = "users-by-name")]
#[rest("/api")]
trait UsersByName {
    #[post("/users/{name}")]
    async fn touch(&self, name: String) -> Result<String, ServiceError>;
}

/// Other methods on the very path of [`UsersById`]: no conflict.
#[service(name = "users-admin")]
#[rest("/api")]
trait UsersAdmin {
    #[delete("/users/{id}")]
    async fn remove(&self, id: u64) -> Result<(), ServiceError>;
}

#[component(name = "squatting", services = [Squatter])]
struct Squatting;

#[component(name = "users-by-id", services = [UsersById])]
struct ById;

#[component(name = "users-by-name", services = [UsersByName])]
struct ByName;

#[component(name = "users-admin", services = [UsersAdmin])]
struct Admin;

#[derive(Default)]
struct Everything;

#[implementation]
impl Squatter for Everything {
    async fn health(&self) -> Result<String, ServiceError> {
        Ok("mine".into())
    }
}

#[implementation]
impl UsersById for Everything {
    async fn get(&self, id: u64) -> Result<String, ServiceError> {
        Ok(format!("user {id}"))
    }
}

#[implementation]
impl UsersByName for Everything {
    async fn touch(&self, name: String) -> Result<String, ServiceError> {
        Ok(name)
    }
}

#[implementation]
impl UsersAdmin for Everything {
    async fn remove(&self, _id: u64) -> Result<(), ServiceError> {
        Ok(())
    }
}

async fn refusal(builder: ServerBuilder) -> String {
    let error = builder.registry(LocalRegistry::new()).start().await.expect_err("conflicting routes");
    assert!(matches!(error, ServerError::Routes(_)), "{error:?}");
    error.to_string()
}

#[tokio::test]
async fn a_rest_route_on_a_path_of_courier_is_refused() {
    let message = refusal(Server::builder().component(Squatting)).await;
    assert!(message.contains("GET of service `squatter` at `/health`"), "{message}");
    assert!(message.contains("courier's own route at `/health`"), "{message}");
}

#[tokio::test]
async fn two_templates_that_match_the_same_paths_are_refused_whatever_their_methods() {
    let message = refusal(Server::builder().component(ById).component(ByName)).await;
    assert!(message.contains("`users-by-name`") && message.contains("`users-by-id`"), "{message}");
    assert!(message.contains("/api/users/{id}") && message.contains("/api/users/{name}"), "{message}");
}

#[tokio::test]
async fn a_users_route_on_a_path_of_courier_is_refused() {
    let routes = Router::new().route("/health", get(|| async { "mine" }));
    let message = refusal(Server::builder().component(ById).routes(routes)).await;
    assert!(message.contains("/health"), "{message}");
}

#[tokio::test]
async fn other_methods_on_one_path_share_it() {
    let registry = LocalRegistry::new();
    let mut server =
        Server::builder().registry(registry).component(ById).component(Admin).start().await.expect("no conflict");
    let http = reqwest::Client::new();
    let url = format!("{}/api/users/7", server.url());
    let got = http.get(&url).send().await.expect("request");
    assert_eq!(got.json::<String>().await.expect("body"), "user 7");
    let removed = http.delete(&url).send().await.expect("request");
    assert_eq!(removed.status(), 204);
    let refused = http.put(&url).send().await.expect("request");
    assert_eq!(refused.status(), 405);
    server.shutdown().await.expect("clean shutdown");
}
