//! Images: the public catalog plus each user's own. A user pull always asks the registry, so
//! an image that merely sits on a host (or another user's private image) is never handed out.

use super::extract::{ApiJson, ApiQuery, AuthUser};
use super::format::{ndjson_chosen, FormatQuery};
use super::paging::{self, PageQuery};
use crate::http::api_error::{ApiError, ApiResult};
use crate::http::state::AppState;
use crate::nodes::NodeError;
use crate::wire;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::stream::{BoxStream, StreamExt};
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::images::{ImageAnswer, ImageList, PullEvent as WirePullEvent, PullRequest};
use yun_api::{ErrorBody, ErrorCode};
use yun_core::node::{ImageInfo, PullUpdate};
use yun_store::ImageRow;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(pull))
        .routes(routes!(remove))
}

pub(super) const ERRORS: &[(&str, &[ErrorCode])] = &[
    ("list_images", &[]),
    ("pull_image", PULL_ERRORS),
    ("remove_image", &[ErrorCode::NotFound]),
];

/// What can go wrong with a pull, a renter's or an operator's.
pub(super) const PULL_ERRORS: &[ErrorCode] = &[
    ErrorCode::RegistryNotAllowed,
    ErrorCode::InsufficientBalance,
    ErrorCode::ImageUnavailable,
    ErrorCode::ImageTooLarge,
    ErrorCode::NoReadyNode,
    ErrorCode::NodeUnavailable,
];

/// The public catalog and the caller's own images, in the order they were recorded.
#[utoipa::path(get, path = "/images", tag = "images", operation_id = "list_images",
    params(PageQuery),
    responses((status = 200, description = "Images the caller may run", body = ImageList)))]
async fn list(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<ImageList>> {
    let page = paging::page(q.limit, q.cursor.as_deref(), "images")?;
    let mut images = state.store.visible_images(&u.id, &page).await?;
    let next_cursor = paging::finish(&mut images, &page, "images", |i| i.id.clone());
    Ok(Json(ImageList {
        images: images.iter().map(wire::image).collect(),
        next_cursor,
    }))
}

/// A pull under way on a node, and what it will cost per MiB.
pub struct PullStarted {
    node: String,
    per_mib: i64,
    progress: BoxStream<'static, Result<PullUpdate, NodeError>>,
    /// Bytes the node fetched so far, as its progress said.
    downloaded: u64,
}

/// A failed pull, in the node's words: the worker is the registry client and says what
/// happened in its own summary (a refused hop, a missing image, a wrong digest), never with
/// the bytes a registry or another service answered.
fn pull_error(reference: &str, node: &str, e: NodeError) -> ApiError {
    if let NodeError::Refused(raw) = &e {
        tracing::info!(reference, node, error = raw, "pull failed");
        let prefix = format!("image {reference} is not on this node and could not be pulled: ");
        let why = raw.strip_prefix(&prefix).unwrap_or(raw);
        ApiError::new(
            ErrorCode::ImageUnavailable,
            format!("could not pull '{reference}': {why}"),
        )
        .on("reference")
    } else {
        ApiError::from_node(node, e)
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
    yun_core::validate::image_reference(reference)
        .map_err(|e| ApiError::from(e).on("reference"))?;
    crate::registries::check(&state.config.allowed_registries, reference)
        .await
        .map_err(|r| {
            ApiError::new(
                ErrorCode::RegistryNotAllowed,
                format!("'{reference}' comes from {}: {}", r.registry, r.why),
            )
            .on("reference")
        })?;
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
            ApiError::new(
                ErrorCode::NoReadyNode,
                "no node is ready to pull on; try again shortly",
            )
        })?;
    let progress = node
        .client
        .pull_progress(reference, always, state.config.max_image_bytes)
        .await
        .map_err(|e| pull_error(reference, &node.node.name, e))?;
    Ok(PullStarted {
        node: node.node.name.clone(),
        per_mib,
        progress,
        downloaded: 0,
    })
}

/// Records a pulled image for `owner` and charges a private pull, in one transaction.
async fn finish_pull(
    state: &AppState,
    owner: &str,
    reference: &str,
    per_mib: i64,
    info: ImageInfo,
) -> ApiResult<ImageRow> {
    const MIB: u64 = 1024 * 1024;
    let price = per_mib.saturating_mul(info.size_bytes.div_ceil(MIB) as i64);
    state
        .store
        .upsert_image(
            owner,
            reference,
            &info.docker_id,
            info.pulled,
            info.size_bytes,
            &info.exposed_ports,
            price,
        )
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
    /// Always a `WirePullEvent::Progress`.
    Progress(WirePullEvent),
    Done(ApiResult<ImageRow>),
}

