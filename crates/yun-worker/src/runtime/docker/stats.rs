//! What the stats sampler needs from Docker: the container's process (its cgroup and network
//! namespace are read directly), and the engine's one-shot stats as the fallback.

use super::super::{ContainerProcess, Counters, RuntimeResult};
use super::{docker_name, DockerRuntime};
use bollard::container::{MemoryStatsStats, StatsOptions};
use futures::StreamExt;

impl DockerRuntime {
    pub(super) async fn process(&self, id: &str) -> RuntimeResult<Option<ContainerProcess>> {
        let Some((_, c)) = self.owned(id).await? else {
            return Ok(None);
        };
        let state = c.state.unwrap_or_default();
        let pid = state.pid.unwrap_or(0);
        if state.running != Some(true) || pid <= 0 {
            return Ok(None);
        }
        Ok(Some(ContainerProcess {
            pid: pid as u32,
            docker_id: c.id.unwrap_or_default(),
        }))
    }

    /// One reading from `GET /containers/{id}/stats?stream=false&one-shot=true`.
    pub(super) async fn one_shot_stats(&self, id: &str) -> RuntimeResult<Option<Counters>> {
        if self.owned(id).await?.is_none() {
            return Ok(None);
        }
        let options = StatsOptions {
            stream: false,
            one_shot: true,
        };
        let Some(s) = self
            .docker
            .stats(&docker_name(id), Some(options))
            .next()
            .await
            .transpose()?
        else {
            return Ok(None);
        };
        let inactive = match s.memory_stats.stats {
            Some(MemoryStatsStats::V1(v1)) => v1.total_inactive_file,
            Some(MemoryStatsStats::V2(v2)) => v2.inactive_file,
            None => 0,
        };
        let usage = s.memory_stats.usage.unwrap_or(0);
        let (rx, tx) = s
            .networks
            .unwrap_or_default()
            .values()
            .fold((0, 0), |(rx, tx), n| (rx + n.rx_bytes, tx + n.tx_bytes));
        let blk = |op: &str| {
            s.blkio_stats
                .io_service_bytes_recursive
                .iter()
                .flatten()
                .filter(|e| e.op.eq_ignore_ascii_case(op))
                .map(|e| e.value)
                .sum()
        };
        Ok(Some(Counters {
            cpu_usage_ns: s.cpu_stats.cpu_usage.total_usage,
            memory_bytes: usage.saturating_sub(inactive),
            memory_limit_bytes: s.memory_stats.limit.unwrap_or(0),
            pids: s.pids_stats.current.unwrap_or(0),
            net_rx_bytes: rx,
            net_tx_bytes: tx,
            blk_read_bytes: blk("read"),
            blk_write_bytes: blk("write"),
        }))
    }
}
