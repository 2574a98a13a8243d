//! An image's manifest from its registry: the anonymous token a registry asks for (its realm
//! is a hop like any other), this host's platform out of an index, and the digest of what was
//! read checked against what the reference or the index named.

use super::hops::{HopError, Hops};
use super::{sha256_of, PullError};
use reqwest::{StatusCode, Url};
use serde_json::Value;

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// A manifest is a small JSON document; a larger answer is not one.
const MAX_MANIFEST_BYTES: usize = 4 << 20;

/// One blob a manifest names.
#[derive(Debug, Clone)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

/// An image's manifest, for this host's platform.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

impl Manifest {
    /// The compressed size of everything it names.
    pub fn size(&self) -> u64 {
        self.layers.iter().map(|l| l.size).sum::<u64>() + self.config.size
    }
}

/// The registry's session of one pull: where it is and the token it gave, if it asked for one.
pub struct Session<'a> {
    pub hops: &'a Hops,
    pub base: Url,
    pub repository: String,
    pub token: Option<String>,
}

impl Session<'_> {
    pub fn url(&self, kind: &str, digest_or_tag: &str) -> Result<Url, PullError> {
        self.base
            .join(&format!("/v2/{}/{kind}/{digest_or_tag}", self.repository))
            .map_err(|_| PullError::Failed("the reference makes no registry address".into()))
    }

    /// GETs `url` of the registry, asking once for an anonymous token when it answers 401.
    pub async fn get(
        &mut self,
        url: Url,
        accept: Option<&str>,
    ) -> Result<reqwest::Response, PullError> {
        let resp = self
            .hops
            .get(url.clone(), self.token.as_deref(), accept)
            .await?;
        if resp.status() != StatusCode::UNAUTHORIZED || self.token.is_some() {
            return Ok(resp);
        }
        let challenge = resp
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        self.token = Some(self.anonymous_token(&challenge).await?);
        Ok(self.hops.get(url, self.token.as_deref(), accept).await?)
    }

    /// The token a `Bearer realm=…,service=…,scope=…` challenge hands out to anyone. Nothing
    /// of ours is sent to the realm, and its token goes back to the registry alone.
    async fn anonymous_token(&self, challenge: &str) -> Result<String, PullError> {
        let params = challenge.strip_prefix("Bearer ").ok_or_else(|| {
            PullError::Failed("the registry wants credentials, and pulls here are anonymous".into())
        })?;
        let field = |key: &str| {
            params.split(',').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == key).then(|| v.trim_matches('"').to_string())
            })
        };
        let mut realm = field("realm")
            .and_then(|r| Url::parse(&r).ok())
            .ok_or_else(|| {
                PullError::Failed("the registry's token challenge names no realm".into())
            })?;
        for key in ["service", "scope"] {
            if let Some(v) = field(key) {
                realm.query_pairs_mut().append_pair(key, &v);
            }
        }
        let resp = self.hops.get(realm, None, None).await?;
        if !resp.status().is_success() {
            return Err(PullError::Failed(format!(
                "the registry's token service answered {}",
                resp.status().as_u16()
            )));
        }
        let body = read_small(resp).await?;
        let answer: Value = serde_json::from_slice(&body).map_err(|_| {
            PullError::Failed("the registry's token service answered no token".into())
        })?;
        answer["token"]
            .as_str()
            .or(answer["access_token"].as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                PullError::Failed("the registry's token service answered no token".into())
            })
    }

    /// The manifest `reference_tag` (a tag or digest) names, for this host's platform.
    pub async fn manifest(&mut self, tag_or_digest: &str) -> Result<Manifest, PullError> {
        let mut doc = self.document(tag_or_digest).await?;
        if let Some(list) = doc["manifests"].as_array() {
            let digest = list
                .iter()
                .find(|m| {
                    m["platform"]["os"] == "linux" && m["platform"]["architecture"] == host_arch()
                })
                .and_then(|m| m["digest"].as_str())
                .ok_or_else(|| {
                    PullError::Failed(format!(
                        "the image has no variant for linux/{}",
                        host_arch()
                    ))
                })?
                .to_string();
            doc = self.document(&digest).await?;
        }
        parse(&doc)
    }

    /// A manifest document; one asked for by digest must have that digest.
    async fn document(&mut self, tag_or_digest: &str) -> Result<Value, PullError> {
        let url = self.url("manifests", tag_or_digest)?;
        let resp = self.get(url, Some(ACCEPT)).await?;
        match resp.status() {
            s if s.is_success() => {}
            StatusCode::NOT_FOUND => {
                return Err(PullError::Failed(
                    "the registry has no such image (check the name and tag)".into(),
                ))
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(PullError::Failed(
                    "the registry refused an anonymous pull (private images are not supported yet)"
                        .into(),
                ))
            }
            s => {
                return Err(PullError::Failed(format!(
                    "the registry answered {} for the manifest",
                    s.as_u16()
                )))
            }
        }
        let body = read_small(resp).await?;
        if let Some(digest) = tag_or_digest.strip_prefix("sha256:") {
            if sha256_of(&body) != digest {
                return Err(PullError::WrongDigest("the manifest".into()));
            }
        }
        serde_json::from_slice(&body)
            .map_err(|_| PullError::Failed("the registry's manifest is not JSON".into()))
    }
}

/// A body of at most `MAX_MANIFEST_BYTES`.
async fn read_small(mut resp: reqwest::Response) -> Result<Vec<u8>, PullError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|_| PullError::Failed("the registry's answer broke off".into()))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_MANIFEST_BYTES {
            return Err(PullError::Failed(
                "the registry's answer is too large for a manifest".into(),
            ));
        }
    }
    Ok(body)
}

fn descriptor(v: &Value) -> Option<Descriptor> {
    let digest = v["digest"].as_str()?;
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(())?;
    Some(Descriptor {
        media_type: v["mediaType"].as_str().unwrap_or_default().to_string(),
        digest: digest.to_ascii_lowercase(),
        size: v["size"].as_u64()?,
    })
}

fn parse(doc: &Value) -> Result<Manifest, PullError> {
    let unreadable = || {
        PullError::Failed("the registry's manifest names no sha256 config and layers (old schema-1 images are not supported)".into())
    };
    let config = descriptor(&doc["config"]).ok_or_else(unreadable)?;
    let layers = doc["layers"]
        .as_array()
        .ok_or_else(unreadable)?
        .iter()
        .map(descriptor)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(unreadable)?;
    Ok(Manifest { config, layers })
}

fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

impl From<HopError> for PullError {
    fn from(e: HopError) -> Self {
        match e {
            HopError::Refused(r) => PullError::Refused(r.0),
            HopError::Failed(m) => PullError::Failed(m),
        }
    }
}