impl PullStarted {
    /// The next progress message, or the pulled image recorded for `owner`.
    async fn next(&mut self, state: &AppState, owner: &str, reference: &str) -> PullEvent {
        match self.progress.next().await {
            Some(Ok(PullUpdate::Done(info))) => {
                PullEvent::Done(finish_pull(state, owner, reference, self.per_mib, info).await)
            }
            Some(Ok(PullUpdate::Progress(p))) => {
                self.downloaded = self.downloaded.max(p.downloaded);
                PullEvent::Progress(WirePullEvent::Progress {
                    status: p.status,
                    layer: p.layer,
                    current: p.current,
                    total: p.total,
                })
            }
            None => {
                charge_stopped(state, owner, reference, self.per_mib, self.downloaded).await;
                PullEvent::Done(Err(ApiError::internal("the pull ended without a result")))
            }
            Some(Err(e)) => {
                let mut refusal = pull_error(reference, &self.node, e);
                let charged =
                    charge_stopped(state, owner, reference, self.per_mib, self.downloaded).await;
                if let Some(charged) = charged {
                    refusal.message = format!(
                        "{}; it downloaded {} MiB before it stopped, charged {charged} credit(s)",
                        refusal.message,
                        self.downloaded.div_ceil(1 << 20)
                    );
                }
                PullEvent::Done(Err(refusal))
            }
        }
    }
}

/// A pull that stopped costs what it downloaded, as a finished one does; answers the charge
/// when there was one.
async fn charge_stopped(
    state: &AppState,
    owner: &str,
    reference: &str,
    per_mib: i64,
    downloaded: u64,
) -> Option<i64> {
    if per_mib == 0 || downloaded == 0 {
        return None;
    }
    let price = per_mib.saturating_mul(downloaded.div_ceil(1 << 20) as i64);
    match state
        .store
        .charge_failed_pull(owner, reference, downloaded, price)
        .await
    {
        Ok(0) => None,
        Ok(charged) => Some(charged),
        Err(e) => {
            tracing::error!(error = %e, owner, reference, "could not charge a stopped pull");
            None
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

/// Pulls a private image of the caller's from its registry (always asking the registry), paid
/// per MiB. With `Accept: application/x-ndjson` (or `format=ndjson`) the answer is its progress
/// layer by layer as it happens, ending with one `done` or one `error` line.
#[utoipa::path(post, path = "/images/pull", tag = "images", operation_id = "pull_image",
    params(FormatQuery, ("accept" = Option<String>, Header, description = "`application/x-ndjson` for progress as it happens")),
    request_body = PullRequest,
    responses(
        (status = 201, description = "The image, pulled and recorded", body = ImageAnswer),
        (status = 200, description = "Progress as NDJSON, one event a line", content_type = "application/x-ndjson", body = WirePullEvent)))]
async fn pull(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<FormatQuery>,
    ApiJson(input): ApiJson<PullRequest>,
) -> ApiResult<Response> {
    if !ndjson_chosen(q.format.as_deref(), "json", &headers)? {
        let image = pull_into_catalog(&state, &u.id, &input.reference, true).await?;
        return Ok((
            StatusCode::CREATED,
            Json(ImageAnswer {
                image: wire::image(&image),
            }),
        )
            .into_response());
    }
    let mut pull = start_pull(&state, &u.id, &input.reference, true).await?;
    let lines = async_stream::stream! {
        loop {
            let (line, last) = match pull.next(&state, &u.id, &input.reference).await {
                PullEvent::Progress(p) => (p, false),
                PullEvent::Done(Ok(image)) => (WirePullEvent::Done { image: wire::image(&image) }, true),
                PullEvent::Done(Err(e)) => {
                    super::code_log::record(e.code);
                    (WirePullEvent::Error {
                        error: ErrorBody { code: e.code, message: e.message, field: e.field, request_id: crate::request::id::current() },
                    }, true)
                }
            };
            let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
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

/// Forgets one of the caller's private images.
#[utoipa::path(delete, path = "/images/{id}", tag = "images", operation_id = "remove_image",
    params(("id" = String, Path, description = "The image's id")),
    responses((status = 204, description = "The image is forgotten")))]
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
    crate::images::forget(&state.store, &state.registry, &image.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
