#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{0}")]
    Certificate(String),
    #[error("{path}: {source}")]
    File {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the join token is not one yun made: it looks like YUN1-<64 hex digits>-<secret>; ask the operator for a new one (`yun master join-token`)")]
    TokenShape,
}

impl TrustError {
    pub(crate) fn cert(what: &str, e: impl std::fmt::Display) -> Self {
        Self::Certificate(format!("{what}: {e}"))
    }

    pub(crate) fn file(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::File {
            path: path.to_path_buf(),
            source,
        }
    }
}
