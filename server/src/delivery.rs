//! How the front end and the pages travel: the built site's files are served from disk,
//! precompressed at build time (`.br`, `.gz` beside each file, see `scripts/build.sh`); the
//! files under `/pkg` carry a content hash in their name (`site/hash.txt`) and are cached
//! for a year; pages answer conditional requests (`If-None-Match`) with 304.

use std::hash::{Hash, Hasher};
use std::path::Path;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The file, in the site folder, naming the content hashes of the built files
/// (`js: …`, `wasm: …`, `css: …`), as cargo-leptos writes it and Leptos reads it.
pub const HASH_FILE: &str = "hash.txt";

/// Cache policy of the hashed files: a new build has new names, so a name never changes
/// content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Largest page body hashed for an ETag; bigger pages are sent as they are.
const ETAG_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// True when the site folder holds a hash file (a build of `scripts/build.sh`).
pub fn site_is_hashed(site_root: &Path) -> bool {
    site_root.join(HASH_FILE).is_file()
}

/// `/pkg/*`: the built JS glue, wasm and stylesheet, with their precompressed variants.
/// Hashed names are cached for a year; a site without hashes is revalidated every time.
pub fn pkg_service(site_root: &Path) -> axum::Router {
    let hashed = site_is_hashed(site_root);
    let dir = ServeDir::new(site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    axum::Router::new()
        .fallback_service(dir)
        .layer(axum::middleware::map_response(
            move |mut res: Response| async move {
                let cacheable = res.status() == StatusCode::OK
                    || res.status() == StatusCode::NOT_MODIFIED
                    || res.status() == StatusCode::PARTIAL_CONTENT;
                let policy = if hashed && cacheable {
                    IMMUTABLE
                } else {
                    "no-cache"
                };
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
                res
            },
        ))
}

/// A file of the site folder (favicon…) for a GET or HEAD no route matched, with its
/// precompressed variant and `If-Modified-Since` support; `None` when there is none.
pub async fn site_file(site_root: &str, parts: &axum::http::request::Parts) -> Option<Response> {
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return None;
    }
    let probe = Request::from_parts(parts.clone(), Body::empty());
    let dir = ServeDir::new(site_root)
        .precompressed_br()
        .precompressed_gzip();
    let Ok(res) = dir.oneshot(probe).await;
    (res.status() != StatusCode::NOT_FOUND).then(|| res.map(Body::new).into_response())
}

/// Attributes whose value Leptos draws at random for every response (a CSP nonce, also
/// copied into `crossorigin`). Our Content-Security-Policy does not use nonces, so two
/// renders that differ only there are the same page. (A nonce-based CSP would need the
/// nonce in the tag, or no 304.)
const RANDOM_ATTRIBUTES: [&[u8]; 2] = [b" nonce=\"", b" crossorigin=\""];

/// The body without the values of [`RANDOM_ATTRIBUTES`].
fn stable_parts(body: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = body;
    loop {
        let next = RANDOM_ATTRIBUTES
            .iter()
            .filter_map(|a| {
                rest.windows(a.len())
                    .position(|w| w == *a)
                    .map(|i| (i, a.len()))
            })
            .min();
        let Some((at, len)) = next else {
            parts.push(rest);
            return parts;
        };
        parts.push(&rest[..at + len]);
        let value = &rest[at + len..];
        match value.iter().position(|&b| b == b'"') {
            Some(end) => rest = &value[end..],
            None => return parts,
        }
    }
}

/// A weak ETag of a page body: the same HTML gives the same tag in every replica
/// running the same binary.
fn etag_of(body: &[u8]) -> String {
    let mut h = std::hash::DefaultHasher::new();
    let mut len = 0;
    for part in stable_parts(body) {
        part.hash(&mut h);
        len += part.len();
    }
    let a = h.finish();
    // A second pass with the length mixed in makes the tag 128 bits wide.
    let mut h2 = std::hash::DefaultHasher::new();
    (len, a).hash(&mut h2);
    format!("W/\"{a:016x}{:016x}\"", h2.finish())
}

/// True when an `If-None-Match` header value names `etag` (or is `*`).
fn none_match_hits(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let want = bare(etag);
    if_none_match
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == want)
}

/// Middleware for the pages: a 200 HTML answer to GET gets an ETag computed from its
/// body, and a request whose `If-None-Match` names it gets 304 without a body.
pub async fn conditional_page(req: Request, next: Next) -> Response {
    let is_get = req.method() == Method::GET || req.method() == Method::HEAD;
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_get || res.status() != StatusCode::OK || !is_html {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, ETAG_BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "page body not hashed for its ETag");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "La page n'a pas pu être produite.",
            )
                .into_response();
        }
    };
    let etag = etag_of(&bytes);
    let Ok(value) = HeaderValue::from_str(&etag) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.insert(header::ETAG, value);
    if if_none_match.is_some_and(|v| none_match_hits(&v, &etag)) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.remove(header::CONTENT_TYPE);
        return Response::from_parts(parts, Body::empty());
    }
    parts.headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(bytes.len() as u64),
    );
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_follow_the_body() {
        assert_eq!(etag_of(b"<html>a</html>"), etag_of(b"<html>a</html>"));
        assert_ne!(etag_of(b"<html>a</html>"), etag_of(b"<html>b</html>"));
        assert!(etag_of(b"x").starts_with("W/\""));
    }

    #[test]
    fn per_response_nonces_do_not_change_the_tag() {
        let a = br#"<script nonce="abc123">x</script><link crossorigin="abc123"><p>1</p>"#;
        let b = br#"<script nonce="zzz999">x</script><link crossorigin="zzz999"><p>1</p>"#;
        let c = br#"<script nonce="zzz999">x</script><link crossorigin="zzz999"><p>2</p>"#;
        assert_eq!(etag_of(a), etag_of(b));
        assert_ne!(etag_of(b), etag_of(c));
    }

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let tag = etag_of(b"page");
        assert!(none_match_hits(&tag, &tag));
        assert!(none_match_hits(&format!("\"other\", {tag}"), &tag));
        assert!(none_match_hits(&tag.replace("W/", ""), &tag));
        assert!(none_match_hits("*", &tag));
        assert!(!none_match_hits("\"other\"", &tag));
    }
}
