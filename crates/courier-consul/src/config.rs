use crate::{api::ConsulApi, ConsulRegistry};
use courier_core::ServiceError;
use std::time::Duration;

/// Configures a [`ConsulRegistry`]. Made by [`ConsulRegistry::builder`]. Its `Debug`
/// shows `<redacted>` for the token.
#[derive(Clone)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct ConsulRegistryBuilder {
    pub(crate) address: String,
    pub(crate) token: Option<String>,
    pub(crate) datacenter: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) check_interval: Duration,
    pub(crate) check_timeout: Duration,
    pub(crate) verify_check_tls: bool,
    pub(crate) deregister_critical_after: Duration,
    pub(crate) watch_wait: Duration,
    pub(crate) resync_interval: Duration,
}

impl std::fmt::Debug for ConsulRegistryBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsulRegistryBuilder")
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("datacenter", &self.datacenter)
            .field("tags", &self.tags)
            .field("check_interval", &self.check_interval)
            .field("check_timeout", &self.check_timeout)
            .field("verify_check_tls", &self.verify_check_tls)
            .field("deregister_critical_after", &self.deregister_critical_after)
            .field("watch_wait", &self.watch_wait)
            .field("resync_interval", &self.resync_interval)
            .finish()
    }
}

impl Default for ConsulRegistryBuilder {
    fn default() -> Self {
        Self {
            address: "http://127.0.0.1:8500".into(),
            token: None,
            datacenter: None,
            tags: Vec::new(),
            check_interval: Duration::from_secs(2),
            check_timeout: Duration::from_secs(1),
            verify_check_tls: false,
            deregister_critical_after: Duration::from_secs(60),
            watch_wait: Duration::from_secs(30),
            resync_interval: Duration::from_secs(5),
        }
    }
}

impl ConsulRegistryBuilder {
    /// Reads `CONSUL_HTTP_ADDR` (`host:port` or a URL; `CONSUL_HTTP_SSL=true` picks
    /// https for a bare `host:port`) and `CONSUL_HTTP_TOKEN`, as Consul's own tools do.
    pub fn from_env() -> Self {
        let mut builder = Self::default();
        if let Some(address) = env(crate::ADDRESS_VARIABLE) {
            let https = env("CONSUL_HTTP_SSL").is_some_and(|ssl| ssl == "true" || ssl == "1");
            builder.address = with_scheme(&address, https);
        }
        builder.token = env("CONSUL_HTTP_TOKEN");
        builder
    }

    /// The agent's HTTP address: `http://127.0.0.1:8500` (the default) or `host:port`.
    pub fn address(mut self, address: impl AsRef<str>) -> Self {
        self.address = with_scheme(address.as_ref(), false);
        self
    }

    /// The ACL token, sent as `X-Consul-Token`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The datacenter to register in and watch; default: the agent's own.
    pub fn datacenter(mut self, datacenter: impl Into<String>) -> Self {
        self.datacenter = Some(datacenter.into());
        self
    }

    /// Tags added to every registration.
    pub fn tags(mut self, tags: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// How often Consul probes each instance's health endpoint (at least 1 s); an
    /// instance that stops answering leaves the passing set at the next probe. Default: 2 s.
    pub fn check_interval(mut self, interval: Duration) -> Self {
        self.check_interval = interval.max(Duration::from_secs(1));
        self
    }

    /// Whether Consul verifies the certificate of an `https://` instance when it runs
    /// the instance's health check. Off by default: the check only asks whether the
    /// instance is alive and carries no secret, and an agent trusts only the CA in its own
    /// TLS settings (`tls.defaults.ca_file`), which is rarely the one services' certificates
    /// come from; clients, which do send secrets, always verify. Turn it on when the agent
    /// trusts your services' CA.
    pub fn verify_check_tls(mut self, verify: bool) -> Self {
        self.verify_check_tls = verify;
        self
    }

    /// How long an instance may stay critical before Consul removes it (at least 1 min,
    /// Consul's floor). Default: 1 min.
    pub fn deregister_critical_after(mut self, after: Duration) -> Self {
        self.deregister_critical_after = after.max(Duration::from_secs(60));
        self
    }

    /// How long one blocking query waits for a change. Default: 30 s.
    pub fn watch_wait(mut self, wait: Duration) -> Self {
        self.watch_wait = wait.max(Duration::from_secs(1));
        self
    }

    /// How often a registered instance checks that the agent still knows it, and
    /// registers again if not (an agent that restarted has forgotten it). Default: 5 s.
    pub fn resync_interval(mut self, interval: Duration) -> Self {
        self.resync_interval = interval.max(Duration::from_millis(100));
        self
    }

    /// The registry. Fails only when the HTTP client cannot be built.
    pub fn build(self) -> Result<ConsulRegistry, ServiceError> {
        Ok(ConsulRegistry::new(ConsulApi::new(&self)?, self))
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn with_scheme(address: &str, https: bool) -> String {
    let address = address.trim_end_matches('/');
    if address.starts_with("http://") || address.starts_with("https://") {
        address.to_owned()
    } else {
        format!("{}://{address}", if https { "https" } else { "http" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_get_a_scheme() {
        assert_eq!(with_scheme("127.0.0.1:8500", false), "http://127.0.0.1:8500");
        assert_eq!(with_scheme("consul:8501", true), "https://consul:8501");
        assert_eq!(with_scheme("https://consul:8501/", false), "https://consul:8501");
    }

    #[test]
    fn the_token_is_never_printed() {
        let builder = ConsulRegistryBuilder::default().token("s3cret-acl-token");
        let registry = builder.clone().build().unwrap();
        for printed in [format!("{builder:?}"), format!("{registry:?}"), format!("{:?}", registry.inner.api)] {
            assert!(!printed.contains("s3cret"), "{printed}");
        }
        assert!(format!("{builder:?}").contains("<redacted>"));
        assert!(format!("{:?}", registry.inner.api).contains("<redacted>"));
    }
}
