//! Live stats: one sampler per container on this worker, shared by every subscriber, running
//! only while someone watches. Samplers read the container's cgroup and /proc directly (no
//! Docker stats API, which costs dockerd a second per call, moby/moby#21837) and fall back
//! to the engine's one-shot stats only where the cgroup cannot be found.

pub mod cgroup;
mod netdev;

use crate::runtime::{Counters, Runtime};
use cgroup::{Opened, Version};
use netdev::NetDev;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// One reading as subscribers see it.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub ts_unix_ms: i64,
    /// 100 = one full core.
    pub cpu_percent: f64,
    pub counters: Counters,
    pub running: bool,
    pub source: &'static str,
}

/// The first sample follows a short baseline, so it already has a CPU figure.
const BASELINE: Duration = Duration::from_millis(200);
const MIN_INTERVAL: Duration = Duration::from_millis(250);

/// The time each read of a container's counters took, by source (the samplers' cost).
pub type ReadCost = prometheus_client::metrics::family::Family<
    SourceLabels,
    prometheus_client::metrics::histogram::Histogram,
>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct SourceLabels {
    /// `cgroup-v2`, `cgroup-v1` or `docker-api`.
    pub source: String,
}

pub struct StatsHub<R> {
    runtime: Arc<R>,
    cost: ReadCost,
    root: PathBuf,
    version: Version,
    samplers: Mutex<HashMap<String, broadcast::Sender<Sample>>>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl<R: Runtime> StatsHub<R> {
    /// `cost` times every read (the metrics register it).
    pub fn new(runtime: Arc<R>, cost: ReadCost) -> Self {
        let root = PathBuf::from("/sys/fs/cgroup");
        let version = Version::detect(&root);
        Self {
            runtime,
            cost,
            root,
            version,
            samplers: Mutex::new(HashMap::new()),
        }
    }

    /// Where samples come from on this host (cgroup-v2, cgroup-v1, or docker-api).
    pub fn source(&self) -> &'static str {
        self.version.source()
    }

    /// How many containers are being sampled now.
    pub fn active(&self) -> usize {
        self.samplers.lock().expect("samplers").len()
    }

    /// Subscribes to a container's samples, starting its sampler if nobody watched it yet.
    pub fn subscribe(
        self: &Arc<Self>,
        id: &str,
        interval: Duration,
    ) -> broadcast::Receiver<Sample> {
        let mut map = self.samplers.lock().expect("samplers");
        if let Some(tx) = map.get(id) {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(16);
        map.insert(id.to_string(), tx.clone());
        let (hub, id) = (self.clone(), id.to_string());
        tokio::spawn(async move { hub.sample(id, tx, interval.max(MIN_INTERVAL)).await });
        rx
    }

    /// Ends the sampler when its last subscriber has gone; true if it should stop.
    fn unwatched(&self, id: &str, tx: &broadcast::Sender<Sample>) -> bool {
        let mut map = self.samplers.lock().expect("samplers");
        if tx.receiver_count() > 0 {
            return false;
        }
        map.remove(id);
        true
    }

    async fn sample(
        self: Arc<Self>,
        id: String,
        tx: broadcast::Sender<Sample>,
        interval: Duration,
    ) {
        let mut reader = Reader::default();
        reader.read(&self, &id).await;
        tokio::time::sleep(BASELINE).await;
        let _ = tx.send(reader.read(&self, &id).await);
        // Later samples fall on one of a few fixed phases of the wall clock, so the samplers of
        // this worker wake together in a few groups and their messages leave together, without
        // every subscriber of the master receiving in one burst.
        let mut tick = tokio::time::interval_at(aligned_start(interval, &id), interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if self.unwatched(&id, &tx) {
                return;
            }
            let _ = tx.send(reader.read(&self, &id).await);
        }
    }
}

/// How many phases of the interval samplers are spread over.
const PHASES: i64 = 4;

/// The next instant, at least half an interval away, that falls on this container's phase of
/// the wall clock (a whole multiple of `interval`, plus 0, 1/4, 1/2 or 3/4 of it by its id).
fn aligned_start(interval: Duration, id: &str) -> tokio::time::Instant {
    let every = interval.as_millis().max(1) as i64;
    let phase = id
        .bytes()
        .fold(0i64, |h, b| (h * 31 + i64::from(b)) % PHASES)
        * every
        / PHASES;
    let now = now_ms();
    let mut wait = every - (now - phase).rem_euclid(every);
    if wait < every / 2 {
        wait += every;
    }
    tokio::time::Instant::now() + Duration::from_millis(wait as u64)
}

/// One sampler's memory: the container's counter files, open, and the previous CPU reading.
/// The metrics keep one per container too, between scrapes.
#[derive(Default)]
pub(crate) struct Reader {
    open: Option<(Opened, Option<NetDev>)>,
    previous: Option<(Instant, u64)>,
}

impl Reader {
    pub(crate) async fn read<R: Runtime>(&mut self, hub: &StatsHub<R>, id: &str) -> Sample {
        let now = Instant::now();
        let found = self.counters(hub, id).await;
        let source = found.as_ref().map_or(hub.source(), |(_, s)| s);
        hub.cost
            .get_or_create(&SourceLabels {
                source: source.into(),
            })
            .observe(now.elapsed().as_secs_f64());
        let (counters, source) = match found {
            Some(found) => found,
            None => {
                self.previous = None;
                return Sample {
                    ts_unix_ms: now_ms(),
                    running: false,
                    source: hub.source(),
                    ..Sample::default()
                };
            }
        };
        let cpu_percent = match self.previous {
            Some((then, ns)) if now > then => {
                let wall = now.duration_since(then).as_nanos() as f64;
                counters.cpu_usage_ns.saturating_sub(ns) as f64 / wall * 100.0
            }
            _ => 0.0,
        };
        self.previous = Some((now, counters.cpu_usage_ns));
        Sample {
            ts_unix_ms: now_ms(),
            cpu_percent,
            counters,
            running: true,
            source,
        }
    }

    async fn counters<R: Runtime>(
        &mut self,
        hub: &StatsHub<R>,
        id: &str,
    ) -> Option<(Counters, &'static str)> {
        if let Some((files, net)) = &mut self.open {
            if let Some(mut c) = files.read() {
                (c.net_rx_bytes, c.net_tx_bytes) =
                    net.as_mut().and_then(NetDev::read).unwrap_or_default();
                return Some((c, hub.source()));
            }
            // Gone: the container stopped or restarted with a new process.
            self.open = None;
        }
        let process = hub.runtime.container_process(id).await.ok()??;
        let found = (process.pid > 0)
            .then(|| std::fs::read_to_string(format!("/proc/{}/cgroup", process.pid)).ok())
            .flatten()
            .and_then(|file| cgroup::locate(&hub.root, hub.version, &file, &process.docker_id));
        match found.as_ref().and_then(Opened::open) {
            Some(mut files) => {
                let mut c = files.read()?;
                let mut net = NetDev::open(process.pid);
                (c.net_rx_bytes, c.net_tx_bytes) =
                    net.as_mut().and_then(NetDev::read).unwrap_or_default();
                self.open = Some((files, net));
                Some((c, hub.source()))
            }
            None => {
                let c = hub.runtime.engine_stats(id).await.ok()??;
                Some((c, Version::None.source()))
            }
        }
    }
}
