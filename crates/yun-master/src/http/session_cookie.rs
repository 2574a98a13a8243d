//! The console's session cookie as this master writes it: set at login, cleared at logout,
//! and every copy a tossed cookie could hide under cleared when a request carries two.

use crate::accounts::{SECURE_SESSION_COOKIE, SESSION_COOKIE};
use axum::http::request::Parts;

/// The cookie that carries a new session for `max_age_s`.
pub fn set(token: &str, max_age_s: i64, https: bool) -> String {
    if https {
        format!("{SECURE_SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}; Secure")
    } else {
        format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}")
    }
}

/// The session cookie cleared, under the name this master sets.
pub fn cleared(https: bool) -> String {
    set("", 0, https)
}

/// Clears every cookie named `name` that this request could have carried: a browser sends a
/// cookie whose `Path` is a prefix of the request's path, for this host or (`Domain=`) a
/// parent of it, and deletes one only when told its exact name, path and domain.
pub fn clear_every_copy(parts: &Parts, name: &str, https: bool) -> Vec<String> {
    let secure = if https { "; Secure" } else { "" };
    let host = parts
        .headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(super::origin::hostname);
    // A host name and each parent of it that is still a name (not an address, not a TLD).
    let mut domains: Vec<Option<String>> = vec![None];
    if let Some(h) = host.filter(|h| h.parse::<std::net::IpAddr>().is_err()) {
        let mut rest = h.as_str();
        loop {
            domains.push(Some(rest.to_string()));
            match rest.split_once('.') {
                Some((_, parent)) if parent.contains('.') => rest = parent,
                _ => break,
            }
        }
    }
    // Under a nested router the URI is the rest of the path; the browser saw the whole one.
    let path = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(parts.uri.path(), |u| u.0.path());
    let mut out = Vec::new();
    for path in path_prefixes(path) {
        for domain in &domains {
            let domain = domain
                .as_deref()
                .map_or(String::new(), |d| format!("; Domain={d}"));
            out.push(format!(
                "{name}=; Path={path}{domain}; Max-Age=0; HttpOnly; SameSite=Strict{secure}"
            ));
        }
    }
    out
}

/// `/`, and each prefix of `path` with and without its closing slash (`/api`, `/api/`, ...).
fn path_prefixes(path: &str) -> Vec<String> {
    let mut out = vec!["/".to_string()];
    let mut prefix = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        prefix = format!("{prefix}/{segment}");
        out.push(prefix.clone());
        out.push(format!("{prefix}/"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_a_browser_would_send_on_is_cleared() {
        assert_eq!(
            path_prefixes("/api/v1/me"),
            [
                "/",
                "/api",
                "/api/",
                "/api/v1",
                "/api/v1/",
                "/api/v1/me",
                "/api/v1/me/"
            ]
        );
    }

    #[test]
    fn a_host_name_and_its_parents_are_cleared_but_not_an_address() {
        let req = axum::http::Request::builder()
            .uri("/api/v1/me")
            .header("host", "console.cloud.example:8088")
            .body(())
            .unwrap();
        let (parts, _) = req.into_parts();
        let all = clear_every_copy(&parts, "yun_session", false);
        assert!(all
            .iter()
            .any(|c| c.contains("Path=/api; Domain=cloud.example;")));
        assert!(all
            .iter()
            .any(|c| c.contains("Path=/api/v1/me; Domain=console.cloud.example;")));
        assert!(!all.iter().any(|c| c.contains("Domain=example;")));
        let req = axum::http::Request::builder()
            .uri("/api")
            .header("host", "127.0.0.1:8088")
            .body(())
            .unwrap();
        let (parts, _) = req.into_parts();
        assert!(!clear_every_copy(&parts, "yun_session", false)
            .iter()
            .any(|c| c.contains("Domain")));
    }
}
