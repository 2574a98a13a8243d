//! Per-container series in cAdvisor's own names and units, so dashboards made for cAdvisor
//! work: read at each scrape from the same cgroup files as the live stats (files kept open
//! between scrapes), labelled by the platform's container id and the engine's name (never by
//! a renter's id or e-mail). A removed container's series are gone at the next scrape.

use crate::runtime::Runtime;
use crate::stats::{Reader, StatsHub};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use std::collections::HashMap;
use std::sync::Mutex;

/// One container's reading.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    name: String,
    cpu_seconds: f64,
    working_set: u64,
    memory_limit: u64,
    rx: u64,
    tx: u64,
    fs_reads: u64,
    fs_writes: u64,
    /// The writable layer's size at the last listing with sizes, if there was one.
    fs_usage: Option<u64>,
}

#[derive(Debug, Default)]
pub struct ContainerSeries {
    rows: Mutex<Vec<Row>>,
    readers: tokio::sync::Mutex<HashMap<String, ReaderOf>>,
    /// Writable layers' sizes by container id, from the last listing with sizes.
    sizes: Mutex<HashMap<String, u64>>,
}

/// A reader, with the engine name it was opened for.
struct ReaderOf {
    name: String,
    reader: Reader,
}

impl std::fmt::Debug for ReaderOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl ContainerSeries {
    /// Replaces the known sizes with a new listing's.
    pub fn record_sizes(&self, list: &[yun_core::node::ContainerStatus]) {
        *self.sizes.lock().expect("sizes") = list
            .iter()
            .filter(|c| !c.container_id.is_empty())
            .map(|c| (c.container_id.clone(), c.size_rw))
            .collect();
    }

    /// Reads every running container of this node; forgets the ones that are gone.
    pub async fn refresh<R: Runtime>(&self, runtime: &R, stats: &StatsHub<R>) {
        let Ok(list) = runtime.list_containers(false).await else {
            return;
        };
        let mut readers = self.readers.lock().await;
        let running: Vec<_> = list
            .into_iter()
            .filter(|c| {
                c.state == yun_core::node::DockerState::Running && !c.container_id.is_empty()
            })
            .collect();
        let ids: std::collections::HashSet<&str> =
            running.iter().map(|c| c.container_id.as_str()).collect();
        readers.retain(|id, _| ids.contains(id.as_str()));
        let sizes = self.sizes.lock().expect("sizes").clone();
        let mut rows = Vec::with_capacity(running.len());
        for c in running {
            let entry = readers
                .entry(c.container_id.clone())
                .or_insert_with(|| ReaderOf {
                    name: c.docker_name.clone(),
                    reader: Reader::default(),
                });
            let sample = entry.reader.read(stats, &c.container_id).await;
            if !sample.running {
                continue;
            }
            let k = sample.counters;
            rows.push(Row {
                id: c.container_id.clone(),
                name: entry.name.clone(),
                cpu_seconds: k.cpu_usage_ns as f64 / 1e9,
                working_set: k.memory_bytes,
                memory_limit: k.memory_limit_bytes,
                rx: k.net_rx_bytes,
                tx: k.net_tx_bytes,
                fs_reads: k.blk_read_bytes,
                fs_writes: k.blk_write_bytes,
                fs_usage: sizes.get(&c.container_id).copied(),
            });
        }
        *self.rows.lock().expect("container rows") = rows;
    }
}

fn family<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[Row],
    value: impl Fn(&Row) -> M,
) -> Result<(), std::fmt::Error> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let mut metric = encoder.encode_descriptor(name, help, None, value(first).metric_type())?;
    for row in rows {
        let labels = vec![("id", row.id.as_str()), ("name", row.name.as_str())];
        value(row).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for ContainerSeries {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let rows = self.rows.lock().expect("container rows").clone();
        family(
            &mut encoder,
            "container_cpu_usage_seconds",
            "Cumulative cpu time consumed in seconds.",
            &rows,
            |r| ConstCounter::new(r.cpu_seconds),
        )?;
        family(
            &mut encoder,
            "container_memory_working_set_bytes",
            "Current working set in bytes.",
            &rows,
            |r| ConstGauge::new(r.working_set as i64),
        )?;
        family(
            &mut encoder,
            "container_spec_memory_limit_bytes",
            "Memory limit for the container.",
            &rows,
            |r| ConstGauge::new(r.memory_limit as i64),
        )?;
        family(
            &mut encoder,
            "container_network_receive_bytes",
            "Cumulative count of bytes received",
            &rows,
            |r| ConstCounter::new(r.rx),
        )?;
        family(
            &mut encoder,
            "container_network_transmit_bytes",
            "Cumulative count of bytes transmitted",
            &rows,
            |r| ConstCounter::new(r.tx),
        )?;
        family(
            &mut encoder,
            "container_fs_reads_bytes",
            "Cumulative count of bytes read",
            &rows,
            |r| ConstCounter::new(r.fs_reads),
        )?;
        family(
            &mut encoder,
            "container_fs_writes_bytes",
            "Cumulative count of bytes written",
            &rows,
            |r| ConstCounter::new(r.fs_writes),
        )?;
        let measured: Vec<Row> = rows.into_iter().filter(|r| r.fs_usage.is_some()).collect();
        family(
            &mut encoder,
            "container_fs_usage_bytes",
            "Number of bytes that are consumed by the container on this filesystem (its writable layer, at the master's last disk check).",
            &measured,
            |r| ConstGauge::new(r.fs_usage.unwrap_or(0) as i64),
        )
    }
}
