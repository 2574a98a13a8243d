//! An image's size from its registry's manifest, read before anything is pulled: the
//! compressed sizes of its config and layers (for a multi-platform index, of this host's
//! platform). Anonymous access only (Docker Hub's token dance included); when the manifest
//! cannot be read, the pull is limited by its progress instead.

use serde_json::Value;
use std::time::Duration;

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// (registry base URL, repository, tag or digest) of a reference.
fn locate(reference: &str) -> (String, String, String) {
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

/// The anonymous bearer token a `WWW-Authenticate: Bearer realm=…,service=…,scope=…` asks for.
async fn token(http: &reqwest::Client, challenge: &str) -> Option<String> {
    let params = challenge.strip_prefix("Bearer ")?;
    let field = |key: &str| {
        params.split(',').find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == key).then(|| v.trim_matches('"').to_string())
        })
    };
    let realm = field("realm")?;
    let mut query = Vec::new();
    for key in ["service", "scope"] {
        if let Some(v) = field(key) {
            query.push((key, v));
        }
    }
    let answer: Value = http
        .get(realm)
        .query(&query)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    answer["token"]
        .as_str()
        .or(answer["access_token"].as_str())
        .map(str::to_string)
}

async fn fetch(http: &reqwest::Client, url: &str, bearer: &mut Option<String>) -> Option<Value> {
    for _ in 0..2 {
        let mut req = http.get(url).header("accept", ACCEPT);
        if let Some(t) = bearer.as_ref() {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.ok()?;
        if resp.status() == reqwest::StatusCode::UNAUTHORIZED && bearer.is_none() {
            let challenge = resp
                .headers()
                .get("www-authenticate")?
                .to_str()
                .ok()?
                .to_string();
            *bearer = Some(token(http, &challenge).await?);
            continue;
        }
        if !resp.status().is_success() {
            return None;
        }
        return resp.json().await.ok();
    }
    None
}

fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The image's compressed size by its manifest, or None when it cannot be read.
pub(super) async fn compressed_size(reference: &str) -> Option<u64> {
    let (base, name, tag) = locate(reference);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .ok()?;
    let mut bearer = None;
    let mut manifest = fetch(
        &http,
        &format!("{base}/v2/{name}/manifests/{tag}"),
        &mut bearer,
    )
    .await?;
    if let Some(list) = manifest["manifests"].as_array() {
        let digest = list
            .iter()
            .find(|m| {
                m["platform"]["os"] == "linux" && m["platform"]["architecture"] == host_arch()
            })
            .or_else(|| list.first())?["digest"]
            .as_str()?
            .to_string();
        manifest = fetch(
            &http,
            &format!("{base}/v2/{name}/manifests/{digest}"),
            &mut bearer,
        )
        .await?;
    }
    let layers: u64 = manifest["layers"]
        .as_array()?
        .iter()
        .filter_map(|l| l["size"].as_u64())
        .sum();
    Some(layers + manifest["config"]["size"].as_u64().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::locate;

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
