//! Pulling (policy "if not present" unless asked to always pull), listing and removing images.

use super::super::{ImageInfo, PullProgress, RuntimeError, RuntimeResult};
use super::is_not_found;
use bollard::image::{CreateImageOptions, ListImagesOptions, RemoveImageOptions};
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
    let pulled = pull(docker, reference, true, tx).await?;
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
    pull(docker, reference, true, tx).await
}

pub(super) async fn pull(
    docker: &Docker,
    reference: &str,
    always: bool,
    progress: mpsc::Sender<PullProgress>,
) -> RuntimeResult<ImageInfo> {
    if !always {
        if let Some(info) = inspect(docker, reference).await? {
            return Ok(info);
        }
    }
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
        // A slow reader must not stall the pull: progress is best effort.
        let _ = progress.try_send(PullProgress {
            status: info.status.unwrap_or_default(),
            layer: info.id.unwrap_or_default(),
            current: detail.current.unwrap_or(0).max(0) as u64,
            total: detail.total.unwrap_or(0).max(0) as u64,
        });
    }
    inspect(docker, reference)
        .await?
        .ok_or_else(|| RuntimeError::ImageUnavailable {
            reference: reference.to_string(),
            message: "the pull ended without the image".into(),
        })
}

pub(super) async fn list(docker: &Docker) -> RuntimeResult<Vec<ImageInfo>> {
    let images = docker
        .list_images(Some(ListImagesOptions::<String> {
            all: false,
            ..Default::default()
        }))
        .await?;
    Ok(images
        .into_iter()
        .flat_map(|img| {
            let id = img.id.clone();
            let size = img.size.max(0) as u64;
            img.repo_tags
                .into_iter()
                .filter(|t| t != "<none>:<none>")
                .map(move |tag| ImageInfo {
                    reference: tag,
                    docker_id: id.clone(),
                    size_bytes: size,
                    exposed_ports: Vec::new(),
                })
        })
        .collect())
}

pub(super) async fn remove(docker: &Docker, reference: &str) -> RuntimeResult<()> {
    let options = RemoveImageOptions {
        force: false,
        noprune: false,
    };
    match docker.remove_image(reference, Some(options), None).await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
