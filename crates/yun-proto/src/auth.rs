//! The cluster join token on every master<->worker call, as `authorization: Bearer …`.

use tonic::metadata::MetadataValue;
use tonic::{Request, Status};

/// Adds the token to outgoing calls.
#[derive(Clone)]
pub struct AttachToken {
    header: MetadataValue<tonic::metadata::Ascii>,
}

#[derive(Debug, thiserror::Error)]
#[error("the join token has characters a header cannot carry; use letters, digits and punctuation")]
pub struct BadToken;

impl AttachToken {
    pub fn new(token: &str) -> Result<Self, BadToken> {
        let header = format!("Bearer {token}").parse().map_err(|_| BadToken)?;
        Ok(Self { header })
    }
}

impl tonic::service::Interceptor for AttachToken {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        req.metadata_mut()
            .insert("authorization", self.header.clone());
        Ok(req)
    }
}

/// Refuses incoming calls that do not carry the cluster's token.
#[derive(Clone)]
pub struct RequireToken {
    token: std::sync::Arc<str>,
}

impl RequireToken {
    pub fn new(token: &str) -> Self {
        Self {
            token: token.into(),
        }
    }
}

impl tonic::service::Interceptor for RequireToken {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let given = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if constant_time_eq(given.as_bytes(), self.token.as_bytes()) {
            Ok(req)
        } else {
            Err(Status::unauthenticated(
                "wrong or missing cluster join token: start this process with the master's --join-token (YUN_JOIN_TOKEN)",
            ))
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::service::Interceptor;

    #[test]
    fn token_must_match() {
        let mut require = RequireToken::new("s3cret");
        let mut attach = AttachToken::new("s3cret").unwrap();
        let ok = attach.call(Request::new(())).unwrap();
        assert!(require.call(ok).is_ok());
        let mut wrong = AttachToken::new("nope").unwrap();
        assert!(require.call(wrong.call(Request::new(())).unwrap()).is_err());
        assert!(require.call(Request::new(())).is_err());
    }
}
