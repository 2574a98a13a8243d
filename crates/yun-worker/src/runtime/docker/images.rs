//! Pulling (policy "if not present" unless asked to always pull), listing and removing images.

use super::super::{ImageInfo, PullProgress, RuntimeError, RuntimeResult};
use super::is_not_found;
use bollard::image::{CreateImageOptions, RemoveImageOptions};
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

/// Makes sure the image is on the host, contacting a registry only when it is not.
/// What a container is created from: its pinned image id when the spec has one (pulling the
/// reference only to fetch that content, and refusing other content under the same name),
/// else the reference as it resolves now.
pub(super) async fn pinned(
    docker: &Docker,
    reference: &str,
    image_id: &str,
) -> RuntimeResult<String> {
    if image_id.is_empty() {
        ensure_present(docker, reference).await?;
        return Ok(reference.to_string());
    }
    if inspect(docker, image_id).await?.is_some() {
        return Ok(image_id.to_string());
    }
    let (tx, _rx) = mpsc::channel(1);
    // The content was measured when it was recorded; the same digest weighs the same.
    let pulled = pull(docker, reference, true, 0, tx).await?;
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

pub(super) async fn ensure_present(docker: &Docker, reference: &str) -> RuntimeResult<ImageInfo> {
    if let Some(info) = inspect(docker, reference).await? {
        return Ok(info);
    }
    let (tx, _rx) = mpsc::channel(1);
    pull(docker, reference, true, 0, tx).await
}

/// Pulls `reference` (unless `always` is false and it is here). With `max_bytes` above 0 the
/// image may weigh that much at most: checked by its registry's manifest before the pull when
/// it can be read, by the layers' sizes as the download reports them (the pull is cancelled
/// when they pass it), and by its unpacked size afterwards (it is removed again).
pub(super) async fn pull(
    docker: &Docker,
    reference: &str,
    always: bool,
    max_bytes: u64,
    progress: mpsc::Sender<PullProgress>,
) -> RuntimeResult<ImageInfo> {
    let too_large = |size: u64, seen: &'static str| RuntimeError::ImageTooLarge {
        reference: reference.to_string(),
        size,
        limit: max_bytes,
        seen,
    };
    if !always {
        if let Some(info) = inspect(docker, reference).await? {
            return Ok(info);
        }
    }
    if max_bytes > 0 {
        if let Some(size) = super::manifest::compressed_size(reference).await {
            if size > max_bytes {
                return Err(too_large(size, "its registry's manifest"));
            }
        }
    }
    let mut download = DownloadSize::default();
    let options = CreateImageOptions {
        from_image: reference.to_string(),
        ..Default::default()
    };
    let mut stream = docker.create_image(Some(options), None, None);
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| RuntimeError::ImageUnavailable {
            reference: reference.to_string(),
            message: e.to_string(),
        })?;
        let detail = info.progress_detail.unwrap_or_default();
        let status = info.status.unwrap_or_default();
        // The engine's "Pulling from REPO" line carries the tag in `id`; it is not a layer.
        let layer = if status.starts_with("Pulling from ") {
            String::new()
        } else {
            info.id.unwrap_or_default()
        };
        let total = detail.total.unwrap_or(0).max(0) as u64;
        if max_bytes > 0 && status == "Downloading" && !layer.is_empty() {
            let sum = download.layer(&layer, total);
            if sum > max_bytes {
                // Dropping the stream closes the request, which stops the engine's pull.
                return Err(too_large(sum, "its download"));
            }
        }
        // A slow reader must not stall the pull: progress is best effort.
        let _ = progress.try_send(PullProgress {
            status,
            layer,
            current: detail.current.unwrap_or(0).max(0) as u64,
            total,
        });
    }
    let info = inspect(docker, reference)
        .await?
        .ok_or_else(|| RuntimeError::ImageUnavailable {
            reference: reference.to_string(),
            message: "the pull ended without the image".into(),
        })?;
    if max_bytes > 0 && info.size_bytes > max_bytes {
        remove(docker, reference, &info.docker_id).await?;
        return Err(too_large(info.size_bytes, "its unpacked size"));
    }
    Ok(ImageInfo {
        pulled: true,
        ..info
    })
}

/// The size of a download as its progress reports it: each layer's total, summed.
#[derive(Default)]
struct DownloadSize {
    layers: std::collections::HashMap<String, u64>,
}

impl DownloadSize {
    /// Notes a layer's reported total; answers the download's size so far.
    fn layer(&mut self, id: &str, total: u64) -> u64 {
        let known = self.layers.entry(id.to_string()).or_default();
        *known = (*known).max(total);
        self.layers.values().sum()
    }
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

#[cfg(test)]
mod tests {
    use super::DownloadSize;

    #[test]
    fn a_download_is_the_sum_of_its_layers_totals() {
        let mut d = DownloadSize::default();
        assert_eq!(d.layer("a", 3 << 20), 3 << 20);
        // The same layer reported again does not count twice.
        assert_eq!(d.layer("a", 3 << 20), 3 << 20);
        assert_eq!(d.layer("b", 2 << 20), 5 << 20);
        assert_eq!(d.layer("a", 0), 5 << 20, "a total never shrinks");
    }
}
