//! The generated gRPC code for the master<->worker contract and its conversions to domain types.
//! This is the only crate that knows protobuf.

pub mod v1 {
    tonic::include_proto!("yun.v1");
}

mod convert;

pub use convert::ProtoError;

/// Metadata on a worker's refusal naming the host port Docker could not bind, so the master
/// can pick another.
pub const PORT_UNAVAILABLE_KEY: &str = "yun-port-unavailable";

/// Metadata carrying the id of the HTTP request a call serves, so one create can be followed
/// across master and worker.
pub const REQUEST_ID_KEY: &str = "x-request-id";

/// The span every served call's log lines carry (`trace_fn` of either side's server): the
/// call's path and the request id it serves, when it serves one.
pub fn rpc_span(req: &tonic::codegen::http::Request<()>) -> tracing::Span {
    let id = req
        .headers()
        .get(REQUEST_ID_KEY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("rpc", path = %req.uri().path(), request_id = id)
}
