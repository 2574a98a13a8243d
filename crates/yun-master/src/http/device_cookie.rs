//! The console's device cookie: set at every cookie login, brought back by the next one.
//! HttpOnly and SameSite=Strict like the session; it opens nothing by itself, it only lets its
//! login skip the throttles that strangers' failures fill.

use crate::accounts::{DEVICE_COOKIE, SECURE_DEVICE_COOKIE};
use axum::http::request::Parts;

/// How long a browser keeps it (the store forgets a device unused for as long).
const MAX_AGE_S: i64 = yun_store::DEVICE_LIFETIME_MS / 1000;

fn name(https: bool) -> &'static str {
    if https {
        SECURE_DEVICE_COOKIE
    } else {
        DEVICE_COOKIE
    }
}

/// Accounts a browser is a known device of, at most: one cookie holds a token for each, so
/// logging in to a second account does not make the browser a stranger to the first.
const TOKENS_KEPT: usize = 5;

/// The cookie after a login: this login's device token first, then the others the browser
/// brought (`presented`), up to `TOKENS_KEPT`.
pub fn set(token: &str, presented: &[String], https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    let tokens: Vec<&str> = std::iter::once(token)
        .chain(presented.iter().map(String::as_str).filter(|t| *t != token))
        .take(TOKENS_KEPT)
        .collect();
    format!(
        "{}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={MAX_AGE_S}{secure}",
        name(https),
        tokens.join(".")
    )
}

/// The device tokens this request's cookies carry (of several accounts, or a tossed cookie's
/// too: the login takes the one of its own account).
pub fn presented(parts: &Parts, https: bool) -> Vec<String> {
    super::extract::cookie_values(parts, name(https))
        .flat_map(|v| {
            v.split('.')
                .filter(|t| {
                    !t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
                })
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .take(TOKENS_KEPT * 2)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_puts_its_token_first_and_keeps_a_few_others() {
        let others: Vec<String> = (0..9).map(|i| format!("{i:064x}")).collect();
        let cookie = set(&"f".repeat(64), &others, false);
        let value = cookie
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("yun_device=")
            .unwrap();
        let tokens: Vec<&str> = value.split('.').collect();
        assert_eq!(tokens.len(), TOKENS_KEPT);
        assert_eq!(tokens[0], "f".repeat(64));
        assert_eq!(tokens[1], others[0]);
        assert!(set("ab", &["ab".into()], true).starts_with("__Host-yun_device=ab;"));
    }
}
