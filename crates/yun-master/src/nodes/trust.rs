//! The master's side of the fleet's trust: the cluster CA, the master's own certificate
//! (renewed by itself at two thirds of its life), the serials every master refuses, and the
//! checks each registry call makes of its caller.

// tonic's handlers return `Status` by value; boxing it here would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};
use yun_trust::{CertSlot, ClusterCa, Issued, JoinToken, Role, TrustError};

/// How often revocations made by other masters sharing the store are read.
const REVOKED_REFRESH: Duration = Duration::from_secs(10);

/// What an operator sets for the fleet's TLS.
#[derive(Debug, Clone)]
pub struct FleetTls {
    /// The CA's files; made on first start when neither exists. Every master of a cluster
    /// must be given the same two.
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    /// How long the certificates the master signs (its own and nodes') are valid.
    pub cert_lifetime: Duration,
    /// `--insecure-plaintext`: no TLS and no certificates between master and workers.
    pub plaintext: bool,
}

impl FleetTls {
    /// The CA's files beside a SQLite database (`ca.crt`, `ca.key`).
    pub fn beside(database: &str) -> Self {
        let path = database
            .strip_prefix("sqlite://")
            .map(PathBuf::from)
            .unwrap_or_default();
        let dir = path
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        Self {
            ca_cert: dir.join("ca.crt"),
            ca_key: dir.join("ca.key"),
            cert_lifetime: Duration::from_secs(90 * 24 * 3600),
            plaintext: false,
        }
    }
}

#[derive(Clone)]
pub struct FleetTrust {
    inner: Arc<Inner>,
}

struct Inner {
    ca: ClusterCa,
    /// The master's own certificate; None on a plaintext fleet.
    master: Option<Tls>,
    lifetime: Duration,
    revoked: RwLock<HashSet<String>>,
}

struct Tls {
    slot: CertSlot,
    client: Arc<rustls::ClientConfig>,
    server: Arc<rustls::ServerConfig>,
}

/// The node a registry call comes from, as its certificate says (None on a plaintext fleet).
pub type Caller = Option<String>;

impl FleetTrust {
    pub fn open(tls: &FleetTls) -> Result<Self, TrustError> {
        let (ca, made) = ClusterCa::load_or_create(&tls.ca_cert, &tls.ca_key)?;
        if made {
            tracing::info!(cert = %tls.ca_cert.display(), key = %tls.ca_key.display(),
                digest = ca.digest(), "made the cluster CA; give every master these two files");
        }
        Self::new(ca, tls.cert_lifetime, tls.plaintext)
    }

    pub fn new(ca: ClusterCa, lifetime: Duration, plaintext: bool) -> Result<Self, TrustError> {
        let master = if plaintext {
            None
        } else {
            let slot = CertSlot::new(ca.master_identity(lifetime)?)?;
            Some(Tls {
                client: yun_trust::node_config(ca.cert_der(), &slot)?,
                server: yun_trust::master_config(ca.cert_der(), &slot)?,
                slot,
            })
        };
        Ok(Self {
            inner: Arc::new(Inner {
                ca,
                master,
                lifetime,
                revoked: RwLock::default(),
            }),
        })
    }

    pub fn plaintext(&self) -> bool {
        self.inner.master.is_none()
    }

    pub fn ca_digest(&self) -> String {
        self.inner.ca.digest()
    }

    pub fn ca_der(&self) -> &[u8] {
        self.inner.ca.cert_der()
    }

    pub fn new_token(&self) -> JoinToken {
        JoinToken::new(&self.ca_digest())
    }

    pub fn sign_node(&self, csr: &[u8], node_id: &str) -> Result<Issued, TrustError> {
        self.inner.ca.sign_node(csr, node_id, self.inner.lifetime)
    }

    /// The RPC listener's TLS; None on a plaintext fleet.
    pub fn server_config(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.inner.master.as_ref().map(|t| t.server.clone())
    }

    /// When the master's own certificate expires (None on a plaintext fleet).
    pub fn master_expires_at(&self) -> Option<SystemTime> {
        self.inner.master.as_ref().map(|t| t.slot.peer().not_after)
    }

    /// A lazily connected channel to node `node_id` at `advertise`, which must show that
    /// node's certificate.
    pub fn worker_channel(&self, endpoint: Endpoint, node_id: &str) -> Result<Channel, String> {
        match &self.inner.master {
            None => Ok(endpoint.connect_lazy()),
            Some(tls) => {
                let connector =
                    yun_trust::Connector::new(tls.client.clone(), &yun_trust::node_name(node_id))
                        .map_err(|e| e.to_string())?;
                Ok(endpoint.connect_with_connector_lazy(connector))
            }
        }
    }

    pub fn is_revoked(&self, serial: &str) -> bool {
        self.inner
            .revoked
            .read()
            .expect("revoked serials")
            .contains(serial)
    }

    pub fn revoke(&self, serials: impl IntoIterator<Item = String>) {
        self.inner
            .revoked
            .write()
            .expect("revoked serials")
            .extend(serials);
    }

    /// The node a registry call comes from. On a TLS fleet it must show a node certificate
    /// from this CA that no master revoked.
    pub fn node_caller<T>(&self, req: &Request<T>) -> Result<Caller, Status> {
        if self.plaintext() {
            return Ok(None);
        }
        let peer = yun_trust::peer_of(req).ok_or_else(|| {
            Status::unauthenticated(
                "this call needs the node's certificate; a worker without one joins first with a join token",
            )
        })?;
        if self.is_revoked(&peer.serial) {
            return Err(Status::unauthenticated(
                "this node's certificate was revoked (the node was forgotten): join again with a new token",
            ));
        }
        match &peer.role {
            Role::Node(id) => Ok(Some(id.clone())),
            Role::Master => Err(Status::permission_denied(
                "a master's certificate cannot act as a node",
            )),
        }
    }

    /// Reads the revoked serials from the store (other masters revoke too), and renews the
    /// master's own certificate at two thirds of its life.
    pub fn spawn_upkeep(&self, store: yun_store::Store, shutdown: CancellationToken) {
        let (me, stop) = (self.clone(), shutdown.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REVOKED_REFRESH);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = stop.cancelled() => return,
                }
                match store.revoked_serials().await {
                    Ok(serials) => {
                        *me.inner.revoked.write().expect("revoked serials") =
                            serials.into_iter().collect();
                    }
                    Err(e) => tracing::warn!(error = %e, "reading revoked certificates failed"),
                }
            }
        });
        if let Some(tls) = &self.inner.master {
            let (me, slot) = (self.clone(), tls.slot.clone());
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(slot.renew_in().max(Duration::from_secs(1))) => {}
                        () = shutdown.cancelled() => return,
                    }
                    match me.inner.ca.master_identity(me.inner.lifetime) {
                        Ok(identity) => match slot.replace(identity) {
                            Ok(()) => tracing::info!(
                                serial = slot.peer().serial,
                                "renewed the master's certificate"
                            ),
                            Err(e) => {
                                tracing::error!(error = %e, "renewing the master's certificate failed")
                            }
                        },
                        Err(e) => {
                            tracing::error!(error = %e, "renewing the master's certificate failed")
                        }
                    }
                }
            });
        }
    }
}
