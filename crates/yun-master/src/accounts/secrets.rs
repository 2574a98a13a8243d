//! The secrets that prove a session or an access token: 256 random bits, of which the store
//! keeps only a SHA-256, so a token is cheap to check and useless to whoever reads the database.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Access tokens start with this, so a leaked one is recognisable (secret scanners, logs) and
/// the API knows where to look it up.
pub const ACCESS_TOKEN_PREFIX: &str = "yunpat_";

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A login session's token.
pub fn new_token() -> String {
    random_hex()
}

/// A personal access token, for scripts and CI.
pub fn new_access_token() -> String {
    format!("{ACCESS_TOKEN_PREFIX}{}", random_hex())
}

pub fn is_access_token(token: &str) -> bool {
    token.starts_with(ACCESS_TOKEN_PREFIX)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
