//! The HTTP API under `/api/v1`: one router per resource, merged here, each route registered
//! with its OpenAPI entry (`utoipa-axum`), so a route and its documentation cannot drift. The
//! spec is served at `/api/openapi.json` and, with `api_docs`, read at `/api/docs`.

mod admin;
mod admin_billing;
mod admin_fleet;
pub(crate) mod api_error;
mod auth;
mod billing;
mod code_log;
mod containers;
mod device_cookie;
mod domain_errors;
mod error;
mod events;
mod extract;
mod format;
mod health;
pub(crate) mod images;
mod live;
mod me;
pub(crate) mod metrics;
mod metrics_layer;
mod origin;
mod paging;
mod payments;
mod plans;
mod request_id;
mod session_cookie;
mod spec;
pub mod state;

use crate::http::api_error::ApiError;
use crate::http::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use yun_api::ErrorCode;

pub(crate) fn no_such_route() -> ApiError {
    ApiError::new(
        ErrorCode::NoSuchRoute,
        "there is no such API route; see /api/openapi.json (or /api/docs) for the list",
    )
}

/// Everything outside the API's routes: `/api/…` is a JSON 404, the rest is the console; on a
/// node's public host the console is not served (its cookie must never be set there), but
/// pointed to.
async fn console_or_no_route(
    axum::extract::State(state): axum::extract::State<AppState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return no_such_route().into_response();
    }
    if origin::on_node_host(&state, &headers) {
        return match origin::console_url(&state) {
            Some(url) => axum::response::Redirect::temporary(&format!("{url}{path}")).into_response(),
            None => (
                axum::http::StatusCode::MISDIRECTED_REQUEST,
                "This host serves renters' containers, so the console is not served here. \
                 Open it at a host name no node's endpoints use (for `yun dev`, http://localhost:8088).\n",
            )
                .into_response(),
        };
    }
    crate::web::serve(&method, path, &headers)
}

