//! Rules for what renters type: usernames, passwords, names, image references, env, ports.
//! Each failure names the field and says what would be accepted.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for Invalid {}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

pub fn username(s: &str) -> Result<(), Invalid> {
    let ok_chars = s
        .bytes()
        .all(|b| is_lower_alnum(b) || b == b'_' || b == b'-');
    if !(3..=32).contains(&s.len()) || !ok_chars {
        return Err(Invalid::new(
            "username",
            "use 3 to 32 characters: lowercase letters, digits, '_' and '-'",
        ));
    }
    Ok(())
}

/// A container name the renter chooses: shown in lists, never used as a Docker name or a path.
pub fn container_name(s: &str) -> Result<(), Invalid> {
    let first_ok = s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if s.is_empty() || s.len() > 63 || !first_ok || !ok_chars {
        return Err(Invalid::new(
            "name",
            "use 1 to 63 characters: letters, digits, '_', '-' and '.', starting with a letter or digit",
        ));
    }
    Ok(())
}

/// A Docker image reference: `[host[:port]/]path[:tag][@sha256:hex]`.
pub fn image_reference(s: &str) -> Result<(), Invalid> {
    let bad = |why: &str| {
        Err(Invalid::new(
            "image",
            format!(
                "{why}; use a reference like 'nginx:1.27' or 'registry.example.com/team/app:v2'"
            ),
        ))
    };
    if s.is_empty() || s.len() > 255 {
        return bad("the reference must be 1 to 255 characters");
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        let ok = d
            .strip_prefix("sha256:")
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        if !ok {
            return bad("the digest must be 'sha256:' and 64 hex digits");
        }
    }
    // A tag follows the last ':' only if no '/' comes after it (else it is a registry port).
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !ok {
            return bad("the tag may hold letters, digits, '_', '.' and '-'");
        }
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
    {
        let host = parts.remove(0);
        let host_ok = host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
        if !host_ok {
            return bad("the registry host is not valid");
        }
    }
    for p in parts {
        if !path_component(p) {
            return bad("each path part must be lowercase letters and digits, joined by '.', '_', '__' or '-'");
        }
    }
    Ok(())
}

fn path_component(p: &str) -> bool {
    let b = p.as_bytes();
    if b.is_empty() || !is_lower_alnum(b[0]) || !is_lower_alnum(b[b.len() - 1]) {
        return false;
    }
    // Separators may not repeat, except the one documented '__'.
    let mut run = 0;
    for &c in b {
        if is_lower_alnum(c) {
            run = 0;
        } else if matches!(c, b'.' | b'_' | b'-') {
            run += 1;
            if run > 2 || (run == 2 && c != b'_') {
                return false;
            }
        } else {
            return false;
        }
    }
    true
}

pub fn env_key(key: &str) -> Result<(), Invalid> {
    let ok = !key.is_empty()
        && key.len() <= 256
        && !key.contains('=')
        && !key.contains('\0')
        && !key.bytes().next().is_some_and(|b| b.is_ascii_digit());
    if !ok {
        return Err(Invalid::new(
            "env",
            format!(
                "'{}' is not a valid variable name: it may not be empty, contain '=' or start with a digit",
                key.escape_default()
            ),
        ));
    }
    Ok(())
}

pub fn env_value(key: &str, value: &str) -> Result<(), Invalid> {
    if value.contains('\0') || value.len() > 32 * 1024 {
        return Err(Invalid::new(
            "env",
            format!("the value of '{key}' must be under 32 KiB and contain no NUL byte"),
        ));
    }
    Ok(())
}

pub fn port(field: &'static str, n: i64) -> Result<u16, Invalid> {
    if !(1..=65535).contains(&n) {
        return Err(Invalid::new(
            field,
            format!("{n} is not a port; use a number from 1 to 65535"),
        ));
    }
    Ok(n as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(username("alice_01").is_ok());
        assert!(username("al").is_err());
        assert!(username("Alice").is_err());
        assert!(username("a/b/c").is_err());
        assert!(username(&"a".repeat(33)).is_err());
    }

    #[test]
    fn names_refuse_path_characters() {
        assert!(container_name("web-1").is_ok());
        for bad in ["", "../x", "a/b", "a\\b", ".hidden", "a b", &"x".repeat(64)] {
            assert!(container_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn image_references() {
        for ok in [
            "nginx",
            "nginx:1.27",
            "library/nginx:latest",
            "localhost:5000/team/app:v2",
            "registry.example.com/a__b/c-d.e:1.0",
            "yun-testbox:abc123",
            "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(image_reference(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "NGINX",
            "nginx:",
            "a//b",
            "-x",
            "x:y:z",
            "nginx@sha256:12",
            "a b",
        ] {
            assert!(image_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_keys() {
        assert!(env_key("PATH").is_ok());
        assert!(env_key("A=B").is_err());
        assert!(env_key("").is_err());
        assert!(env_key("1X").is_err());
    }

    #[test]
    fn ports() {
        assert_eq!(port("ports", 80), Ok(80));
        assert!(port("ports", 0).is_err());
        assert!(port("ports", 70000).is_err());
    }
}
