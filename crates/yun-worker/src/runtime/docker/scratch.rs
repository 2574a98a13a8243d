//! Images made on this engine from files alone (`FROM scratch`, no registry, no build): an
//! image archive in `docker save`'s layout, loaded when the engine lacks the reference. Nothing
//! in it records when it was made, so the same files always make the same image id, and a
//! catalog entry pinned to that id stays valid when the image is loaded again.

use super::{DockerRuntime, RuntimeError, RuntimeResult};
use bollard::image::ImportImageOptions;
use futures::TryStreamExt;
use sha2::{Digest, Sha256};

/// An image of a few files and a command.
pub struct ScratchImage<'a> {
    /// `repository:tag`.
    pub reference: &'a str,
    /// Path inside the image (relative to its root), content, mode.
    pub files: Vec<(&'a str, &'a [u8], u32)>,
    pub command: Vec<String>,
    /// TCP ports the image declares; a create that names no ports publishes these.
    pub exposed_tcp: Vec<u16>,
}

impl DockerRuntime {
    /// Loads `image` unless the engine already has its reference. Returns the image id.
    pub async fn load_scratch_image(&self, image: &ScratchImage<'_>) -> RuntimeResult<String> {
        if let Ok(found) = self.docker.inspect_image(image.reference).await {
            return Ok(found.id.unwrap_or_default());
        }
        let archive = archive(image).map_err(|e| RuntimeError::ImageUnavailable {
            reference: image.reference.to_string(),
            message: format!("making its archive: {e}"),
        })?;
        self.docker
            .import_image(ImportImageOptions { quiet: true }, archive.into(), None)
            .try_collect::<Vec<_>>()
            .await?;
        let loaded = self.docker.inspect_image(image.reference).await?;
        Ok(loaded.id.unwrap_or_default())
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// One tar entry with fixed owner and time, so the archive depends on the content alone.
fn append(
    tar: &mut tar::Builder<Vec<u8>>,
    path: &str,
    body: &[u8],
    mode: u32,
) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(body.len() as u64);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, path, body)
}

fn archive(image: &ScratchImage<'_>) -> std::io::Result<Vec<u8>> {
    let mut layer = tar::Builder::new(Vec::new());
    for (path, body, mode) in &image.files {
        append(&mut layer, path, body, *mode)?;
    }
    let layer = layer.into_inner()?;
    let layer_digest = sha256_hex(&layer);
    let exposed: serde_json::Map<String, serde_json::Value> = image
        .exposed_tcp
        .iter()
        .map(|p| (format!("{p}/tcp"), serde_json::json!({})))
        .collect();
    // The OCI image config (the parts an engine reads); no `created`, so no clock in the id.
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": docker_architecture(),
        "os": "linux",
        "config": {
            "Cmd": image.command,
            "ExposedPorts": exposed,
            "Env": ["PATH=/"],
        },
        "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{layer_digest}")] },
    }))
    .map_err(std::io::Error::other)?;
    let config_name = format!("{}.json", sha256_hex(&config));
    let layer_name = format!("{layer_digest}/layer.tar");
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": config_name,
        "RepoTags": [image.reference],
        "Layers": [layer_name],
    }]))
    .map_err(std::io::Error::other)?;
    let mut outer = tar::Builder::new(Vec::new());
    append(&mut outer, &config_name, &config, 0o644)?;
    append(&mut outer, &layer_name, &layer, 0o644)?;
    append(&mut outer, "manifest.json", &manifest, 0o644)?;
    outer.into_inner()
}

/// Docker's name for this machine's architecture.
fn docker_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> ScratchImage<'static> {
        ScratchImage {
            reference: "scratch.invalid/t:1",
            files: vec![("hello", b"#!", 0o755)],
            command: vec!["/hello".into()],
            exposed_tcp: vec![8080],
        }
    }

    #[test]
    fn the_same_files_make_the_same_archive() {
        assert_eq!(archive(&demo()).unwrap(), archive(&demo()).unwrap());
        let mut other = demo();
        other.files = vec![("hello", b"#?", 0o755)];
        assert_ne!(archive(&demo()).unwrap(), archive(&other).unwrap());
    }
}
