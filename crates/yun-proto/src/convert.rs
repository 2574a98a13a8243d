//! Hand-written conversions between protobuf messages and `yun-core` types.

use crate::v1;
use yun_core::node::{ContainerStatus, DockerState, LogChunk};
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
            }),
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
            },
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
            },
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
            },
        });
        m.ports.push(v1::PortBinding {
            container_port: 70000,
            host_port: 1,
            protocol: "tcp".into(),
        });
        assert!(ContainerSpec::try_from(m).is_err());
    }
}