async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    uri: axum::http::Uri,
    mut response: axum::response::Response,
) -> axum::response::Response {
    crate::web::headers::every(uri.path(), response.headers_mut());
    if state.config.serves_https() {
        // Browsers that saw this once never try plain HTTP here again (a year; not for
        // subdomains, which may be renters' or nodes' hosts).
        response.headers_mut().insert(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// Every documented route, with its spec.
fn documented() -> (Router<AppState>, OpenApi) {
    let v1 = OpenApiRouter::new()
        .merge(auth::router())
        .merge(me::router())
        .merge(images::router())
        .merge(plans::router())
        .merge(containers::router())
        .merge(live::router())
        .merge(events::router())
        .merge(admin::router())
        .merge(admin_billing::router())
        .merge(admin_fleet::router())
        .merge(billing::router())
        .merge(payments::router())
        .fallback(|| async { no_such_route() });
    let (router, spec) = OpenApiRouter::new()
        .nest("/api/v1", v1)
        .merge(health::router())
        .split_for_parts();
    (router, spec::complete(spec))
}

/// The OpenAPI document of this build's API (`docs/openapi.json` is this, committed).
pub fn openapi() -> OpenApi {
    documented().1
}

pub fn router(state: AppState) -> Router {
    let (api, spec) = documented();
    let mut app = api;
    if state.config.api_docs {
        app = app
            .merge(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi.json", spec));
    } else {
        // Serialised once; each answer shares the bytes.
        let json = axum::body::Bytes::from(spec.to_pretty_json().expect("the spec is JSON"));
        app = app.route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let json = json.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        json,
                    )
                }
            }),
        );
    }
    app.merge(metrics::routes())
        .fallback(console_or_no_route)
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics_layer::layer,
        ))
        .layer(axum::middleware::from_fn(request_id::layer))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this route does not take that method; state changes are POST or DELETE, reads are GET",
            )
        })
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

    /// `docs/openapi.json` is the spec this build serves; `YUN_WRITE_SPEC=1` rewrites it.
    #[test]
    fn committed_spec_is_current() {
        let now = super::openapi().to_pretty_json().unwrap() + "\n";
        if std::env::var_os("YUN_WRITE_SPEC").is_some() {
            std::fs::write(COMMITTED, &now).unwrap();
        }
        let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
        assert!(
            committed == now,
            "docs/openapi.json is stale: run `YUN_WRITE_SPEC=1 cargo test -p yun-master committed_spec` and commit it"
        );
    }

    /// Every route of `/api/v1` goes through `OpenApiRouter::routes`, so none can be served
    /// without its spec entry; only `mod.rs` registers the spec's own route (and `metrics.rs`
    /// the operator's `/metrics`, outside the API).
    #[test]
    fn routes_are_registered_only_with_their_spec() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for bad in [
                ".route(",
                "routing::get",
                "routing::post",
                "routing::delete",
                ".nest_service(",
            ] {
                // `/metrics` is the operator's, outside `/api/v1` and its spec.
                let allowed =
                    (name == "mod.rs" && bad != ".nest_service(" && code.matches(bad).count() <= 1)
                        || (name == "metrics.rs" && !code.contains("/api/"));
                assert!(
                    !code.contains(bad) || allowed,
                    "http/{name} registers a route with `{bad}`: use OpenApiRouter::routes(routes!(...)) with a #[utoipa::path]"
                );
            }
        }
    }

    /// The operations README.md's API table names, as `METHOD /path` without `/api/v1`: a cell
    /// holds `` `POST /containers/{id}/start` · `/stop` `` (a bare path takes the method before
    /// it and replaces the last segment); queries and bodies after the path are dropped.
    fn readme_operations() -> Vec<String> {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .unwrap();
        let table = readme
            .split("| method and path | purpose |")
            .nth(1)
            .expect("README.md has the API table");
        let mut ops = Vec::new();
        for row in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
            let cell = row.split(" | ").next().unwrap();
            let (mut method, mut last) = (String::new(), String::new());
            for chunk in cell.split('`').skip(1).step_by(2) {
                let chunk = chunk.split(['?', ' ']).collect::<Vec<_>>();
                let path = if chunk[0].starts_with('/') {
                    let parent = last.rsplit_once('/').map_or("", |(p, _)| p).to_string();
                    format!("{parent}{}", chunk[0])
                } else {
                    method = chunk[0].to_string();
                    chunk[1].split('?').next().unwrap().to_string()
                };
                last = path.clone();
                ops.push(format!("{method} {path}"));
            }
        }
        ops
    }

    /// README.md's API table and the spec name the same operations (the spec's own two
    /// routes, outside it, aside).
    #[test]
    fn the_readme_api_table_is_the_spec() {
        let spec = serde_json::to_value(super::openapi()).unwrap();
        let mut in_spec: Vec<String> = spec["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                let path = path.strip_prefix("/api/v1").unwrap_or(path).to_string();
                item.as_object()
                    .unwrap()
                    .keys()
                    .map(move |m| format!("{} {path}", m.to_uppercase()))
                    .collect::<Vec<_>>()
            })
            .collect();
        in_spec.sort();
        let mut in_readme: Vec<String> = readme_operations()
            .into_iter()
            .filter(|op| !op.ends_with(" /api/openapi.json") && !op.ends_with(" /api/docs"))
            .collect();
        in_readme.sort();
        let missing: Vec<_> = in_spec
            .iter()
            .filter(|op| !in_readme.contains(op))
            .collect();
        let extra: Vec<_> = in_readme
            .iter()
            .filter(|op| !in_spec.contains(op))
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "README.md's API table lacks {missing:?} and names {extra:?} that the spec does not have"
        );
        assert_eq!(in_readme.len(), in_spec.len(), "an operation named twice");
    }

    #[test]
    fn every_operation_is_documented_with_its_errors() {
        let spec = serde_json::to_value(super::openapi()).unwrap();
        let paths = spec["paths"].as_object().unwrap();
        assert!(paths.len() >= 30, "only {} paths", paths.len());
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap_or_default();
                assert!(!id.is_empty(), "{method} {path} has no operation id");
                let responses = op["responses"].as_object().unwrap();
                assert!(responses.contains_key("500"), "{id} documents no 500");
                for (status, r) in responses {
                    if status.starts_with('5') && status != "500" && path != "/readyz" {
                        assert!(
                            r["headers"]["retry-after"].is_object(),
                            "{id}: {status} without Retry-After"
                        );
                    }
                }
            }
        }
        let create = &spec["paths"]["/api/v1/containers"]["post"]["responses"]["201"];
        assert_eq!(
            create["links"]["show_container"]["parameters"]["id"],
            "$response.body#/container/id"
        );
    }
}
