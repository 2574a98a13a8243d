//! Paging, the same on every list: `limit` (1 to 200, default 50) and the opaque `cursor` that
//! the previous page answered as `next_cursor` (null on the last page).

use crate::http::api_error::{ApiError, ApiResult};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use utoipa::IntoParams;
use yun_api::ErrorCode;
use yun_store::Page;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A cursor names the list it belongs to, so one list's cursor is refused by another.
pub fn page(limit: Option<i64>, cursor: Option<&str>, list: &str) -> ApiResult<Page> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("limit={limit}: use 1 to {MAX_LIMIT}"),
        )
        .on("limit"));
    }
    let after = match cursor {
        None => None,
        Some(c) => Some(decode(c, list).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidQuery,
                "this cursor is not one this list gave; pass the next_cursor of its previous page, or none for the first",
            )
            .on("cursor")
        })?),
    };
    // One more than asked tells whether a next page exists without an empty last page.
    Ok(Page {
        after,
        limit: limit + 1,
    })
}

fn decode(cursor: &str, list: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let key = text.strip_prefix(list)?.strip_prefix(':')?;
    (!key.is_empty() && key.len() <= 256).then(|| key.to_string())
}

fn encode(key: &str, list: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{list}:{key}"))
}

/// Trims the extra row `page` asked for and answers the cursor of the next page, if any.
pub fn finish<T>(
    rows: &mut Vec<T>,
    page: &Page,
    list: &str,
    key: impl Fn(&T) -> String,
) -> Option<String> {
    let asked = (page.limit - 1) as usize;
    if rows.len() <= asked {
        return None;
    }
    rows.truncate(asked);
    rows.last().map(|r| encode(&key(r), list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_list() {
        let c = encode("1m8abc", "containers");
        assert_eq!(decode(&c, "containers").as_deref(), Some("1m8abc"));
        assert_eq!(decode(&c, "images"), None);
        assert_eq!(decode("not base64!", "containers"), None);
        let p = page(Some(2), Some(&c), "containers").unwrap();
        assert_eq!((p.after.as_deref(), p.limit), (Some("1m8abc"), 3));
        assert!(page(Some(0), None, "x").is_err());
        assert!(page(Some(201), None, "x").is_err());
        let mut rows = vec![1, 2, 3];
        assert!(finish(&mut rows, &p, "containers", |r| r.to_string()).is_some());
        assert_eq!(rows, vec![1, 2]);
        let mut rows = vec![1, 2];
        assert_eq!(finish(&mut rows, &p, "containers", |r| r.to_string()), None);
    }
}
