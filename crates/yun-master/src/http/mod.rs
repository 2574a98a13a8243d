//! The HTTP API under `/api/v1`: one router per resource, merged here.

mod admin;
mod admin_billing;
mod auth;
mod billing;
mod containers;
mod error;
mod extract;
mod health;
mod images;
mod live;
mod payments;
mod plans;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(auth::router())
        .merge(images::router())
        .merge(plans::router())
        .merge(containers::router())
        .merge(live::router())
        .merge(admin::router())
        .merge(admin_billing::router())
        .merge(billing::router())
        .merge(payments::router())
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_such_route",
                "there is no such API route; see README.md for the list",
            )
        });
    Router::new()
        .nest("/api/v1", api)
        .merge(health::router())
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method; state changes are POST or DELETE, reads are GET",
            )
        })
        .with_state(state)
}
