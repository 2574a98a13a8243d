//! Hand-written conversions between protobuf messages and `yun-core` types.

use crate::v1;
use yun_core::node::{
    ContainerStatus, DockerState, ExecInput, ExecOutput, ImageInfo, LogChunk, PullProgress,
    PullUpdate, StatsSample,
};
use yun_core::{ContainerSpec, EnvVar, Limits, PortBinding, Protocol};

#[derive(Debug, thiserror::Error)]
#[error("malformed message: {0}")]
pub struct ProtoError(pub String);

impl From<&ContainerSpec> for v1::ContainerSpec {
    fn from(s: &ContainerSpec) -> Self {
        v1::ContainerSpec {
            container_id: s.container_id.clone(),
            owner_id: s.owner_id.clone(),
            image: s.image.clone(),
            image_id: s.image_id.clone(),
            command: s.command.clone(),
            env: s
                .env
                .iter()
                .map(|e| v1::EnvVar {
                    key: e.key.clone(),
                    value: e.value.clone(),
                })
                .collect(),
            ports: s
                .ports
                .iter()
                .map(|p| v1::PortBinding {
                    container_port: p.container_port.into(),
                    host_port: p.host_port.into(),
                    protocol: p.protocol.as_str().to_string(),
                })
                .collect(),
            limits: Some(v1::Limits {
                cpu_millis: s.limits.cpu_millis,
                memory_bytes: s.limits.memory_bytes,
                pids: s.limits.pids,
                disk_bytes: s.limits.disk_bytes,
            }),
            read_only: s.read_only,
        }
    }
}

fn port(n: u32) -> Result<u16, ProtoError> {
    u16::try_from(n)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| ProtoError(format!("port {n} out of range")))
}

impl TryFrom<v1::ContainerSpec> for ContainerSpec {
    type Error = ProtoError;

    fn try_from(s: v1::ContainerSpec) -> Result<Self, ProtoError> {
        let limits = s
            .limits
            .ok_or_else(|| ProtoError("spec without limits".into()))?;
        let ports = s
            .ports
            .into_iter()
            .map(|p| {
                Ok(PortBinding {
                    container_port: port(p.container_port)?,
                    host_port: port(p.host_port)?,
                    protocol: Protocol::parse(&p.protocol)
                        .ok_or_else(|| ProtoError(format!("protocol {:?}", p.protocol)))?,
                })
            })
            .collect::<Result<_, ProtoError>>()?;
        if s.container_id.is_empty() || s.owner_id.is_empty() {
            return Err(ProtoError("spec without container or owner id".into()));
        }
        Ok(ContainerSpec {
            container_id: s.container_id,
            owner_id: s.owner_id,
            image: s.image,
            image_id: s.image_id,
            command: s.command,
            env: s
                .env
                .into_iter()
                .map(|e| EnvVar {
                    key: e.key,
                    value: e.value,
                })
                .collect(),
            ports,
            limits: Limits {
                cpu_millis: limits.cpu_millis,
                memory_bytes: limits.memory_bytes,
                pids: limits.pids,
                disk_bytes: limits.disk_bytes,
            },
            read_only: s.read_only,
        })
    }
}

impl From<ContainerStatus> for v1::ContainerStatus {
    fn from(s: ContainerStatus) -> Self {
        v1::ContainerStatus {
            container_id: s.container_id,
            owner_id: s.owner_id,
            docker_state: s.state.as_str().to_string(),
            exit_code: s.exit_code,
            oom_killed: s.oom_killed,
            spec_hash: s.spec_hash,
            docker_id: s.docker_id,
            docker_name: s.docker_name,
            size_rw: s.size_rw,
        }
    }
}

impl From<v1::ContainerStatus> for ContainerStatus {
    fn from(s: v1::ContainerStatus) -> Self {
        ContainerStatus {
            container_id: s.container_id,
            owner_id: s.owner_id,
            state: DockerState::parse(&s.docker_state),
            exit_code: s.exit_code,
            oom_killed: s.oom_killed,
            spec_hash: s.spec_hash,
            docker_id: s.docker_id,
            docker_name: s.docker_name,
            size_rw: s.size_rw,
        }
    }
}

