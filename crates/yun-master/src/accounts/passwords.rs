//! Passwords: argon2id, hashed off the async runtime. Checking a login costs one argon2
//! verification whether or not the account exists, so the answer's time tells no one which
//! usernames are taken.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::RngCore;
use std::sync::OnceLock;

/// At most one argon2 computation per core at once: each takes ~19 MiB and a core for tens of
/// milliseconds, so a burst of logins must queue rather than exhaust memory and threads.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

fn hash_now(password: &[u8]) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub async fn hash_password(password: String) -> Result<String, String> {
    let _slot = hashing_slots().acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || hash_now(password.as_bytes()))
        .await
        .map_err(|e| e.to_string())?
}

/// A hash made once per process with the same parameters as every real one, checked in place of
/// an unknown user's: the unknown-user path then does exactly the wrong-password path's work.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        hash_now(&secret).expect("argon2 hashes a fixed-size secret")
    })
}

/// The one place a password is checked against a hash: one argon2 verification, always.
fn verify_now(password: &[u8], stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| Argon2::default().verify_password(password, &h).is_ok())
        .unwrap_or(false)
}

/// Makes the decoy before the first login needs it, so no login pays for making it.
pub fn prepare() {
    let _ = decoy_hash();
}

/// Verifies off the runtime. With no stored hash (no such user) it verifies against the decoy,
/// so an unknown username costs what a wrong password costs.
pub async fn verify_password(password: String, stored: Option<String>) -> bool {
    let Ok(_slot) = hashing_slots().acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let hash = stored.as_deref().unwrap_or_else(|| decoy_hash());
        verify_now(password.as_bytes(), hash) && known
    })
    .await
    .unwrap_or(false)
}

/// A readable password for the first admin when the operator gave none.
pub fn generated_password() -> String {
    let mut bytes = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoy is checked with the same algorithm, version and cost as a real hash, through
    /// the same function: the two refusals do the same work (by structure, not by timing).
    #[tokio::test]
    async fn an_unknown_user_costs_what_a_wrong_password_costs() {
        let real = hash_password("a real password".into()).await.unwrap();
        let (real, decoy) = (
            PasswordHash::new(&real).unwrap(),
            PasswordHash::new(decoy_hash()).unwrap(),
        );
        assert_eq!(real.algorithm, decoy.algorithm);
        assert_eq!(real.version, decoy.version);
        assert_eq!(real.params, decoy.params, "memory, time and lanes");
        assert_eq!(real.hash.map(|h| h.len()), decoy.hash.map(|h| h.len()));
        assert!(!verify_password("anything".into(), None).await);
        let stored = hash_password("right password".into()).await.unwrap();
        assert!(verify_password("right password".into(), Some(stored.clone())).await);
        assert!(!verify_password("wrong password".into(), Some(stored)).await);
    }
}
