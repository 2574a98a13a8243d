//! The table `build.rs` writes: every file under `web/`, with its compressed forms.

pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    /// A strong ETag from the content's SHA-256.
    pub etag: &'static str,
    pub identity: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The file at `path`; `/` is `index.html`.
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = if path == "/" { "/index.html" } else { path };
    ASSETS.iter().find(|a| a.path == path)
}
