//! Join tokens in Docker Swarm's shape: `YUN1-<sha-256 of the CA certificate>-<secret>`. The
//! digest lets a new worker check the master's certificate before it trusts anything it says
//! (no trust on first use); the master keeps only a hash of the secret.

use crate::TrustError;
use rand::Rng;
use sha2::{Digest, Sha256};

const PREFIX: &str = "YUN1";
/// 26 base-32 characters: 130 bits.
const SECRET_CHARS: usize = 26;
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

#[derive(Clone, PartialEq, Eq)]
pub struct JoinToken {
    /// Lowercase hex of the CA certificate's SHA-256.
    pub ca_digest: String,
    secret: String,
}

impl std::fmt::Debug for JoinToken {
    // The secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JoinToken({PREFIX}-{}-…)", self.ca_digest)
    }
}

impl JoinToken {
    /// A new token for the CA whose digest is `ca_digest`.
    pub fn new(ca_digest: &str) -> Self {
        let mut rng = rand::thread_rng();
        let secret = (0..SECRET_CHARS)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        Self {
            ca_digest: ca_digest.to_string(),
            secret,
        }
    }

    pub fn parse(text: &str) -> Result<Self, TrustError> {
        let mut parts = text.trim().splitn(3, '-');
        let (Some(PREFIX), Some(digest), Some(secret)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(TrustError::TokenShape);
        };
        let digest_ok = digest.len() == 64
            && digest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let secret_ok =
            secret.len() == SECRET_CHARS && secret.bytes().all(|b| ALPHABET.contains(&b));
        if !digest_ok || !secret_ok {
            return Err(TrustError::TokenShape);
        }
        Ok(Self {
            ca_digest: digest.to_string(),
            secret: secret.to_string(),
        })
    }

    /// What the store keeps: the secret has 130 random bits, so a fast hash is enough.
    pub fn secret_hash(&self) -> String {
        hex::encode(Sha256::digest(self.secret.as_bytes()))
    }

    /// The whole token, to hand to an operator once.
    pub fn reveal(&self) -> String {
        format!("{PREFIX}-{}-{}", self.ca_digest, self.secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_and_hides_its_secret() {
        let digest = "ab".repeat(32);
        let t = JoinToken::new(&digest);
        let parsed = JoinToken::parse(&t.reveal()).unwrap();
        assert_eq!(parsed, t);
        assert_eq!(parsed.secret_hash(), t.secret_hash());
        assert!(!format!("{t:?}").contains(&t.secret));
        assert!(JoinToken::parse("test-token-1").is_err());
        assert!(JoinToken::parse(&t.reveal().replace("YUN1", "YUN2")).is_err());
        assert_ne!(JoinToken::new(&digest).secret_hash(), t.secret_hash());
    }
}
