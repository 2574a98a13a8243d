//! What a worker needs to run one container, and the hash that makes creates idempotent.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tcp" => Some(Self::Tcp),
            "udp" => Some(Self::Udp),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortBinding {
    pub container_port: u16,
    pub host_port: u16,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub cpu_millis: u32,
    pub memory_bytes: u64,
    pub pids: u32,
    /// The writable layer's size limit, where the engine can enforce one (0: none). Left out
    /// of the hash's input when 0, so containers made before it keep their hash.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub disk_bytes: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSpec {
    pub container_id: String,
    pub owner_id: String,
    /// A reference the worker's engine resolves, e.g. `nginx:1.27`.
    pub image: String,
    /// The engine's image id the container must run (pinned when the image was recorded); the
    /// reference is pulled only to fetch that content. Empty: run whatever the reference names.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_id: String,
    pub command: Vec<String>,
    pub env: Vec<EnvVar>,
    pub ports: Vec<PortBinding>,
    pub limits: Limits,
    /// A read-only root filesystem with a small writable /tmp. Left out of the hash's input
    /// when false, so containers made before the option keep their hash.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ContainerSpec {
    /// A stable digest of everything that shapes the container; a create with the same
    /// platform id but another hash is a conflict, not a silent reuse.
    pub fn hash(&self) -> String {
        let canonical = serde_json::to_vec(self).expect("a spec always serialises");
        hex::encode(&Sha256::digest(canonical)[..12])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ContainerSpec {
        ContainerSpec {
            container_id: "c1".into(),
            owner_id: "u1".into(),
            image: "yun-testbox:latest".into(),
            image_id: String::new(),
            command: vec!["serve".into()],
            env: vec![],
            ports: vec![PortBinding {
                container_port: 8080,
                host_port: 20000,
                protocol: Protocol::Tcp,
            }],
            limits: Limits {
                cpu_millis: 100,
                memory_bytes: 64 << 20,
                pids: 64,
                disk_bytes: 0,
            },
            read_only: false,
        }
    }

    #[test]
    fn hash_is_stable_and_sensitive() {
        let a = spec();
        assert_eq!(a.hash(), spec().hash());
        let mut b = spec();
        b.ports[0].host_port = 20001;
        assert_ne!(a.hash(), b.hash());
        let read_only = ContainerSpec {
            read_only: true,
            ..spec()
        };
        assert_ne!(a.hash(), read_only.hash());
    }

    /// Containers made before the read-only option keep their hash (the idempotent create
    /// and the reconciler compare it).
    #[test]
    fn the_read_only_option_leaves_older_hashes_alone() {
        let json = serde_json::to_string(&spec()).unwrap();
        assert!(!json.contains("read_only"), "{json}");
    }
}
