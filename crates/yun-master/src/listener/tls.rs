//! HTTPS for people: the operator's certificate chain and key (PEM files, such as a public
//! CA's), served with rustls and the workspace's one provider (ring). HTTP/1.1 only, as on
//! plain HTTP.

use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum HttpsError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} holds no {what} in PEM form")]
    Empty { path: String, what: &'static str },
    #[error("{path}: {message}")]
    Bad { path: String, message: String },
    #[error("the certificate and key do not fit together: {0}")]
    Mismatch(String),
}

fn read(path: &Path) -> Result<Vec<u8>, HttpsError> {
    std::fs::read(path).map_err(|source| HttpsError::Read {
        path: path.display().to_string(),
        source,
    })
}

pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, HttpsError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let shown = |p: &Path| p.display().to_string();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(cert)?)
        .collect::<Result<_, _>>()
        .map_err(|e| HttpsError::Bad {
            path: shown(cert),
            message: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(HttpsError::Empty {
            path: shown(cert),
            what: "certificate",
        });
    }
    let key_der = PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|e| HttpsError::Bad {
        path: shown(key),
        message: format!("{e} (expected a PEM private key)"),
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(yun_trust::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpsError::Mismatch(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| HttpsError::Mismatch(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
