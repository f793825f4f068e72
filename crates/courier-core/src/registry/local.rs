use super::{ComponentRegistry, Instance, Instances, Registration};
use crate::{telemetry, ChannelKind, ServiceError};
use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
};
use tokio::sync::watch;

use super::environment::{self, PEERS_VARIABLE};

/// The in-process registry: servers and clients of one process share it, and other
/// processes' instances can be added by hand.
///
/// Clones share the same state.
///
/// ```
/// # mod courier { pub use courier_core::*; pub mod registry { pub use courier_core::*; } }
/// use courier::{ChannelKind, registry::LocalRegistry};
/// let registry = LocalRegistry::new();
/// registry.add_peers("greeter=http://10.0.0.7:8080 greeter=http://10.0.0.8:8080").unwrap();
/// let instances = registry.instances("greeter", ChannelKind::DispatchMsgpack);
/// assert_eq!(instances.len(), 2);
/// assert_eq!(instances[1].url, "http://10.0.0.8:8080");
/// ```
#[derive(Debug, Clone, Default)]
pub struct LocalRegistry {
    watches: Arc<Mutex<Watches>>,
    origin: Origin,
}

/// How a registry came to be, for saying where it looked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Origin {
    /// Made by the program with [`LocalRegistry::new`].
    #[default]
    Own,
    /// The process's: [`LocalRegistry::shared`].
    Shared,
    /// Made by [`LocalRegistry::from_env`].
    Environment,
}

/// The instances of each component on each channel.
type Watches = HashMap<(String, ChannelKind), watch::Sender<Instances>>;

static SHARED: LazyLock<LocalRegistry> =
    LazyLock::new(|| LocalRegistry { origin: Origin::Shared, ..LocalRegistry::default() });

impl LocalRegistry {
    /// An empty registry of its own.
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry of this process: the one its servers and clients use when neither
    /// the program nor the environment names another (see [`local_from_env`](super::local_from_env)).
    pub fn shared() -> Self {
        SHARED.clone()
    }

    /// A new registry holding the peers listed in `COURIER_PEERS` (see
    /// [`add_peers`](Self::add_peers)); empty when the variable is not set.
    pub fn from_env() -> Result<Self, ServiceError> {
        let registry = Self { origin: Origin::Environment, ..Self::default() };
        if let Ok(peers) = std::env::var(PEERS_VARIABLE) {
            registry.add_peers(&peers)?;
        }
        Ok(registry)
    }

    /// Adds instances of other processes, listed as `component=url` entries separated by
    /// commas or whitespace. Each is reachable on every remote channel.
    pub fn add_peers(&self, peers: &str) -> Result<(), ServiceError> {
        for entry in peers.split(|c: char| c == ',' || c.is_whitespace()).filter(|e| !e.is_empty()) {
            let (component, url) = entry
                .split_once('=')
                .filter(|(component, url)| {
                    !component.is_empty() && (url.starts_with("http://") || url.starts_with("https://"))
                })
                .ok_or_else(|| {
                    ServiceError::bad_request(format!("peer `{entry}` is not `component=http://host:port`"))
                })?;
            self.add_peer(component, url);
        }
        Ok(())
    }

    /// Adds one instance of another process, reachable on every remote channel.
    pub fn add_peer(&self, component: &str, url: &str) {
        let instance = Instance::new(url, url);
        for &channel in ChannelKind::REMOTE {
            self.update(component, channel, |instances| insert(instances, &instance));
        }
    }

    /// The instances of a component on a channel right now.
    pub fn instances(&self, component: &str, channel: ChannelKind) -> Instances {
        self.watch(component, channel).borrow().clone()
    }

    fn update(&self, component: &str, channel: ChannelKind, change: impl FnOnce(&Instances) -> Option<Instances>) {
        let mut watches = crate::sync::lock(&self.watches);
        let sender =
            watches.entry((component.to_owned(), channel)).or_insert_with(|| watch::Sender::new(Instances::from([])));
        sender.send_if_modified(|instances| match change(instances) {
            Some(changed) => {
                *instances = changed;
                telemetry::watch_updated("local", component, channel, instances.len());
                true
            }
            None => false,
        });
    }
}

fn insert(instances: &Instances, instance: &Instance) -> Option<Instances> {
    if instances.iter().any(|known| known.id == instance.id) {
        return None;
    }
    Some(instances.iter().cloned().chain([instance.clone()]).collect())
}

fn remove(instances: &Instances, id: &str) -> Option<Instances> {
    if !instances.iter().any(|known| known.id == id) {
        return None;
    }
    Some(instances.iter().filter(|known| known.id != id).cloned().collect())
}