impl From<v1::LogChunk> for LogChunk {
    fn from(c: v1::LogChunk) -> Self {
        LogChunk {
            stderr: c.stream == v1::log_chunk::Stream::Stderr as i32,
            ts: c.ts,
            data: c.data,
        }
    }
}

impl From<StatsSample> for v1::StatsSample {
    fn from(s: StatsSample) -> Self {
        v1::StatsSample {
            container_id: String::new(),
            ts_unix_ms: s.ts_unix_ms,
            cpu_percent: s.cpu_percent,
            memory_bytes: s.memory_bytes,
            memory_limit_bytes: s.memory_limit_bytes,
            pids: s.pids,
            net_rx_bytes: s.net_rx_bytes,
            net_tx_bytes: s.net_tx_bytes,
            blk_read_bytes: s.blk_read_bytes,
            blk_write_bytes: s.blk_write_bytes,
            source: s.source,
            running: s.running,
        }
    }
}

impl From<v1::StatsSample> for StatsSample {
    fn from(s: v1::StatsSample) -> Self {
        StatsSample {
            ts_unix_ms: s.ts_unix_ms,
            cpu_percent: s.cpu_percent,
            memory_bytes: s.memory_bytes,
            memory_limit_bytes: s.memory_limit_bytes,
            pids: s.pids,
            net_rx_bytes: s.net_rx_bytes,
            net_tx_bytes: s.net_tx_bytes,
            blk_read_bytes: s.blk_read_bytes,
            blk_write_bytes: s.blk_write_bytes,
            source: s.source,
            running: s.running,
        }
    }
}

impl From<ImageInfo> for v1::ImageInfo {
    fn from(i: ImageInfo) -> Self {
        v1::ImageInfo {
            reference: i.reference,
            docker_id: i.docker_id,
            size_bytes: i.size_bytes,
            exposed_ports: i
                .exposed_ports
                .into_iter()
                .map(|(port, protocol)| v1::PortSpec {
                    container_port: port.into(),
                    protocol,
                })
                .collect(),
            pulled: i.pulled,
        }
    }
}

impl From<v1::ImageInfo> for ImageInfo {
    /// A port number out of range (no worker sends one) is left out.
    fn from(i: v1::ImageInfo) -> Self {
        ImageInfo {
            reference: i.reference,
            docker_id: i.docker_id,
            size_bytes: i.size_bytes,
            exposed_ports: i
                .exposed_ports
                .into_iter()
                .filter_map(|p| Some((u16::try_from(p.container_port).ok()?, p.protocol)))
                .collect(),
            pulled: i.pulled,
        }
    }
}

impl From<PullUpdate> for v1::PullProgress {
    fn from(u: PullUpdate) -> Self {
        match u {
            PullUpdate::Progress(p) => v1::PullProgress {
                status: p.status,
                layer: p.layer,
                current: p.current,
                total: p.total,
                image: None,
                downloaded: p.downloaded,
            },
            PullUpdate::Done(image) => v1::PullProgress {
                status: "done".into(),
                image: Some(image.into()),
                ..Default::default()
            },
        }
    }
}

impl From<v1::PullProgress> for PullUpdate {
    fn from(p: v1::PullProgress) -> Self {
        match p.image {
            Some(image) => PullUpdate::Done(image.into()),
            None => PullUpdate::Progress(PullProgress {
                status: p.status,
                layer: p.layer,
                current: p.current,
                total: p.total,
                downloaded: p.downloaded,
            }),
        }
    }
}

impl From<ExecInput> for v1::ExecInput {
    fn from(i: ExecInput) -> Self {
        match i {
            ExecInput::Start {
                container_id,
                command,
                terminal,
            } => {
                let (cols, rows) = terminal.unwrap_or((0, 0));
                v1::ExecInput {
                    container_id,
                    command,
                    cols: cols.into(),
                    rows: rows.into(),
                    no_tty: terminal.is_none(),
                    ..Default::default()
                }
            }
            ExecInput::Stdin(stdin) => v1::ExecInput {
                stdin,
                ..Default::default()
            },
            ExecInput::Resize { cols, rows } => v1::ExecInput {
                cols: cols.into(),
                rows: rows.into(),
                ..Default::default()
            },
            ExecInput::StdinClose => v1::ExecInput {
                stdin_eof: true,
                ..Default::default()
            },
        }
    }
}

