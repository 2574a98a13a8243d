//! The image archive a pull hands to the engine (`docker load`), in `docker save`'s layout:
//! the config as `<digest>.json`, each layer as `<digest>/layer.tar` (still compressed: the
//! engine decompresses and checks each against the config's diff ids), and `manifest.json`
//! naming them. Entries are written as their bytes arrive, so nothing is held in memory.

use std::path::Path;
use tokio::io::AsyncWriteExt;

pub struct Archive {
    file: tokio::fs::File,
    layers: Vec<String>,
}

fn header(path: &str, size: u64) -> std::io::Result<[u8; 512]> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    Ok(*h.as_bytes())
}

/// Zeros that bring an entry of `size` bytes to a whole 512-byte block.
fn padding(size: u64) -> usize {
    ((512 - size % 512) % 512) as usize
}

impl Archive {
    pub async fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            file: tokio::fs::File::create(path).await?,
            layers: Vec::new(),
        })
    }

    /// Starts an entry of exactly `size` bytes; `write` its bytes, then `end_entry`.
    pub async fn begin_entry(&mut self, path: &str, size: u64) -> std::io::Result<()> {
        self.file.write_all(&header(path, size)?).await
    }

    pub async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all(bytes).await
    }

    pub async fn end_entry(&mut self, size: u64) -> std::io::Result<()> {
        self.file.write_all(&vec![0; padding(size)]).await
    }

    /// The config, whole.
    pub async fn config(&mut self, hex: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.begin_entry(&format!("{hex}.json"), bytes.len() as u64)
            .await?;
        self.write(bytes).await?;
        self.end_entry(bytes.len() as u64).await
    }

    /// The path of the next layer's entry (layers go in the manifest's order).
    pub fn layer_path(&mut self, hex: &str) -> String {
        let path = format!("{hex}/layer.tar");
        self.layers.push(path.clone());
        path
    }

    /// Writes `manifest.json` and the archive's end, and syncs it.
    pub async fn finish(mut self, config_hex: &str, repo_tag: Option<&str>) -> std::io::Result<()> {
        let manifest = serde_json::json!([{
            "Config": format!("{config_hex}.json"),
            "RepoTags": repo_tag.map(|t| vec![t]).unwrap_or_default(),
            "Layers": self.layers,
        }]);
        let bytes = serde_json::to_vec(&manifest).expect("plain JSON");
        self.begin_entry("manifest.json", bytes.len() as u64)
            .await?;
        self.write(&bytes).await?;
        self.end_entry(bytes.len() as u64).await?;
        self.file.write_all(&[0; 1024]).await?;
        self.file.flush().await?;
        self.file.sync_all().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_archive_is_a_tar_that_names_its_parts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image.tar");
        let mut a = Archive::create(&path).await.unwrap();
        a.config("c0ffee", b"{\"rootfs\":{}}").await.unwrap();
        let layer = a.layer_path("abc");
        a.begin_entry(&layer, 3).await.unwrap();
        a.write(b"xyz").await.unwrap();
        a.end_entry(3).await.unwrap();
        a.finish("c0ffee", Some("reg.example/app:1")).await.unwrap();
        let mut names = Vec::new();
        let mut tar = tar::Archive::new(std::fs::File::open(&path).unwrap());
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let mut body = String::new();
            std::io::Read::read_to_string(&mut entry, &mut body).unwrap();
            names.push((entry.path().unwrap().display().to_string(), body));
        }
        assert_eq!(names[0].0, "c0ffee.json");
        assert_eq!(names[1], ("abc/layer.tar".into(), "xyz".into()));
        assert_eq!(names[2].0, "manifest.json");
        assert!(names[2].1.contains("reg.example/app:1") && names[2].1.contains("abc/layer.tar"));
    }
}