#[async_trait::async_trait]
impl ComponentRegistry for LocalRegistry {
    async fn register(&self, registration: &Registration) -> Result<(), ServiceError> {
        let instance = registration.instance();
        for &channel in &registration.channels {
            self.update(&registration.component, channel, |instances| insert(instances, &instance));
        }
        Ok(())
    }

    async fn deregister(&self, registration: &Registration) -> Result<(), ServiceError> {
        for &channel in &registration.channels {
            self.update(&registration.component, channel, |instances| remove(instances, &registration.instance_id));
        }
        Ok(())
    }

    fn watch(&self, component: &str, channel: ChannelKind) -> watch::Receiver<Instances> {
        let mut watches = crate::sync::lock(&self.watches);
        let mut receiver = watches
            .entry((component.to_owned(), channel))
            .or_insert_with(|| watch::Sender::new(Instances::from([])))
            .subscribe();
        // What this registry holds is already the answer.
        receiver.mark_changed();
        receiver
    }

    async fn catalog(&self) -> Result<Vec<Registration>, ServiceError> {
        let watches = crate::sync::lock(&self.watches);
        let mut listed: Vec<Registration> = Vec::new();
        for ((component, channel), instances) in watches.iter() {
            for instance in instances.borrow().iter() {
                let known = listed
                    .iter_mut()
                    .find(|listed| listed.component == *component && listed.instance_id == instance.id);
                match known {
                    Some(registration) => registration.channels.push(*channel),
                    None => listed.push(Registration {
                        component: component.clone(),
                        instance_id: instance.id.clone(),
                        url: instance.url.clone(),
                        channels: vec![*channel],
                        health_url: None,
                    }),
                }
            }
        }
        listed.iter_mut().for_each(|registration| registration.channels.sort());
        listed.sort_by(|a, b| (&a.component, &a.instance_id).cmp(&(&b.component, &b.instance_id)));
        Ok(listed)
    }

    fn describe(&self) -> String {
        match (self.origin, environment::shared_peers()) {
            (Origin::Own, _) => "an in-process registry of the program's own (`LocalRegistry::new`)".into(),
            (Origin::Shared, Some(peers)) => format!("the in-process registry, with {PEERS_VARIABLE}=`{peers}`"),
            (Origin::Shared, None) if std::env::var_os(PEERS_VARIABLE).is_some() => format!(
                "the in-process registry (`LocalRegistry::shared`), which knows this process's servers only: \
                 {PEERS_VARIABLE} is read by the default registry, not by one the program names"
            ),
            (Origin::Shared, None) => format!(
                "the in-process registry, which knows this process's servers only \
                 ({PEERS_VARIABLE} is not set: list other processes' instances in it, as `component=http://host:port`)"
            ),
            (Origin::Environment, _) => format!(
                "an in-process registry with {PEERS_VARIABLE}=`{}`",
                std::env::var(PEERS_VARIABLE).unwrap_or_default()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration(id: &str) -> Registration {
        Registration {
            component: "greeter".into(),
            instance_id: id.into(),
            url: format!("http://{id}"),
            channels: vec![ChannelKind::DispatchJson],
            health_url: None,
        }
    }

    #[tokio::test]
    async fn a_watch_sees_instances_come_and_go() {
        let registry = LocalRegistry::new();
        let mut watch = registry.watch("greeter", ChannelKind::DispatchJson);
        assert!(watch.has_changed().expect("registry alive"), "the answer is known at once");
        assert!(watch.borrow_and_update().is_empty());

        registry.register(&registration("a")).await.expect("register a");
        registry.register(&registration("b")).await.expect("register b");
        assert!(watch.has_changed().expect("registry alive"));
        let ids: Vec<_> = watch.borrow_and_update().iter().map(|i| i.id.clone()).collect();
        assert_eq!(ids, ["a", "b"]);

        registry.deregister(&registration("a")).await.expect("deregister a");
        let ids: Vec<_> = watch.borrow_and_update().iter().map(|i| i.id.clone()).collect();
        assert_eq!(ids, ["b"]);
        assert!(registry.instances("greeter", ChannelKind::DispatchMsgpack).is_empty(), "other channels untouched");
    }

    #[test]
    fn malformed_peers_are_refused_with_the_entry() {
        let error = LocalRegistry::new().add_peers("greeter:8080").expect_err("no `=`");
        assert!(error.message.contains("greeter:8080"), "{error}");
    }
}
