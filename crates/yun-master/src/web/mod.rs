//! The web console's files, embedded at build time (`web/`, compressed by `build.rs`): each is
//! served in the best encoding the browser takes, with an ETag, under a strict
//! Content-Security-Policy. Paths that name no file are the console's own deep links, so they
//! get the page; `/api` is never served from here.

mod assets;
pub mod headers;

use assets::Asset;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

/// The console's answer to `method path`.
pub fn serve(method: &Method, path: &str, request: &HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "the console's pages are read with GET\n",
        )
            .into_response();
    }
    let asset = match assets::find(path) {
        Some(a) => a,
        // A missing file is a 404; a path without an extension is a page of the console.
        None if last_segment_has_extension(path) => {
            return (StatusCode::NOT_FOUND, "no such file\n").into_response()
        }
        None => assets::find("/index.html").expect("web/index.html is embedded"),
    };
    respond(asset, method, request)
}

fn last_segment_has_extension(path: &str) -> bool {
    path.rsplit('/').next().is_some_and(|s| s.contains('.'))
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// The best encoding `Accept-Encoding` allows (a `q=0` refuses one).
fn accepted(request: &HeaderMap) -> (bool, bool) {
    let mut br = false;
    let mut gzip = false;
    for value in request.get_all(header::ACCEPT_ENCODING) {
        for item in value.to_str().unwrap_or("").split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            match name.as_str() {
                "br" => br = !refused,
                "gzip" => gzip = !refused,
                _ => {}
            }
        }
    }
    (br, gzip)
}

fn respond(asset: &'static Asset, method: &Method, request: &HeaderMap) -> Response {
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    // Revalidated on every load (the files have no versioned names); a 304 costs a round trip.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers::console(&mut h);
    if etag_matches(request, asset.etag) {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    let (br, gzip) = accepted(request);
    let (encoding, bytes): (Encoding, &'static [u8]) = match (asset.brotli, asset.gzip) {
        (Some(b), _) if br => (Encoding::Brotli, b),
        (_, Some(g)) if gzip => (Encoding::Gzip, g),
        _ => (Encoding::Identity, asset.identity),
    };
    match encoding {
        Encoding::Brotli => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br")),
        Encoding::Gzip => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
        Encoding::Identity => None,
    };
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    (StatusCode::OK, h, body).into_response()
}

fn etag_matches(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn encodings_follow_accept_encoding() {
        assert_eq!(
            accepted(&req(&[("accept-encoding", "gzip, deflate, br, zstd")])),
            (true, true)
        );
        assert_eq!(
            accepted(&req(&[("accept-encoding", "br;q=0, gzip;q=0.5")])),
            (false, true)
        );
        assert_eq!(accepted(&req(&[])), (false, false));
    }

    #[test]
    fn every_file_is_embedded_with_smaller_compressed_forms() {
        let index = assets::find("/index.html").unwrap();
        assert!(index.brotli.unwrap().len() < index.identity.len());
        assert!(index.gzip.unwrap().len() < index.identity.len());
        assert!(assets::find("/app.js").is_some() && assets::find("/style.css").is_some());
    }

    /// `api.js` is the console's only way to the API: no other script calls `fetch` or opens
    /// an `XMLHttpRequest` (so the cookie, the errors and the refusals are handled once).
    #[test]
    fn only_api_js_reaches_the_api() {
        let scripts: Vec<_> = assets::ASSETS
            .iter()
            .filter(|a| a.path.ends_with(".js"))
            .collect();
        assert!(scripts.len() > 5, "the console's scripts are embedded");
        for script in scripts {
            let text = std::str::from_utf8(script.identity).unwrap();
            let calls = text.matches("fetch(").count() + text.matches("XMLHttpRequest").count();
            let allowed = if script.path == "/api.js" { 2 } else { 0 };
            assert!(
                calls <= allowed,
                "{} reaches the network itself: go through api.js",
                script.path
            );
        }
    }

    #[test]
    fn deep_links_get_the_page_and_missing_files_a_404() {
        let page = serve(&Method::GET, "/containers/abc", &req(&[]));
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert_eq!(
            serve(&Method::GET, "/nothing.js", &req(&[])).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            serve(&Method::POST, "/", &req(&[])).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn a_known_etag_is_not_sent_again() {
        let etag = assets::find("/app.js").unwrap().etag;
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(etag).unwrap());
        assert_eq!(
            serve(&Method::GET, "/app.js", &h).status(),
            StatusCode::NOT_MODIFIED
        );
    }
}
