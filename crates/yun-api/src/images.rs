//! Images: the public catalog, a renter's own, and a pull's progress.

use crate::containers::Protocol;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What to pull (a renter's own image) or publish (an operator's catalog entry).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    /// A Docker reference such as `nginx:1.27` or `registry.example.com/team/app:2`.
    #[schema(min_length = 1, max_length = 255, example = "nginx:1.27")]
    pub reference: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// In the catalog: everyone may run it.
    Public,
    /// Pulled by its owner: only they may run it.
    Private,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Image {
    pub id: String,
    pub reference: String,
    pub visibility: Visibility,
    pub size_bytes: u64,
    /// The ports the image declares; published by default when a create names none.
    pub exposed_ports: Vec<ExposedPort>,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExposedPort {
    pub container_port: u16,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageAnswer {
    pub image: Image,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageList {
    pub images: Vec<Image>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// One line of a pull's NDJSON progress (`Accept: application/x-ndjson`): progress lines, then
/// one `done` or one `error`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PullEvent {
    Progress {
        /// The engine's words, such as `Downloading` or `Pull complete`.
        status: String,
        /// The layer this line is about, when it is about one.
        layer: String,
        /// Bytes done and in all, when the engine says.
        current: u64,
        total: u64,
    },
    /// The image is pulled and recorded.
    Done { image: Image },
    /// The pull failed; no credit was taken.
    Error { error: crate::ErrorBody },
}