impl From<v1::ExecOutput> for ExecOutput {
    fn from(o: v1::ExecOutput) -> Self {
        if o.exited {
            ExecOutput::Exited {
                exit_code: o.exit_code,
            }
        } else {
            ExecOutput::Data {
                stderr: o.stderr,
                data: o.data,
            }
        }
    }
}

impl From<ExecOutput> for v1::ExecOutput {
    fn from(o: ExecOutput) -> Self {
        match o {
            ExecOutput::Data { stderr, data } => v1::ExecOutput {
                data,
                stderr,
                ..Default::default()
            },
            ExecOutput::Exited { exit_code } => v1::ExecOutput {
                exited: true,
                exit_code,
                ..Default::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_round_trips() {
        let spec = ContainerSpec {
            container_id: "c1".into(),
            owner_id: "u1".into(),
            image: "img:1".into(),
            image_id: "sha256:0123".into(),
            command: vec!["a".into(), "b".into()],
            env: vec![EnvVar {
                key: "K".into(),
                value: "v".into(),
            }],
            ports: vec![PortBinding {
                container_port: 80,
                host_port: 20001,
                protocol: Protocol::Udp,
            }],
            limits: Limits {
                cpu_millis: 250,
                memory_bytes: 1 << 26,
                pids: 32,
                disk_bytes: 1 << 30,
            },
            read_only: true,
        };
        let back = ContainerSpec::try_from(v1::ContainerSpec::from(&spec)).unwrap();
        assert_eq!(back, spec);
    }

    #[test]
    fn bad_port_is_refused() {
        let mut m = v1::ContainerSpec::from(&ContainerSpec {
            container_id: "c".into(),
            owner_id: "u".into(),
            image: "i".into(),
            image_id: String::new(),
            command: vec![],
            env: vec![],
            ports: vec![],
            limits: Limits {
                cpu_millis: 1,
                memory_bytes: 1,
                pids: 1,
                disk_bytes: 0,
            },
            read_only: false,
        });
        m.ports.push(v1::PortBinding {
            container_port: 70000,
            host_port: 1,
            protocol: "tcp".into(),
        });
        assert!(ContainerSpec::try_from(m).is_err());
    }

    #[test]
    fn stream_messages_round_trip() {
        let sample = StatsSample {
            ts_unix_ms: 7,
            cpu_percent: 12.5,
            memory_bytes: 1 << 20,
            pids: 3,
            source: "cgroup-v2".into(),
            running: true,
            ..Default::default()
        };
        assert_eq!(
            StatsSample::from(v1::StatsSample::from(sample.clone())),
            sample
        );
        let image = ImageInfo {
            reference: "r:1".into(),
            docker_id: "sha256:ab".into(),
            size_bytes: 9,
            exposed_ports: vec![(8080, "tcp".into())],
            pulled: true,
        };
        for update in [
            PullUpdate::Done(image),
            PullUpdate::Progress(PullProgress {
                status: "Downloading".into(),
                layer: "l1".into(),
                current: 1,
                total: 2,
                downloaded: 3,
            }),
        ] {
            assert_eq!(
                PullUpdate::from(v1::PullProgress::from(update.clone())),
                update
            );
        }
        for out in [
            ExecOutput::Data {
                stderr: true,
                data: b"x".to_vec(),
            },
            ExecOutput::Exited { exit_code: 3 },
        ] {
            assert_eq!(ExecOutput::from(v1::ExecOutput::from(out.clone())), out);
        }
        let start = v1::ExecInput::from(ExecInput::Start {
            container_id: "c".into(),
            command: vec!["sh".into()],
            terminal: None,
        });
        assert!(start.no_tty && start.cols == 0);
        assert!(v1::ExecInput::from(ExecInput::StdinClose).stdin_eof);
    }
}
