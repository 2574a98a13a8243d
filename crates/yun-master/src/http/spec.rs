//! The OpenAPI 3.1 document, built once at start from the routes (`utoipa-axum`) and the wire
//! types, then completed here with what every operation shares: the two security schemes, the
//! error responses (each status with the envelope and the codes it carries, `Retry-After` on
//! the designed 503s and on 429) and the links from a create to what can be done with its container.

use super::payments;
use super::plans;
use super::{
    admin, admin_billing, admin_fleet, auth, billing, containers, events, health, images, live, me,
};
use std::collections::BTreeMap;
use utoipa::openapi::link::Link;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Type};
use utoipa::ToSchema;
use yun_api::{ErrorCode, ErrorEnvelope};

/// The error codes each operation can answer beyond those every operation of its kind shares,
/// keyed by operation id; each resource's module declares its own beside its handlers.
fn declared() -> BTreeMap<&'static str, &'static [ErrorCode]> {
    [
        auth::ERRORS,
        me::ERRORS,
        images::ERRORS,
        plans::ERRORS,
        containers::ERRORS,
        live::ERRORS,
        events::ERRORS,
        admin::ERRORS,
        admin_billing::ERRORS,
        admin_fleet::ERRORS,
        billing::ERRORS,
        payments::ERRORS,
        health::ERRORS,
    ]
    .into_iter()
    .flatten()
    .copied()
    .collect()
}

/// Completes the spec the routers made. Panics (at start, and so in every test) when an
/// operation has no declared errors or a declaration names no operation.
pub fn complete(mut spec: OpenApi) -> OpenApi {
    spec.info.title = "yun".into();
    spec.info.description = Some(
        "A multi-tenant container cloud: rent containers on a fleet of Docker hosts, paid per \
         second from a prepaid balance. Errors are `{\"error\": {\"code\", \"message\", \
         \"field\"?}}`; another user's resource is a 404."
            .into(),
    );
    spec.info.version = env!("CARGO_PKG_VERSION").into();
    spec.info.license = None;
    spec.info.contact = None;
    let components = spec.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A session token from POST /api/v1/auth/login, or a personal access token (`yunpat_…`) from POST /api/v1/me/tokens",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            crate::accounts::SESSION_COOKIE,
            "The console's HttpOnly session cookie, set by POST /api/v1/auth/login",
        ))),
    );
    components.schemas.insert(
        ErrorEnvelope::name().into(),
        <ErrorEnvelope as utoipa::PartialSchema>::schema(),
    );
    for (name, schema) in error_schemas() {
        components.schemas.insert(name, schema);
    }
    spec.security = Some(vec![
        SecurityRequirement::new("bearer", Vec::<String>::new()),
        SecurityRequirement::new("session", Vec::<String>::new()),
    ]);

    let mut declared = declared();
    for (path, item) in spec.paths.paths.iter_mut() {
        for op in operations(item) {
            let id = op.operation_id.clone().unwrap_or_default();
            let own = declared
                .remove(id.as_str())
                .unwrap_or_else(|| panic!("operation {id} ({path}) declares no errors in http/"));
            add_errors(path, op, own);
            add_links(&id, op);
        }
    }
    assert!(
        declared.is_empty(),
        "errors declared for operations that do not exist: {:?}",
        declared.keys()
    );
    spec
}

