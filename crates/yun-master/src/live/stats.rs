//! One feed per watched container on this master: a single upstream stream from its node,
//! fanned out to every subscriber as ready-made JSON, plus a message whenever the container's
//! state changes. A feed ends (and so does the node's sampler) when its last subscriber goes.

use crate::nodes::{NodeError, Registry};
use futures::stream::BoxStream;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use yun_api::live::{StatsFrame, StatsMessage};
use yun_core::node::StatsSample;
use yun_core::ContainerState;
use yun_store::{ContainerRow, Store};

/// A message as sent on the socket; cloning shares the bytes, so fan-out copies nothing.
pub type Frame = axum::extract::ws::Utf8Bytes;

#[derive(Clone)]
pub struct StatsRelay {
    /// Where a feed looks at the container's state, and the node it asks for samples.
    store: Store,
    registry: Registry,
    feeds: Arc<Mutex<HashMap<String, broadcast::Sender<Frame>>>>,
}

/// How often a feed looks at its subscribers and the container's state.
const LOOK: Duration = Duration::from_secs(1);

/// The JSON of one sample; `cpu_limit_percent` 100 is the container's whole CPU quota. It is
/// capped at 100: the kernel never lets a container past its quota, and a one-second window
/// that happens to hold one more CFS period's burst than the next would otherwise read a little
/// over it.
pub fn stats_frame(s: &StatsSample, cpu_millis: u32) -> Frame {
    let quota_cores = f64::from(cpu_millis.max(1)) / 1000.0;
    frame(&StatsMessage::Stats(StatsFrame {
        ts: s.ts_unix_ms,
        cpu_percent: round2(s.cpu_percent),
        cpu_limit_percent: round2((s.cpu_percent / quota_cores).min(100.0)),
        memory_bytes: s.memory_bytes,
        memory_limit_bytes: s.memory_limit_bytes,
        pids: s.pids,
        net_rx_bytes: s.net_rx_bytes,
        net_tx_bytes: s.net_tx_bytes,
        blk_read_bytes: s.blk_read_bytes,
        blk_write_bytes: s.blk_write_bytes,
        source: s.source.clone(),
    }))
}

pub fn state_frame(state: ContainerState, exit_code: Option<i64>) -> Frame {
    frame(&StatsMessage::State {
        state: crate::wire::container_state(state),
        exit_code,
    })
}

fn frame(m: &StatsMessage) -> Frame {
    serde_json::to_string(m)
        .expect("a stats message is plain JSON")
        .into()
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

impl StatsRelay {
    pub fn new(store: Store, registry: Registry) -> Self {
        Self {
            store,
            registry,
            feeds: Arc::default(),
        }
    }

    /// Subscribes to a container's feed, starting it if nobody on this master watched it.
    pub fn subscribe(&self, row: &ContainerRow) -> broadcast::Receiver<Frame> {
        let mut feeds = self.feeds.lock().expect("feeds");
        if let Some(tx) = feeds.get(&row.id) {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(32);
        feeds.insert(row.id.clone(), tx.clone());
        tokio::spawn(feed(self.clone(), row.clone(), tx));
        rx
    }

    fn unwatched(&self, id: &str, tx: &broadcast::Sender<Frame>) -> bool {
        let mut feeds = self.feeds.lock().expect("feeds");
        if tx.receiver_count() > 0 {
            return false;
        }
        feeds.remove(id);
        true
    }
}

async fn feed(relay: StatsRelay, row: ContainerRow, tx: broadcast::Sender<Frame>) {
    let mut upstream: Option<BoxStream<'static, Result<StatsSample, NodeError>>> = None;
    let (mut last_state, mut last_code) = (row.state, row.exit_code);
    let mut look = tokio::time::interval(LOOK);
    look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let next = async {
            match upstream.as_mut() {
                Some(s) => s.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = next => match msg {
                Some(Ok(sample)) if sample.running => {
                    let _ = tx.send(stats_frame(&sample, row.cpu_millis));
                }
                Some(Ok(_)) => {}
                // The node went away or ended the stream; the next look reconnects.
                None | Some(Err(_)) => upstream = None,
            },
            _ = look.tick() => {
                if relay.unwatched(&row.id, &tx) {
                    return;
                }
                let Ok(Some(now)) = relay.store.get_container(None, &row.id).await else {
                    let _ = tx.send(state_frame(ContainerState::Removing, None));
                    relay.feeds.lock().expect("feeds").remove(&row.id);
                    return;
                };
                if (now.state, now.exit_code) != (last_state, last_code) {
                    (last_state, last_code) = (now.state, now.exit_code);
                    let _ = tx.send(state_frame(now.state, now.exit_code));
                }
                if upstream.is_none() {
                    if let Some(client) = relay.registry.ready_client(&row.node_id) {
                        upstream = client.stats(&row.id).await.ok();
                    }
                }
            }
        }
    }
}
