//! Pulling (policy "if not present" unless asked to always pull), listing and removing images.

use super::super::{ImageInfo, PullProgress, RuntimeError, RuntimeResult};
use super::is_not_found;
use crate::registry::{PullError, PullPolicy, Step, Tally};
use bollard::image::{ImportImageOptions, RemoveImageOptions};
use bollard::Docker;
use futures::StreamExt;
use tokio::sync::mpsc;

pub(super) async fn inspect(docker: &Docker, reference: &str) -> RuntimeResult<Option<ImageInfo>> {
    match docker.inspect_image(reference).await {
        Ok(img) => {
            let mut exposed: Vec<(u16, String)> = img
                .config
                .and_then(|c| c.exposed_ports)
                .unwrap_or_default()
                .keys()
                .filter_map(|k| {
                    let (port, proto) = k.split_once('/').unwrap_or((k.as_str(), "tcp"));
                    Some((port.parse().ok()?, proto.to_string()))
                })
                .collect();
            exposed.sort();
            Ok(Some(ImageInfo {
                reference: reference.to_string(),
                docker_id: img.id.unwrap_or_default(),
                size_bytes: img.size.unwrap_or(0).max(0) as u64,
                exposed_ports: exposed,
                pulled: false,
            }))
        }
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The paths an image declares as `VOLUME`s, sorted.
fn volumes_of(img: &bollard::models::ImageInspect) -> Vec<String> {
    let mut paths: Vec<String> = img
        .config
        .as_ref()
        .and_then(|c| c.volumes.as_ref())
        .map(|v| v.keys().cloned().collect())
        .unwrap_or_default();
    paths.sort();
    paths
}

/// What a container is created from, and the `VOLUME`s that image declares: its pinned image
/// id when the spec has one (pulling the reference only to fetch that content, and refusing
/// other content under the same name), else the reference as it resolves now. The usual case,
/// an image already here by its id, is one call to the engine.
pub(super) async fn pinned(
    docker: &Docker,
    reference: &str,
    image_id: &str,
    allowed: &[String],
) -> RuntimeResult<(String, Vec<String>)> {
    if !image_id.is_empty() {
        match docker.inspect_image(image_id).await {
            Ok(img) => return Ok((image_id.to_string(), volumes_of(&img))),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let image = fetch_pinned(docker, reference, image_id, allowed).await?;
    let img = docker.inspect_image(&image).await?;
    Ok((image, volumes_of(&img)))
}

/// `pinned` when the engine does not have the pinned content (or there is no pin).
async fn fetch_pinned(
    docker: &Docker,
    reference: &str,
    image_id: &str,
    allowed: &[String],
) -> RuntimeResult<String> {
    // The content was measured when it was recorded; the same digest weighs the same.
    let policy = PullPolicy {
        max_bytes: 0,
        allowed: allowed.to_vec(),
    };
    if image_id.is_empty() {
        ensure_present(docker, reference, &policy).await?;
        return Ok(reference.to_string());
    }
    let (tx, _rx) = mpsc::channel(1);
    let pulled = pull(docker, reference, true, &policy, tx).await?;
    if pulled.docker_id != image_id {
        return Err(RuntimeError::ImageUnavailable {
            reference: reference.to_string(),
            message: format!(
                "its registry now serves other content ({}) than the image recorded ({image_id})",
                pulled.docker_id
            ),
        });
    }
    Ok(image_id.to_string())
}

pub(super) async fn ensure_present(
    docker: &Docker,
    reference: &str,
    policy: &PullPolicy,
) -> RuntimeResult<ImageInfo> {
    if let Some(info) = inspect(docker, reference).await? {
        return Ok(info);
    }
    let (tx, _rx) = mpsc::channel(1);
    pull(docker, reference, true, policy, tx).await
}

/// Pulls `reference` (unless `always` is false and it is here), within `policy`: the worker
/// fetches it from its registry itself (`crate::registry`: every hop checked, every digest
/// verified, the download and what it unpacks to counted and stopped at the limit), then the
/// engine loads the finished archive. The engine never talks to a registry.
pub(super) async fn pull(
    docker: &Docker,
    reference: &str,
    always: bool,
    policy: &PullPolicy,
    progress: mpsc::Sender<PullProgress>,
) -> RuntimeResult<ImageInfo> {
    let too_large = |size: u64, seen: &'static str| RuntimeError::ImageTooLarge {
        reference: reference.to_string(),
        size,
        limit: policy.max_bytes,
        seen,
    };
    let unavailable = |message: String| RuntimeError::ImageUnavailable {
        reference: reference.to_string(),
        message,
    };
    if !always {
        if let Some(info) = inspect(docker, reference).await? {
            return Ok(info);
        }
    }
    let send = |status: &str, layer: &str, current: u64, total: u64, downloaded: u64| {
        // A slow reader must not stall the pull: progress is best effort.
        let _ = progress.try_send(PullProgress {
            status: status.to_string(),
            layer: layer.to_string(),
            current,
            total,
            downloaded,
        });
    };
    let mut tally = Tally::default();
    let mut reported = 0u64;
    let fetched = crate::registry::fetch(
        reference,
        policy,
        &std::env::temp_dir(),
        &mut tally,
        |step| match step {
            Step::Layers(layers) => {
                for (layer, total) in layers {
                    send("Pulling fs layer", layer, 0, *total, 0);
                }
            }
            Step::Downloading {
                layer,
                current,
                total,
                tally,
            } => {
                // About every 256 KiB, so a fast pull is not a flood of messages.
                if current == total || tally.downloaded >= reported + (256 << 10) {
                    reported = tally.downloaded;
                    send("Downloading", layer, current, total, tally.downloaded);
                }
            }
            Step::Downloaded {
                layer,
                total,
                tally,
            } => send("Download complete", layer, total, total, tally.downloaded),
        },
    )
    .await;
    let fetched = match fetched {
        Ok(f) => f,
        Err(e) => {
            // The last word on what was downloaded, for the charge of a failed pull.
            send("failed", "", 0, 0, tally.downloaded);
            return Err(match e {
                PullError::TooLarge { size, seen } => too_large(size, seen),
                other => unavailable(other.to_string()),
            });
        }
    };
    let loaded = load(docker, &fetched.archive).await;
    let _ = tokio::fs::remove_file(&fetched.archive).await;
    loaded.map_err(|e| unavailable(format!("the engine could not load it: {e}")))?;
    let name = crate::registry::reference::repo_tag(reference).unwrap_or(fetched.image_id.clone());
    let info = inspect(docker, &name)
        .await?
        .ok_or_else(|| unavailable("the engine loaded it without its name".into()))?;
    if info.docker_id != fetched.image_id {
        return Err(unavailable(
            "the engine loaded other content than was fetched".into(),
        ));
    }
    if policy.max_bytes > 0 && info.size_bytes > policy.max_bytes {
        remove(docker, reference, &info.docker_id).await?;
        return Err(too_large(info.size_bytes, "its unpacked size"));
    }
    Ok(ImageInfo {
        reference: reference.to_string(),
        pulled: true,
        ..info
    })
}

/// `docker load` of an archive, streamed from its file.
async fn load(docker: &Docker, archive: &std::path::Path) -> Result<(), String> {
    let file = tokio::fs::File::open(archive)
        .await
        .map_err(|e| e.to_string())?;
    let body = tokio_util::io::ReaderStream::new(file).filter_map(|chunk| async { chunk.ok() });
    let mut answers = docker.import_image_stream(ImportImageOptions { quiet: true }, body, None);
    while let Some(answer) = answers.next().await {
        let answer = answer.map_err(|e| e.to_string())?;
        if let Some(error) = answer.error {
            return Err(error);
        }
    }
    Ok(())
}

/// Removes what a pull of `reference` brought, never by force: the tag if it still names
/// `docker_id` (other tags of the same content stay, and so does the content), else the
/// content itself if no tag names it any more. An image a container uses stays.
pub(super) async fn remove(docker: &Docker, reference: &str, docker_id: &str) -> RuntimeResult<()> {
    let target = match inspect(docker, reference).await? {
        Some(info) if info.docker_id == docker_id => reference.to_string(),
        _ => match docker.inspect_image(docker_id).await {
            Ok(img) if img.repo_tags.as_ref().is_none_or(Vec::is_empty) => docker_id.to_string(),
            Ok(_) => return Ok(()), // another name holds it
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => return Err(e.into()),
        },
    };
    let options = RemoveImageOptions {
        force: false,
        noprune: false,
    };
    match docker.remove_image(&target, Some(options), None).await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        // A container (of any cluster on this engine) still uses it.
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 409, ..
        }) => {
            tracing::info!(image = target, "image kept: a container uses it");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
