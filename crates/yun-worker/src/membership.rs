//! The worker's membership of the fleet: its key and node certificate in the state directory,
//! joining once with a token, and renewing by itself at two thirds of the certificate's life.
//! Docker labels stay its memory for containers; this directory holds only who it is.

use crate::WorkerError;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};
use yun_proto::v1;
use yun_proto::v1::registry_service_client::RegistryServiceClient;
use yun_trust::{CertSlot, Connector, Contact, Identity, JoinToken, KeyRequest};

const IDENTITY_FILE: &str = "identity.pem";

/// The directory a worker keeps its identity in (mode 0700, the file 0600).
#[derive(Debug, Clone)]
pub struct StateDir {
    path: PathBuf,
}

impl StateDir {
    pub fn open(path: &Path) -> Result<Self, WorkerError> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let failed = |e: std::io::Error| {
            WorkerError::Config(format!("the state directory {}: {e}", path.display()))
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(failed)?;
        let mode = std::fs::metadata(path)
            .map_err(failed)?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            tracing::warn!(dir = %path.display(), "the state directory was open to others; making it 0700");
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
                .map_err(failed)?;
        }
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    fn file(&self) -> PathBuf {
        self.path.join(IDENTITY_FILE)
    }

    pub fn load(&self) -> Result<Option<Identity>, WorkerError> {
        match std::fs::read_to_string(self.file()) {
            Ok(text) => Identity::from_pem(&text)
                .map(Some)
                .map_err(|e| WorkerError::Config(format!("{}: {e}", self.file().display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(WorkerError::Config(format!(
                "{}: {e}",
                self.file().display()
            ))),
        }
    }

    /// Replaces the identity at once: written beside, synced, then renamed over the old one,
    /// so a crash leaves the old identity or the new one, never half of either.
    pub fn save(&self, identity: &Identity) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = self.path.join(format!("{IDENTITY_FILE}.new"));
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(identity.to_pem().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, self.file())?;
        std::fs::File::open(&self.path)?.sync_all()
    }
}

/// How the worker reaches the master's registry: TLS with its node certificate, or plaintext.
#[derive(Clone)]
pub struct MasterLink {
    pub uri: String,
    pub tls: Option<Connector>,
}

impl MasterLink {
    pub fn channel(&self, deadline: Option<Duration>) -> Result<Channel, String> {
        let mut endpoint = Endpoint::from_shared(self.uri.clone())
            .map_err(|e| format!("bad --master address {}: {e}", self.uri))?
            .connect_timeout(Duration::from_secs(5))
            .http2_keep_alive_interval(Duration::from_secs(20))
            .keep_alive_timeout(Duration::from_secs(10))
            .keep_alive_while_idle(true);
        if let Some(d) = deadline {
            endpoint = endpoint.timeout(d);
        }
        Ok(match &self.tls {
            Some(connector) => endpoint.connect_with_connector_lazy(connector.clone()),
            None => endpoint.connect_lazy(),
        })
    }
}

/// A status and every cause under it: tonic's own message for a failed connection is only
/// "transport error".
pub fn why(status: &tonic::Status) -> String {
    let mut text = status.message().to_string();
    let mut cause = std::error::Error::source(status);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// The identity in the state directory, or a new one joined with `token`. Waits for a master
/// that is not up yet; a refusal (a wrong token, a taken name, a CA that is not the token's)
/// is an error at once.
pub async fn establish(
    state: &StateDir,
    master: &str,
    name: &str,
    token: Option<&str>,
    plaintext: bool,
    shutdown: &CancellationToken,
) -> Result<Identity, WorkerError> {
    if let Some(identity) = state.load()? {
        let peer = identity
            .peer()
            .map_err(|e| WorkerError::Config(e.to_string()))?;
        if token.is_some() {
            tracing::info!(node = peer.node_id(), "already joined (the state directory holds this node's certificate); the join token is not used");
        }
        if peer.not_after <= SystemTime::now() {
            tracing::warn!(node = peer.node_id(), "this node's certificate has expired: the master will refuse it; forget the node (`yun admin node forget`) and join again with a new token and an empty --state-dir");
        }
        return Ok(identity);
    }
    let token = token.ok_or_else(|| {
        WorkerError::Join(
            "this worker has not joined yet: give it a join token (--join-token or YUN_JOIN_TOKEN, from `yun master join-token`)".into(),
        )
    })?;
    let token = JoinToken::parse(token).map_err(|e| WorkerError::Join(e.to_string()))?;
    let uri = yun_trust::plain_uri(master);
    let tls = if plaintext {
        None
    } else {
        let connector = Connector::new(
            yun_trust::join_config(&token.ca_digest),
            yun_trust::MASTER_NAME,
        )
        .map_err(|e| WorkerError::Join(e.to_string()))?;
        Some(connector)
    };
    let mut backoff = Duration::from_millis(200);
    loop {
        let reachable = match &tls {
            Some(c) => c.check(&uri).await,
            None => Ok(()),
        };
        match reachable {
            Ok(()) => match join_once(&uri, tls.clone(), &token, name).await {
                Ok(identity) => {
                    state.save(&identity).map_err(|e| {
                        WorkerError::Config(format!("saving the node's certificate: {e}"))
                    })?;
                    return Ok(identity);
                }
                Err(s) if s.code() == tonic::Code::Unavailable => {
                    tracing::warn!(master, error = why(&s), "joining failed; retrying");
                }
                Err(s) => return Err(WorkerError::Join(why(&s))),
            },
            Err(e @ Contact::Refused { .. }) => return Err(WorkerError::Join(e.to_string())),
            Err(e @ Contact::Unreachable { .. }) => {
                tracing::warn!(error = %e, "the master is not reachable yet; retrying");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = shutdown.cancelled() => return Err(WorkerError::Join("stopped before joining".into())),
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn join_once(
    uri: &str,
    tls: Option<Connector>,
    token: &JoinToken,
    name: &str,
) -> Result<Identity, tonic::Status> {
    let link = MasterLink {
        uri: uri.to_string(),
        tls,
    };
    let channel = link
        .channel(Some(Duration::from_secs(10)))
        .map_err(tonic::Status::invalid_argument)?;
    let request = KeyRequest::new().map_err(|e| tonic::Status::internal(e.to_string()))?;
    let answer = RegistryServiceClient::new(channel)
        .join(v1::JoinRequest {
            token: token.reveal(),
            name: name.to_string(),
            csr: request.csr_der.clone(),
        })
        .await?
        .into_inner();
    // Over TLS the handshake already checked this; over plaintext it is the only check.
    if yun_trust::ClusterCa::digest_of(&answer.ca_certificate) != token.ca_digest {
        return Err(tonic::Status::permission_denied(
            "the master's CA is not the one the join token names",
        ));
    }
    let identity = request
        .into_identity(answer.certificate, answer.ca_certificate)
        .map_err(|e| tonic::Status::internal(e.to_string()))?;
    tracing::info!(node = answer.node_id, name, "joined the fleet");
    Ok(identity)
}

/// Renews the node's certificate at two thirds of its life, over the channel that is already
/// trusted, and keeps it in the state directory; open connections and streams go on.
pub async fn keep_renewed(
    link: MasterLink,
    slot: CertSlot,
    state: StateDir,
    shutdown: CancellationToken,
) {
    let channel = match link.channel(Some(Duration::from_secs(10))) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = e, "cannot renew the node's certificate");
            return;
        }
    };
    let mut client = RegistryServiceClient::new(channel);
    loop {
        tokio::select! {
            () = tokio::time::sleep(slot.renew_in()) => {}
            () = shutdown.cancelled() => return,
        }
        match renew_once(&mut client).await {
            Ok(identity) => {
                if let Err(e) = state.save(&identity) {
                    tracing::error!(error = %e, "saving the renewed certificate failed; the old one stays on disk");
                }
                match slot.replace(identity) {
                    Ok(()) => tracing::info!(
                        serial = slot.peer().serial,
                        "renewed this node's certificate"
                    ),
                    Err(e) => tracing::error!(error = %e, "the renewed certificate is unusable"),
                }
            }
            Err(e) => {
                let left = slot
                    .peer()
                    .not_after
                    .duration_since(SystemTime::now())
                    .unwrap_or_default();
                tracing::warn!(
                    error = e,
                    left_s = left.as_secs(),
                    "renewing this node's certificate failed; retrying"
                );
                // Again soon, but never hammering the master.
                tokio::select! {
                    () = tokio::time::sleep((left / 10).clamp(Duration::from_secs(1), Duration::from_secs(60))) => {}
                    () = shutdown.cancelled() => return,
                }
            }
        }
    }
}

async fn renew_once(client: &mut RegistryServiceClient<Channel>) -> Result<Identity, String> {
    let request = KeyRequest::new().map_err(|e| e.to_string())?;
    let answer = client
        .renew(v1::RenewRequest {
            csr: request.csr_der.clone(),
        })
        .await
        .map_err(|s| why(&s))?
        .into_inner();
    request
        .into_identity(answer.certificate, answer.ca_certificate)
        .map_err(|e| e.to_string())
}
