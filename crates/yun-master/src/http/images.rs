//! Images: the public catalog plus each user's own. A user pull always asks the registry, so
//! an image that merely sits on a host (or another user's private image) is never handed out.

use super::extract::{accepts_ndjson, ApiJson, AuthUser};
use crate::containers::view::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::nodes::WorkerCallError;
use crate::state::AppState;
use crate::store::ImageRow;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
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

/// A pull under way on a node, and what it will cost per MiB.
pub struct PullStarted {
    node: String,
    per_mib: i64,
    progress: tonic::Streaming<yun_proto::v1::PullProgress>,
}

fn pull_error(reference: &str, node: &str, e: WorkerCallError) -> ApiError {
    if e.code() == Some(tonic::Code::FailedPrecondition) {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "image_unavailable",
            format!(
            "could not pull '{reference}': {e}. Check the name and that its registry is reachable"
        ),
        )
    } else {
        ApiError::from_worker(node, e)
    }
}

/// Starts pulling `reference` on a ready node for `owner` ('' = the public catalog), after
/// checking the owner can pay for at least a MiB of a private image.
pub async fn start_pull(
    state: &AppState,
    owner: &str,
    reference: &str,
    always: bool,
) -> ApiResult<PullStarted> {
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
    // The same node for the same fleet, so identical pulls meet there and share one pull.
    let node = state
        .registry
        .live_nodes()
        .into_iter()
        .max_by(|a, b| {
            a.node
                .memory_bytes
                .cmp(&b.node.memory_bytes)
                .then(b.node.id.cmp(&a.node.id))
        })
        .ok_or_else(|| {
            ApiError::unavailable(
                "no_ready_node",
                "no node is ready to pull on; try again shortly",
            )
        })?;
    let progress = node
        .client
        .pull_progress(reference, always)
        .await
        .map_err(|e| pull_error(reference, &node.node.name, e))?;
    Ok(PullStarted {
        node: node.node.name.clone(),
        per_mib,
        progress,
    })
}

/// Records a pulled image for `owner` and charges a private pull, in one transaction.
async fn finish_pull(
    state: &AppState,
    owner: &str,
    reference: &str,
    per_mib: i64,
    info: yun_proto::v1::ImageInfo,
) -> ApiResult<ImageRow> {
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

/// One line of a pull's NDJSON progress, or its answer.
enum PullEvent {
    Progress(Value),
    Done(ApiResult<ImageRow>),
}

impl PullStarted {
    /// The next progress message, or the pulled image recorded for `owner`.
    async fn next(&mut self, state: &AppState, owner: &str, reference: &str) -> PullEvent {
        match self.progress.message().await {
            Ok(Some(msg)) => match msg.image {
                Some(info) => {
                    PullEvent::Done(finish_pull(state, owner, reference, self.per_mib, info).await)
                }
                None => PullEvent::Progress(json!({
                    "type": "progress",
                    "status": msg.status,
                    "layer": msg.layer,
                    "current": msg.current,
                    "total": msg.total,
                })),
            },
            Ok(None) => PullEvent::Done(Err(ApiError::internal("the pull ended without a result"))),
            Err(s) => PullEvent::Done(Err(pull_error(
                reference,
                &self.node,
                WorkerCallError::Status(s),
            ))),
        }
    }
}

/// Pulls `reference` on a ready node and records it for `owner` ('' = the public catalog).
pub async fn pull_into_catalog(
    state: &AppState,
    owner: &str,
    reference: &str,
    always: bool,
) -> ApiResult<ImageRow> {
    let mut pull = start_pull(state, owner, reference, always).await?;
    loop {
        if let PullEvent::Done(result) = pull.next(state, owner, reference).await {
            return result;
        }
    }
}

/// `POST /images/pull`: the image as JSON when done, or, with `Accept: application/x-ndjson`,
/// its progress layer by layer as it happens, ending with `{"type":"done","image":…}` or
/// `{"type":"error","error":…}`.
async fn pull(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    headers: HeaderMap,
    ApiJson(input): ApiJson<PullInput>,
) -> ApiResult<Response> {
    if !accepts_ndjson(&headers) {
        let image = pull_into_catalog(&state, &u.id, &input.reference, true).await?;
        return Ok((
            StatusCode::CREATED,
            Json(json!({ "image": image_json(&image) })),
        )
            .into_response());
    }
    let mut pull = start_pull(&state, &u.id, &input.reference, true).await?;
    let lines = async_stream::stream! {
        loop {
            let (line, last) = match pull.next(&state, &u.id, &input.reference).await {
                PullEvent::Progress(p) => (p, false),
                PullEvent::Done(Ok(image)) => (json!({"type": "done", "image": image_json(&image)}), true),
                PullEvent::Done(Err(e)) => (json!({"type": "error", "error": {"code": e.code, "message": e.message}}), true),
            };
            let mut bytes = line.to_string().into_bytes();
            bytes.push(b'\n');
            yield Ok::<_, std::io::Error>(bytes::Bytes::from(bytes));
            if last {
                break;
            }
        }
    };
    let mut resp = Response::new(Body::from_stream(lines));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(resp)
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
