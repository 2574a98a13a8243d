//! Where a reference lives: its registry's base URL, its repository and its tag or digest.

/// (registry base URL, repository, tag or digest) of a reference.
pub fn locate(reference: &str) -> (String, String, String) {
    let registry = yun_core::registry::registry_host(reference);
    let mut rest = reference.to_string();
    if reference.starts_with(&registry) || reference.to_ascii_lowercase().starts_with(&registry) {
        rest = reference[registry.len()..]
            .trim_start_matches('/')
            .to_string();
    }
    let (name, tag) = match rest.split_once('@') {
        Some((n, digest)) => (n.to_string(), digest.to_string()),
        None => match rest.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n.to_string(), t.to_string()),
            _ => (rest.clone(), "latest".to_string()),
        },
    };
    let (base, name) = if registry == "docker.io" {
        let name = if name.contains('/') {
            name
        } else {
            format!("library/{name}")
        };
        ("https://registry-1.docker.io".to_string(), name)
    } else {
        let host = yun_core::registry::host_only(&registry);
        // Docker itself talks plain HTTP to a registry on loopback.
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        let scheme = if loopback { "http" } else { "https" };
        (format!("{scheme}://{registry}"), name)
    };
    (base, name, tag)
}

/// The `repository:tag` the engine names the loaded image by (a reference without a tag is
/// `:latest`); None for a reference by digest, which the engine finds by its id instead.
pub fn repo_tag(reference: &str) -> Option<String> {
    if reference.contains('@') {
        return None;
    }
    let last = reference.rsplit('/').next().unwrap_or(reference);
    Some(if last.contains(':') {
        reference.to_string()
    } else {
        format!("{reference}:latest")
    })
}

#[cfg(test)]
mod tests {
    use super::{locate, repo_tag};

    #[test]
    fn a_loaded_image_is_named_by_its_reference() {
        assert_eq!(repo_tag("nginx").as_deref(), Some("nginx:latest"));
        assert_eq!(
            repo_tag("127.0.0.1:5000/team/app").as_deref(),
            Some("127.0.0.1:5000/team/app:latest")
        );
        assert_eq!(repo_tag("ghcr.io/a/b:1").as_deref(), Some("ghcr.io/a/b:1"));
        assert_eq!(repo_tag("a/b@sha256:00"), None);
    }

    #[test]
    fn references_become_registry_urls() {
        assert_eq!(
            locate("nginx"),
            (
                "https://registry-1.docker.io".into(),
                "library/nginx".into(),
                "latest".into()
            )
        );
        assert_eq!(
            locate("ghcr.io/a/b:1.2"),
            ("https://ghcr.io".into(), "a/b".into(), "1.2".into())
        );
        assert_eq!(
            locate("127.0.0.1:5000/team/app:v1"),
            (
                "http://127.0.0.1:5000".into(),
                "team/app".into(),
                "v1".into()
            )
        );
        assert_eq!(
            locate("localhost:5000/app@sha256:abc"),
            (
                "http://localhost:5000".into(),
                "app".into(),
                "sha256:abc".into()
            )
        );
    }
}
