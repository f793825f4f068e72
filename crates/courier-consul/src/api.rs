//! The few endpoints of Consul's HTTP API the registry uses, with Consul's faults turned
//! into errors that say what to do.

use crate::ConsulRegistryBuilder;
use courier_core::{ErrorCode, ServiceError};
use serde::{Deserialize, Serialize};
use std::{collections::HashMap, time::Duration};

/// The agent's answer when a blocking query ends: the entries and the index to wait on next.
pub(crate) struct Passing {
    pub(crate) entries: Vec<HealthEntry>,
    pub(crate) index: u64,
}

#[derive(Clone)]
pub(crate) struct ConsulApi {
    http: reqwest::Client,
    address: String,
    token: Option<String>,
    datacenter: Option<String>,
}

impl std::fmt::Debug for ConsulApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsulApi")
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("datacenter", &self.datacenter)
            .finish_non_exhaustive()
    }
}

/// `PUT /v1/agent/service/register`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ServiceRegistration {
    #[serde(rename = "ID")]
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) tags: Vec<String>,
    pub(crate) address: String,
    pub(crate) port: u16,
    pub(crate) meta: HashMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) check: Option<HttpCheck>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HttpCheck {
    #[serde(rename = "HTTP")]
    pub(crate) http: String,
    pub(crate) interval: String,
    pub(crate) timeout: String,
    #[serde(rename = "TLSSkipVerify")]
    pub(crate) tls_skip_verify: bool,
    pub(crate) status: &'static str,
    pub(crate) deregister_critical_service_after: String,
}

