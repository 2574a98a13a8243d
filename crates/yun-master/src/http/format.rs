//! How a streamed answer's format is chosen, the same way on every route: `format=ndjson` or
//! `Accept: application/x-ndjson`; the query wins.

use super::extract::accepts_ndjson;
use crate::http::api_error::{ApiError, ApiResult};
use axum::http::HeaderMap;
use serde::Deserialize;
use utoipa::IntoParams;
use yun_api::ErrorCode;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    /// `ndjson` for one JSON object a line as it happens; the plain answer otherwise.
    pub format: Option<String>,
}

/// Whether NDJSON was asked for; `plain` is the name of the other format on this route.
pub fn ndjson_chosen(format: Option<&str>, plain: &str, headers: &HeaderMap) -> ApiResult<bool> {
    match format {
        None => Ok(accepts_ndjson(headers)),
        Some("ndjson") => Ok(true),
        Some(f) if f == plain => Ok(false),
        Some(other) => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("format={other} is not known; use format={plain} or format=ndjson"),
        )
        .on("format")),
    }
}
