//! A REST service with an error of its own: routes any HTTP client can call, an OpenAPI
//! document of them, and a domain error that reaches a courier caller as itself and an
//! HTTP caller as a status with a body. `cargo run --example rest`

use courier::{health::CheckOptions, prelude::*};
use std::{collections::BTreeMap, sync::Mutex};

/// Someone with an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct User {
    pub name: String,
    pub email: String,
}

/// What can go wrong with users, beside courier's own faults.
#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
pub enum UserError {
    #[error("no user {id}")]
    NotFound { id: u64 },
    #[error("{email} is taken")]
    Taken { email: String },
    /// courier could not deliver the call: every method's error type converts from it.
    #[error(transparent)]
    Courier(#[from] ServiceError),
}

/// The accounts of the shop.
#[service]
#[rest("/api")]
pub trait Users {
    /// One user.
    #[get("/users/{id}")]
    async fn get(&self, id: u64) -> Result<User, UserError>;

    /// Adds a user and returns its id; `notify` sends a welcome mail.
    #[post("/users")]
    async fn create(&self, user: User, #[query] notify: bool) -> Result<u64, UserError>;
}

#[component(services = [Users])]
struct UsersComponent;

#[derive(Default)]
struct Accounts(Mutex<BTreeMap<u64, User>>);

#[implementation]
impl Users for Accounts {
    async fn get(&self, id: u64) -> Result<User, UserError> {
        let users = self.0.lock().map_err(|_| ServiceError::internal("poisoned"))?;
        users.get(&id).cloned().ok_or(UserError::NotFound { id })
    }

    async fn create(&self, user: User, notify: bool) -> Result<u64, UserError> {
        let mut users = self.0.lock().map_err(|_| ServiceError::internal("poisoned"))?;
        if users.values().any(|known| known.email == user.email) {
            return Err(UserError::Taken { email: user.email });
        }
        let id = users.len() as u64 + 1;
        tracing::info!(id, notify, "created a user");
        users.insert(id, user);
        Ok(id)
    }
}

#[health_checks]
impl Accounts {
    // Runs at most every 10 s however often it is probed; ERROR if slower than 1 s.
    #[health_check(cache = "10s", fail_if_slower_than = "1s")]
    async fn capacity(&self, result: &mut CheckResult) {
        let accounts = self.0.lock().map_or(0, |users| users.len());
        if accounts > 1_000 {
            result.warning(format!("{accounts} accounts: time to shard"));
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Report> {
    let mut server = Server::builder()
        .component(UsersComponent)
        .health_check("disk", CheckOptions::new(), |result| async move { result })
        .start()
        .await?;
    let url = server.url().to_owned();

    // A courier caller, on the REST channel: domain errors come back as themselves.
    let users = ServiceManager::default().proxy::<dyn Users>().channel(ChannelKind::Rest).build()?;
    let ada = User { name: "Ada".into(), email: "ada@example.com".into() };
    let id = users.create(ada.clone(), true).await?;
    assert_eq!(users.get(id).await?, ada);
    assert_eq!(users.get(7).await, Err(UserError::NotFound { id: 7 }));

    // Any HTTP caller: JSON in and out, the error as a 500 with `courier-error: method`.
    let http = reqwest::Client::new();
    let found = http.get(format!("{url}/api/users/{id}")).send().await?;
    println!("GET /api/users/{id}: {} {}", found.status(), found.text().await?);
    let taken = http.post(format!("{url}/api/users?notify=false")).json(&ada).send().await?;
    assert_eq!(taken.headers()["courier-error"], "method");
    println!("POST /api/users: {} {}", taken.status(), taken.text().await?);

    // The checks, the components' status, 200 or 503: what Consul and load balancers ask.
    let health = http.get(format!("{url}/health")).send().await?;
    println!("GET /health: {} {}", health.status(), health.text().await?);

    // Every route, its parameters and its types, for any language's generator.
    let document: serde_json::Value = http.get(format!("{url}/openapi.json")).send().await?.json().await?;
    println!("GET /openapi.json: {} paths", document["paths"].as_object().map_or(0, |paths| paths.len()));

    server.shutdown().await?;
    Ok(())
}
