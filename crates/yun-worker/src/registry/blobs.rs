//! One layer from the registry into the archive: its bytes counted against the image's limit
//! as they arrive, decompressed (into nothing) to count what they unpack to, stopped the
//! moment either passes the limit, and checked against the digest the manifest names.

use super::archive::Archive;
use super::manifest::{Descriptor, Session};
use super::{sha256_hex, PullError, Tally};
use sha2::{Digest, Sha256};
use std::io::Write;

/// How a layer's bytes are packed.
enum Packing {
    Gzip,
    Plain,
}

fn packing(media_type: &str) -> Result<Packing, PullError> {
    match media_type {
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
        | "application/vnd.oci.image.layer.v1.tar+gzip" => Ok(Packing::Gzip),
        "application/vnd.oci.image.layer.v1.tar"
        | "application/vnd.docker.image.rootfs.diff.tar" => Ok(Packing::Plain),
        other => Err(PullError::Failed(format!(
            "a layer is packed as {other}, which pulls here do not unpack (gzip and plain tar are)"
        ))),
    }
}

/// Compressed bytes fed to the decoder at a time: a bomb's piece unpacks to a few MiB at most
/// before it is counted.
const FEED: usize = 4096;

/// Counts `n` more unpacked bytes, refusing past the limit.
fn unpacked(tally: &mut Tally, n: usize) -> Result<(), PullError> {
    tally.unpacked += n as u64;
    if tally.over_unpacked() {
        return Err(PullError::TooLarge {
            size: tally.unpacked,
            seen: "its unpacked size",
        });
    }
    Ok(())
}

fn bad_gzip() -> PullError {
    PullError::Failed("a layer is not the gzip its manifest says".into())
}

/// Fetches the blob `layer` into `archive`, reporting each chunk to `progress`.
pub async fn layer(
    session: &mut Session<'_>,
    layer: &Descriptor,
    archive: &mut Archive,
    tally: &mut Tally,
    mut progress: impl FnMut(&Tally, u64),
) -> Result<(), PullError> {
    let packing = packing(&layer.media_type)?;
    let url = session.url("blobs", &layer.digest)?;
    let mut resp = session.get(url, None).await?;
    if !resp.status().is_success() {
        return Err(PullError::Failed(format!(
            "the registry answered {} for a layer",
            resp.status().as_u16()
        )));
    }
    let hex = layer.digest.trim_start_matches("sha256:").to_string();
    let path = archive.layer_path(&hex);
    archive
        .begin_entry(&path, layer.size)
        .await
        .map_err(PullError::Disk)?;
    let mut hasher = Sha256::new();
    let mut got = 0u64;
    let mut gunzip = flate2::write::MultiGzDecoder::new(Vec::new());
    loop {
        let chunk = resp
            .chunk()
            .await
            .map_err(|_| PullError::Failed("a layer's download broke off".into()))?;
        let Some(chunk) = chunk else { break };
        got += chunk.len() as u64;
        tally.downloaded += chunk.len() as u64;
        if got > layer.size {
            return Err(PullError::Failed(
                "the registry sent more for a layer than its manifest said".into(),
            ));
        }
        if tally.over_downloaded() {
            return Err(PullError::TooLarge {
                size: tally.downloaded,
                seen: "its download",
            });
        }
        hasher.update(&chunk);
        match packing {
            Packing::Gzip => {
                for piece in chunk.chunks(FEED) {
                    gunzip.write_all(piece).map_err(|_| bad_gzip())?;
                    // What the decoder made of it is counted, then dropped.
                    let made = std::mem::take(gunzip.get_mut()).len();
                    unpacked(tally, made)?;
                }
            }
            Packing::Plain => unpacked(tally, chunk.len())?,
        }
        archive.write(&chunk).await.map_err(PullError::Disk)?;
        progress(tally, got);
    }
    if got != layer.size || sha256_hex(hasher) != hex {
        return Err(PullError::WrongDigest("a layer".into()));
    }
    if let Packing::Gzip = packing {
        gunzip.try_finish().map_err(|_| bad_gzip())?;
        let made = std::mem::take(gunzip.get_mut()).len();
        unpacked(tally, made)?;
    }
    archive
        .end_entry(layer.size)
        .await
        .map_err(PullError::Disk)?;
    Ok(())
}

/// A small blob (the config) whole, checked against its digest.
pub async fn small(
    session: &mut Session<'_>,
    blob: &Descriptor,
    limit: u64,
) -> Result<Vec<u8>, PullError> {
    if blob.size > limit {
        return Err(PullError::Failed(
            "the image's config is implausibly large".into(),
        ));
    }
    let url = session.url("blobs", &blob.digest)?;
    let mut resp = session.get(url, None).await?;
    if !resp.status().is_success() {
        return Err(PullError::Failed(format!(
            "the registry answered {} for the image's config",
            resp.status().as_u16()
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|_| PullError::Failed("the config's download broke off".into()))?
    {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > blob.size {
            return Err(PullError::WrongDigest("the image's config".into()));
        }
    }
    if super::sha256_of(&body) != blob.digest.trim_start_matches("sha256:") {
        return Err(PullError::WrongDigest("the image's config".into()));
    }
    Ok(body)
}