fn error_schemas() -> Vec<(String, RefOr<utoipa::openapi::schema::Schema>)> {
    let mut v = Vec::new();
    <ErrorEnvelope as ToSchema>::schemas(&mut v);
    v
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// Whether an operation needs a session: a `security(())` on the handler (an empty
/// requirement) says it does not.
fn needs_session(op: &Operation) -> bool {
    !op.security
        .as_ref()
        .is_some_and(|reqs| reqs.contains(&SecurityRequirement::default()))
}

fn add_errors(path: &str, op: &mut Operation, own: &[ErrorCode]) {
    let mut codes: Vec<ErrorCode> = vec![ErrorCode::Internal];
    if path.starts_with("/api/v1/") && !path.starts_with("/api/v1/payments/") {
        if needs_session(op) {
            codes.extend([
                ErrorCode::Unauthorized,
                ErrorCode::AccountBanned,
                ErrorCode::ForeignOrigin,
                ErrorCode::NodeHost,
            ]);
        }
        if path.starts_with("/api/v1/admin/") {
            codes.push(ErrorCode::NoSuchRoute);
        }
        let json_body = op.request_body.as_ref().is_some_and(|b| match b {
            RefOr::T(b) => b.content.contains_key("application/json"),
            RefOr::Ref(_) => true,
        });
        if json_body {
            codes.extend([
                ErrorCode::MalformedJson,
                ErrorCode::BodyTooLarge,
                ErrorCode::UnsupportedMediaType,
                ErrorCode::InvalidInput,
            ]);
        }
        let has_query = op.parameters.iter().flatten().any(|p| {
            matches!(p, RefOr::T(p) if matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
        });
        if has_query {
            codes.push(ErrorCode::InvalidQuery);
        }
    }
    codes.extend_from_slice(own);
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for c in codes {
        let list = by_status.entry(c.status()).or_default();
        if !list.contains(&c) {
            list.push(c);
        }
    }
    for (status, codes) in by_status {
        // A route that answers this status with something else (readyz's 503) keeps its own.
        if op.responses.responses.contains_key(&status.to_string()) {
            continue;
        }
        op.responses
            .responses
            .insert(status.to_string(), RefOr::T(error_response(status, &codes)));
    }
}

fn error_response(status: u16, codes: &[ErrorCode]) -> Response {
    let lines: Vec<String> = codes
        .iter()
        .map(|c| format!("- `{}`: {}", c.as_str(), c.meaning()))
        .collect();
    let mut r = ResponseBuilder::new()
        .description(format!(
            "An error, as one of these codes:\n{}",
            lines.join("\n")
        ))
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorEnvelope::name())))
                .build(),
        );
    if status == 503 || status == 429 {
        r = r.header(
            "retry-after",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                .description(Some("Seconds to wait before trying again"))
                .build(),
        );
    }
    r.build()
}

/// From what an operation made to what can be done with it, so a client (or a fuzzer) can
/// chain them: (operation, where the new id is in its answer, the operations that take it).
const LINKS: &[(&str, &str, &[&str])] = &[
    (
        "create_container",
        "$response.body#/container/id",
        &[
            "show_container",
            "start_container",
            "stop_container",
            "restart_container",
            "remove_container",
            "container_logs",
            "container_stats",
            "container_exec",
        ],
    ),
    ("pull_image", "$response.body#/image/id", &["remove_image"]),
    (
        "create_order",
        "$response.body#/order/id",
        &["get_order", "cancel_order"],
    ),
    (
        "publish_image",
        "$response.body#/image/id",
        &["unpublish_image"],
    ),
    (
        "create_access_token",
        "$response.body#/access_token/id",
        &["revoke_access_token"],
    ),
];

fn add_links(id: &str, op: &mut Operation) {
    let Some((_, pointer, targets)) = LINKS.iter().find(|(source, _, _)| *source == id) else {
        return;
    };
    for status in ["200", "201"] {
        let Some(RefOr::T(resp)) = op.responses.responses.get_mut(status) else {
            continue;
        };
        // An NDJSON answer (a pull's progress) carries no such field.
        if !resp.content.contains_key("application/json") {
            continue;
        }
        for target in targets.iter() {
            resp.links.insert(
                (*target).into(),
                RefOr::T(
                    Link::builder()
                        .operation_id(*target)
                        .parameter("id", *pointer)
                        .description(format!("{target} on what {id} made"))
                        .build(),
                ),
            );
        }
    }
}