/// One entry of `GET /v1/health/service/<name>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HealthEntry {
    pub(crate) node: Node,
    pub(crate) service: ServiceEntry,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Node {
    #[serde(default)]
    pub(crate) address: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ServiceEntry {
    #[serde(rename = "ID")]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) address: String,
    #[serde(default)]
    pub(crate) port: u16,
    #[serde(default)]
    pub(crate) meta: Option<HashMap<String, String>>,
}

/// A duration in the syntax Consul reads (Go's `time.ParseDuration`).
pub(crate) fn duration(value: Duration) -> String {
    format!("{}ms", value.as_millis())
}

impl ConsulApi {
    pub(crate) fn new(config: &ConsulRegistryBuilder) -> Result<Self, ServiceError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .build()
            .map_err(|error| ServiceError::internal(format!("cannot build the Consul HTTP client: {error}")))?;
        Ok(Self {
            http,
            address: config.address.clone(),
            token: config.token.clone(),
            datacenter: config.datacenter.clone(),
        })
    }

    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, format!("{}{path}", self.address));
        if let Some(token) = &self.token {
            request = request.header("X-Consul-Token", token);
        }
        if let Some(datacenter) = &self.datacenter {
            request = request.query(&[("dc", datacenter)]);
        }
        request
    }

    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> Result<reqwest::Response, ServiceError> {
        let response = request.send().await.map_err(|error| {
            ServiceError::unavailable(format!("Consul at {} cannot be reached to {what}: {error}", self.address))
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        Err(fault(status.as_u16(), body.trim(), what))
    }

    pub(crate) async fn register(&self, registration: &ServiceRegistration) -> Result<(), ServiceError> {
        let what = format!("register `{}`", registration.name);
        self.send(self.request(reqwest::Method::PUT, "/v1/agent/service/register").json(registration), &what)
            .await
            .map(drop)
    }

    /// Deregisters; an ID the agent does not know is already gone.
    pub(crate) async fn deregister(&self, id: &str) -> Result<(), ServiceError> {
        let path = format!("/v1/agent/service/deregister/{id}");
        match self.send(self.request(reqwest::Method::PUT, &path), &format!("deregister `{id}`")).await {
            Err(error) if error.code == ErrorCode::NotFound => Ok(()),
            other => other.map(drop),
        }
    }

    /// Whether the local agent still knows the service instance.
    pub(crate) async fn knows(&self, id: &str) -> Result<bool, ServiceError> {
        let path = format!("/v1/agent/service/{id}");
        match self.send(self.request(reqwest::Method::GET, &path), &format!("look up `{id}`")).await {
            Ok(_) => Ok(true),
            Err(error) if error.code == ErrorCode::NotFound => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// The names of every service the catalog knows.
    pub(crate) async fn services(&self) -> Result<Vec<String>, ServiceError> {
        let request = self.request(reqwest::Method::GET, "/v1/catalog/services").timeout(Duration::from_secs(10));
        let what = "list the services";
        let services: HashMap<String, serde_json::Value> =
            self.send(request, what).await?.json().await.map_err(|error| {
                ServiceError::new(ErrorCode::Transport, format!("Consul's answer to {what} is unreadable: {error}"))
            })?;
        let mut names: Vec<String> = services.into_keys().collect();
        names.sort();
        Ok(names)
    }

    /// A blocking query for the passing instances of a service: returns when they
    /// change after `index`, or after `wait`. Index 0 returns at once.
    pub(crate) async fn passing(&self, service: &str, index: u64, wait: Duration) -> Result<Passing, ServiceError> {
        let mut request =
            self.request(reqwest::Method::GET, &format!("/v1/health/service/{service}")).query(&[("passing", "")]);
        if index > 0 {
            // Consul adds up to wait/16 of jitter; the timeout must outlast it.
            request = request
                .query(&[("index", index.to_string()), ("wait", duration(wait))])
                .timeout(wait + wait / 16 + Duration::from_secs(5));
        } else {
            request = request.timeout(Duration::from_secs(10));
        }
        let what = format!("watch `{service}`");
        let response = self.send(request, &what).await?;
        let index = response
            .headers()
            .get("X-Consul-Index")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok())
            .unwrap_or(0);
        let entries = response.json().await.map_err(|error| {
            ServiceError::new(ErrorCode::Transport, format!("Consul's answer to {what} is unreadable: {error}"))
        })?;
        Ok(Passing { entries, index })
    }
}

/// A refusal of Consul's, in words that say what to do.
fn fault(status: u16, body: &str, what: &str) -> ServiceError {
    if status == 403 {
        let message = match permission(body) {
            Some(permission) => format!(
                "Consul refused to {what}: the token lacks permission `{permission}` ({body}); \
                 set CONSUL_HTTP_TOKEN to a token whose policy grants it"
            ),
            None if body.contains("ACL not found") => {
                format!(
                    "Consul refused to {what}: the token is unknown to Consul (ACL not found); check CONSUL_HTTP_TOKEN"
                )
            }
            None => format!("Consul refused to {what}: {body}; check CONSUL_HTTP_TOKEN"),
        };
        return ServiceError::new(ErrorCode::Forbidden, message);
    }
    let code = match status {
        400 => ErrorCode::BadRequest,
        404 => ErrorCode::NotFound,
        500..=599 => ErrorCode::Unavailable,
        _ => ErrorCode::Internal,
    };
    ServiceError::new(code, format!("Consul refused to {what} (HTTP {status}): {body}"))
}

/// `service:write` from `... lacks permission 'service:write' on "web"`.
fn permission(body: &str) -> Option<String> {
    let rest = body.split("lacks permission '").nth(1)?;
    let (permission, rest) = rest.split_once('\'')?;
    let target = rest.trim().strip_prefix("on ").map(str::trim).unwrap_or_default();
    Some(if target.is_empty() { permission.to_owned() } else { format!("{permission} on {target}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acl_denials_name_the_missing_permission() {
        let body = r#"Permission denied: token with AccessorID 'abc' lacks permission 'service:write' on "greeter""#;
        let error = fault(403, body, "register `greeter`");
        assert_eq!(error.code, ErrorCode::Forbidden);
        assert!(error.message.contains(r#"`service:write on "greeter"`"#), "{error}");
    }
}
