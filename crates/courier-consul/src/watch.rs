//! Following a component's passing instances with blocking queries.

use crate::{
    api::HealthEntry,
    registry::{Inner, CHANNEL_META_PREFIX},
};
use courier_core::{telemetry, ChannelKind, Instance, Instances};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};
use tokio::sync::watch;

/// At most this many queries a second per component, however fast Consul answers.
const MIN_QUERY_GAP: Duration = Duration::from_millis(100);
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The instances of one component, per remote channel.
pub(crate) struct ComponentWatch {
    channels: HashMap<ChannelKind, watch::Sender<Instances>>,
    answered: AtomicBool,
}

impl ComponentWatch {
    pub(crate) fn new() -> Self {
        let channels =
            ChannelKind::REMOTE.iter().map(|&channel| (channel, watch::Sender::new(Instances::from([])))).collect();
        Self { channels, answered: AtomicBool::new(false) }
    }

    pub(crate) fn subscribe(&self, channel: ChannelKind) -> watch::Receiver<Instances> {
        match self.channels.get(&channel) {
            Some(sender) => {
                let mut receiver = sender.subscribe();
                if self.answered.load(Ordering::Acquire) {
                    receiver.mark_changed();
                }
                receiver
            }
            // No remote instances serve a local channel.
            None => watch::Sender::new(Instances::from([])).subscribe(),
        }
    }

    fn unwatched(&self) -> bool {
        self.channels.values().all(|sender| sender.receiver_count() == 0)
    }

    /// Publishes the instances of every channel; `first` answers are sent even when
    /// unchanged, so waiting callers learn that the answer is in.
    fn publish(&self, component: &str, entries: &[HealthEntry], first: bool) {
        self.answered.store(true, Ordering::Release);
        for (&channel, sender) in &self.channels {
            let instances: Vec<Instance> = entries.iter().filter_map(|entry| instance(entry, channel)).collect();
            sender.send_if_modified(|current| {
                let changed = first || **current != *instances;
                if changed {
                    *current = instances.into_iter().map(|instance| instance.carried_over(current)).collect();
                    telemetry::watch_updated("consul", component, channel, current.len());
                }
                changed
            });
        }
    }
}

/// The instance an entry offers on a channel: the URL its meta gives for the channel, or
/// its address (`Service.Address`, else `Node.Address`) and port when the meta names
/// the channel without a URL.
pub(crate) fn instance(entry: &HealthEntry, channel: ChannelKind) -> Option<Instance> {
    let service = &entry.service;
    let url = service.meta.as_ref()?.get(&format!("{CHANNEL_META_PREFIX}{}", channel.name()))?;
    let url = match url.is_empty() {
        false => url.clone(),
        true => {
            let address = if service.address.is_empty() { &entry.node.address } else { &service.address };
            format!("http://{address}:{}", service.port)
        }
    };
    Some(Instance::new(&service.id, url))
}

/// The index to send next: Consul's rules for blocking queries.
fn next_index(last: u64, returned: u64) -> u64 {
    if returned < last {
        // The index went backwards (the agent restarted): start over.
        0
    } else {
        returned.max(1)
    }
}

/// Runs blocking queries for a component until no proxy watches it any more. Holds the
/// registry alive meanwhile: proxies outlive the manager that built them.
pub(crate) async fn follow(registry: Arc<Inner>, component: String, watch: Arc<ComponentWatch>) {
    let mut index = 0;
    let mut first = true;
    let mut backoff = FIRST_BACKOFF;
    let mut gap = tokio::time::interval(MIN_QUERY_GAP);
    gap.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        gap.tick().await;
        {
            let mut watches = courier_core::sync::lock(&registry.watches);
            if watch.unwatched() {
                watches.remove(&component);
                return;
            }
        }
        match registry.api.passing(&component, index, registry.config.watch_wait).await {
            Ok(passing) => {
                index = next_index(index, passing.index);
                backoff = FIRST_BACKOFF;
                watch.publish(&component, &passing.entries, first);
                first = false;
            }
            Err(error) => {
                // Keep the last known instances: calls go on while Consul is away.
                tracing::warn!(component, %error, retry_in = ?backoff, "Consul watch failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                index = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::next_index;

    #[test]
    fn the_index_resets_when_it_goes_backwards_and_never_drops_below_one() {
        assert_eq!(next_index(0, 0), 1);
        assert_eq!(next_index(10, 12), 12);
        assert_eq!(next_index(10, 10), 10);
        assert_eq!(next_index(10, 3), 0);
    }
}
