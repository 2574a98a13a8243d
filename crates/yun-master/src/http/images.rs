//! Images: the public catalog plus each user's own. A user pull always asks the registry, so
//! an image that merely sits on a host (or another user's private image) is never handed out.

use super::extract::{ApiJson, AuthUser};
use crate::containers::view::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::ImageRow;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/images", get(list))
        .route("/images/pull", post(pull))
        .route("/images/{id}", delete(remove))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullInput {
    pub reference: String,
}

pub fn image_json(i: &ImageRow) -> Value {
    json!({
        "id": i.id,
        "reference": i.reference,
        "visibility": if i.owner_id.is_empty() { "public" } else { "private" },
        "size_bytes": i.size_bytes,
        "exposed_ports": i.exposed_ports.iter().map(|(p, proto)| json!({"container_port": p, "protocol": proto})).collect::<Vec<_>>(),
        "created_at": rfc3339(i.created_at),
    })
}

async fn list(State(state): State<AppState>, AuthUser(u): AuthUser) -> ApiResult<Json<Value>> {
    let images = state.store.visible_images(&u.id).await?;
    Ok(Json(
        json!({ "images": images.iter().map(image_json).collect::<Vec<_>>() }),
    ))
}

/// Pulls `reference` on a ready node and records it for `owner` ('' = the public catalog).
pub async fn pull_into_catalog(
    state: &AppState,
    owner: &str,
    reference: &str,
    always: bool,
) -> ApiResult<ImageRow> {
    yun_core::validate::image_reference(reference)?;
    let per_mib = if owner.is_empty() {
        0
    } else {
        state.config.pricing.pull_price_per_mib
    };
    // Checked before pulling: at least one MiB's price must be there.
    if per_mib > 0 {
        let balance = state.store.balance(owner).await?.unwrap_or(0);
        if balance < per_mib {
            return Err(ApiError::payment_required(format!(
                "pulling a private image costs {per_mib} credit(s) per MiB and your balance is {balance}; top up with POST /api/v1/orders"
            )));
        }
    }
    let node = state
        .registry
        .live_nodes()
        .into_iter()
        .max_by_key(|l| l.node.memory_bytes)
        .ok_or_else(|| {
            ApiError::unavailable(
                "no_ready_node",
                "no node is ready to pull on; try again shortly",
            )
        })?;
    let info = node.client.pull(reference, always).await.map_err(|e| {
        if e.code() == Some(tonic::Code::FailedPrecondition) {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "image_unavailable", format!(
                "could not pull '{reference}': {e}. Check the name and that its registry is reachable"
            ))
        } else {
            ApiError::from_worker(&node.node.name, e)
        }
    })?;
    let ports: Vec<(u16, String)> = info
        .exposed_ports
        .iter()
        .filter_map(|p| Some((u16::try_from(p.container_port).ok()?, p.protocol.clone())))
        .collect();
    const MIB: u64 = 1024 * 1024;
    let price = per_mib.saturating_mul(info.size_bytes.div_ceil(MIB) as i64);
    state
        .store
        .upsert_image(owner, reference, info.size_bytes, &ports, price)
        .await?
        .ok_or_else(|| {
            ApiError::payment_required(format!(
                "'{reference}' is {} MiB, so pulling it costs {price} credits, more than your balance; \
                 top up with POST /api/v1/orders and pull again",
                info.size_bytes.div_ceil(MIB)
            ))
        })
}

async fn pull(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    ApiJson(input): ApiJson<PullInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let image = pull_into_catalog(&state, &u.id, &input.reference, true).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "image": image_json(&image) })),
    ))
}

async fn remove(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let image = state
        .store
        .image_by_id(&id)
        .await?
        .filter(|i| i.owner_id == u.id)
        .ok_or_else(|| ApiError::not_found("image"))?;
    state.store.delete_image(&image.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
