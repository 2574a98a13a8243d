//! The worker is the only registry client: it reads an image's manifest and blobs itself,
//! every request checked against the operator's policy (`hops`), every digest verified, the
//! download and what it unpacks to counted as they arrive and stopped at the image limit, and
//! hands the engine a finished archive to load. The engine never talks to a registry, so
//! nothing a registry answers can lead it anywhere.

mod archive;
mod blobs;
pub mod hops;
mod manifest;
pub mod reference;

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Layers an image may have (the engine's overlay stacks 128 at most).
const MAX_LAYERS: usize = 128;

/// What a pull may do, from the master.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PullPolicy {
    /// The most the image may weigh, downloaded or unpacked (0: no limit).
    pub max_bytes: u64,
    /// The operator's `allowed_registries`.
    pub allowed: Vec<String>,
}

/// Why a pull stopped.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The policy refused a hop (a realm, a redirect, a blob host).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
    #[error("the registry sent other content for {0} than its digest names")]
    WrongDigest(String),
    #[error("over the limit by {seen}")]
    TooLarge { size: u64, seen: &'static str },
    #[error("writing the image archive on this node: {0}")]
    Disk(std::io::Error),
}

/// What a pull has taken so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    pub limit: u64,
    /// Bytes fetched from the registry.
    pub downloaded: u64,
    /// What the layers unpack to.
    pub unpacked: u64,
}

impl Tally {
    fn over_downloaded(&self) -> bool {
        self.limit > 0 && self.downloaded > self.limit
    }

    fn over_unpacked(&self) -> bool {
        self.limit > 0 && self.unpacked > self.limit
    }
}

fn sha256_hex(hasher: Sha256) -> String {
    hex::encode(hasher.finalize())
}

fn sha256_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// An image fetched into an archive the engine can load.
#[derive(Debug)]
pub struct Fetched {
    pub archive: PathBuf,
    /// `sha256:<hex>` of its config: the id the engine gives it.
    pub image_id: String,
}

/// A step of a pull, for its progress.
pub enum Step<'a> {
    /// Each layer is known (digest, size) before any is fetched.
    Layers(&'a [(String, u64)]),
    /// `current` of the layer's bytes are here.
    Downloading {
        layer: &'a str,
        current: u64,
        total: u64,
        tally: Tally,
    },
    Downloaded {
        layer: &'a str,
        total: u64,
        tally: Tally,
    },
}

/// The short name of a layer in progress messages, as the engine names them.
pub fn short(digest: &str) -> String {
    digest
        .trim_start_matches("sha256:")
        .chars()
        .take(12)
        .collect()
}

/// Fetches `reference` into an archive under `dir`, within `policy`. The archive is removed
/// when the fetch fails; the tally says what was downloaded either way.
pub async fn fetch(
    reference: &str,
    policy: &PullPolicy,
    dir: &Path,
    tally: &mut Tally,
    mut progress: impl FnMut(Step<'_>),
) -> Result<Fetched, PullError> {
    tally.limit = policy.max_bytes;
    let path = dir.join(format!("yun-pull-{}.tar", yun_core::new_id()));
    let fetched = fetch_into(reference, policy, &path, tally, &mut progress).await;
    if fetched.is_err() {
        let _ = tokio::fs::remove_file(&path).await;
    }
    fetched
}

async fn fetch_into(
    reference: &str,
    policy: &PullPolicy,
    path: &Path,
    tally: &mut Tally,
    progress: &mut impl FnMut(Step<'_>),
) -> Result<Fetched, PullError> {
    let (base, repository, tag) = reference::locate(reference);
    let base = reqwest::Url::parse(&base)
        .map_err(|_| PullError::Failed("the reference makes no registry address".into()))?;
    let hops = hops::Hops::new(&base, &policy.allowed);
    let mut session = manifest::Session {
        hops: &hops,
        base,
        repository,
        token: None,
    };
    let image = session.manifest(&tag).await?;
    if image.layers.len() > MAX_LAYERS {
        return Err(PullError::Failed(format!(
            "the image has {} layers; an image here may have {MAX_LAYERS} at most",
            image.layers.len()
        )));
    }
    if policy.max_bytes > 0 && image.size() > policy.max_bytes {
        return Err(PullError::TooLarge {
            size: image.size(),
            seen: "its registry's manifest",
        });
    }
    let layers: Vec<(String, u64)> = image
        .layers
        .iter()
        .map(|l| (short(&l.digest), l.size))
        .collect();
    progress(Step::Layers(&layers));
    let config = blobs::small(&mut session, &image.config, 16 << 20).await?;
    tally.downloaded += config.len() as u64;
    let config_hex = image
        .config
        .digest
        .trim_start_matches("sha256:")
        .to_string();
    let mut out = archive::Archive::create(path)
        .await
        .map_err(PullError::Disk)?;
    out.config(&config_hex, &config)
        .await
        .map_err(PullError::Disk)?;
    for layer in &image.layers {
        let name = short(&layer.digest);
        blobs::layer(&mut session, layer, &mut out, tally, |tally, current| {
            progress(Step::Downloading {
                layer: &name,
                current,
                total: layer.size,
                tally: *tally,
            })
        })
        .await?;
        progress(Step::Downloaded {
            layer: &name,
            total: layer.size,
            tally: *tally,
        });
    }
    out.finish(&config_hex, reference::repo_tag(reference).as_deref())
        .await
        .map_err(PullError::Disk)?;
    Ok(Fetched {
        archive: path.to_path_buf(),
        image_id: format!("sha256:{config_hex}"),
    })
}
