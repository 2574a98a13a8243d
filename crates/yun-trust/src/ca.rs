//! The cluster CA: made once by the first master (or given to it as files), it signs every
//! master's and node's certificate. Several masters share it by sharing the two files.

use crate::{node_name, Identity, Peer, TrustError, CLOCK_SKEW, MASTER_NAME};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, PublicKeyData, SanType, SerialNumber,
};
use rustls::pki_types::{CertificateDer, CertificateSigningRequestDer};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// How long the CA itself is valid; replacing it means joining every node again.
const CA_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

pub struct ClusterCa {
    cert_der: CertificateDer<'static>,
    /// The CA's name and key, read from its certificate once.
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate the CA signed.
#[derive(Debug, Clone)]
pub struct Issued {
    pub der: Vec<u8>,
    /// Lowercase hex, as revocation lists keep it.
    pub serial: String,
    pub not_after: SystemTime,
}

impl ClusterCa {
    /// Reads the CA from `cert` and `key`, or makes a new one there when neither exists.
    /// Returns whether it was made now.
    pub fn load_or_create(cert: &Path, key: &Path) -> Result<(Self, bool), TrustError> {
        match (cert.exists(), key.exists()) {
            (true, true) => Ok((Self::load(cert, key)?, false)),
            (false, false) => {
                let ca = Self::create()?;
                write_new(key, ca.issuer.key().serialize_pem().as_bytes(), 0o600)?;
                let pem = pem::encode(&pem::Pem::new("CERTIFICATE", ca.cert_der.to_vec()));
                write_new(cert, pem.as_bytes(), 0o644)?;
                Ok((ca, true))
            }
            _ => Err(TrustError::Certificate(format!(
                "only one of the CA's files exists ({} and {}): give both, or move the one away to make a new CA",
                cert.display(),
                key.display()
            ))),
        }
    }

    pub fn load(cert: &Path, key_path: &Path) -> Result<Self, TrustError> {
        let cert_pem = std::fs::read_to_string(cert).map_err(|e| TrustError::file(cert, e))?;
        let key_pem =
            std::fs::read_to_string(key_path).map_err(|e| TrustError::file(key_path, e))?;
        let parsed =
            pem::parse(&cert_pem).map_err(|e| TrustError::cert("the CA certificate", e))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| TrustError::cert("the CA key", e))?;
        let cert_der = CertificateDer::from(parsed.into_contents());
        // The key must be the certificate's, or every node certificate would fail to verify.
        let (_, x509) = x509_parser::parse_x509_certificate(&cert_der)
            .map_err(|e| TrustError::cert("the CA certificate", e))?;
        if x509.public_key().raw != key.subject_public_key_info() {
            return Err(TrustError::Certificate(format!(
                "{} is not the key of {}",
                key_path.display(),
                cert.display()
            )));
        }
        Self::new(cert_der, key)
    }

    fn new(cert_der: CertificateDer<'static>, key: KeyPair) -> Result<Self, TrustError> {
        let issuer = Issuer::from_ca_cert_der(&cert_der, key)
            .map_err(|e| TrustError::cert("the CA certificate", e))?;
        Ok(Self { cert_der, issuer })
    }

    /// A new CA in memory (tests and `load_or_create`).
    pub fn create() -> Result<Self, TrustError> {
        let key = KeyPair::generate().map_err(|e| TrustError::cert("making the CA key", e))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "yun cluster CA");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        // It can only ever vouch for names of the fleet, never for a web site.
        params.name_constraints = Some(NameConstraints {
            permitted_subtrees: vec![GeneralSubtree::DnsName("fleet.yun".into())],
            excluded_subtrees: vec![],
        });
        params.serial_number = Some(serial());
        let now = SystemTime::now();
        params.not_before = (now - CLOCK_SKEW).into();
        params.not_after = (now + CA_LIFETIME).into();
        let cert = params
            .self_signed(&key)
            .map_err(|e| TrustError::cert("signing the CA", e))?;
        Self::new(cert.der().clone(), key)
    }

    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// What join tokens carry: lowercase hex of the certificate's SHA-256.
    pub fn digest(&self) -> String {
        digest(&self.cert_der)
    }

    /// The digest of any CA certificate (DER), to compare with a token's.
    pub fn digest_of(der: &[u8]) -> String {
        digest(der)
    }

    /// Signs node `node_id`'s certificate from its request. Only the request's key is used:
    /// the names, lifetime and uses are the CA's to decide.
    pub fn sign_node(
        &self,
        csr_der: &[u8],
        node_id: &str,
        lifetime: Duration,
    ) -> Result<Issued, TrustError> {
        let mut csr = CertificateSigningRequestParams::from_der(
            &CertificateSigningRequestDer::from(csr_der.to_vec()),
        )
        .map_err(|e| TrustError::cert("the certificate request", e))?;
        csr.params = leaf(node_id, &node_name(node_id), lifetime)?;
        let der = csr
            .signed_by(&self.issuer)
            .map_err(|e| TrustError::cert("signing a node certificate", e))?
            .der()
            .to_vec();
        // The serial and the expiry as the certificate carries them (whole seconds).
        let peer = Peer::from_der(&der)?;
        Ok(Issued {
            der,
            serial: peer.serial,
            not_after: peer.not_after,
        })
    }

    /// A master's identity: a new key and a certificate for [`MASTER_NAME`].
    pub fn master_identity(&self, lifetime: Duration) -> Result<Identity, TrustError> {
        let key = KeyPair::generate().map_err(|e| TrustError::cert("making a key", e))?;
        let cert = leaf("yun master", MASTER_NAME, lifetime)?
            .signed_by(&key, &self.issuer)
            .map_err(|e| TrustError::cert("signing the master's certificate", e))?;
        Ok(Identity::new(
            cert.der().to_vec(),
            self.cert_der.to_vec(),
            key.serialize_der(),
        ))
    }
}

pub(crate) fn digest(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// 16 random bytes, positive and without a leading zero, so its hex is the same in every tool.
fn serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] = (bytes[0] & 0x7f) | 0x10;
    SerialNumber::from_slice(&bytes)
}

fn leaf(
    common_name: &str,
    dns_name: &str,
    lifetime: Duration,
) -> Result<CertificateParams, TrustError> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "yun fleet");
    params.distinguished_name = dn;
    params.subject_alt_names = vec![SanType::DnsName(
        dns_name
            .try_into()
            .map_err(|e| TrustError::cert("a certificate name", e))?,
    )];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // Both ends of every connection show a certificate: a server's and a client's use.
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(serial());
    let now = SystemTime::now();
    params.not_before = (now - CLOCK_SKEW).into();
    params.not_after = (now + lifetime).into();
    Ok(params)
}

/// Writes a file that must not exist yet, with `mode`, so a key is never readable by others
/// even for a moment.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TrustError> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| TrustError::file(dir, e))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| TrustError::file(path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| TrustError::file(path, e))?;
    Ok(())
}
