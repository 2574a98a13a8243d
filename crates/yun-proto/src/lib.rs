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
