//! How the site travels, through the real router: hashed names in the pages, precompressed
//! files sent from disk with a year of immutable caching, 304 answers to conditional
//! requests, and the 404 page.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::Router;
use datamag360::metrics::Metrics;
use datamag360::{build_router, AppState};

use super::common::{oneshot as get, services_at, utc};

const JS: &str = "0123456789abcdef0123";
const WASM: &str = "fedcba9876543210fedc";
const CSS: &str = "00112233445566778899";

/// A built site as scripts/build.sh leaves it (contents are stand-ins).
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg");
    std::fs::write(
        dir.path().join("hash.txt"),
        format!("js: {JS}\nwasm: {WASM}\ncss: {CSS}\n"),
    )
    .expect("hash.txt");
    std::fs::write(pkg.join(format!("datamag360.{JS}.js")), "export default 1;").expect("js");
    std::fs::write(pkg.join(format!("datamag360.{CSS}.css")), "body{}").expect("css");
    let wasm = pkg.join(format!("datamag360.{WASM}.wasm"));
    std::fs::write(&wasm, b"\0asm wasm bytes").expect("wasm");
    std::fs::write(wasm.with_extension("wasm.br"), b"brotli bytes").expect("br");
    std::fs::write(wasm.with_extension("wasm.gz"), b"gzip bytes").expect("gz");
    std::fs::write(dir.path().join("favicon.svg"), "<svg/>").expect("favicon");
    dir
}

/// The whole application's router serving a fresh [`site`] (kept alive with it).
fn site_router() -> (tempfile::TempDir, Router) {
    let site = site();
    let services = services_at(utc("2025-06-15T12:00:00Z"));
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let state = AppState::new(services, &site.path().to_string_lossy(), addr);
    let router = build_router(state, None, Arc::new(Metrics::default()));
    (site, router)
}

/// A page of the site: the status, the headers and the HTML.
async fn page(router: &Router, uri: &str) -> (StatusCode, header::HeaderMap, String) {
    let (status, h, body) = get(router, uri, &[]).await;
    (status, h, String::from_utf8(body).expect("utf-8"))
}

fn header<'a>(h: &'a header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn pages_name_hashed_files_and_answer_304() {
    let (_site, router) = site_router();
    let (status, h, html) = page(&router, "/?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    for name in [
        format!("/pkg/datamag360.{JS}.js"),
        format!("/pkg/datamag360.{WASM}.wasm"),
        format!("/pkg/datamag360.{CSS}.css"),
    ] {
        assert!(html.contains(&name), "{name} in the page");
    }
    assert!(
        html.contains("<html lang=\"en\""),
        "html lang follows ?lang=en"
    );
    let etag = header(&h, "etag").to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    let (again, h2, body) = get(&router, "/?lang=en", &[("if-none-match", &etag)]).await;
    assert_eq!(again, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(header(&h2, "etag"), etag);
    let (other, _, _) = get(&router, "/?lang=en", &[("if-none-match", "W/\"0\"")]).await;
    assert_eq!(other, StatusCode::OK);
    // The French page is another page, with another tag.
    let (_, fr, _) = get(&router, "/", &[]).await;
    assert_ne!(header(&fr, "etag"), etag);
}

#[tokio::test]
async fn hashed_files_are_sent_precompressed_and_immutable() {
    let (_site, router) = site_router();
    let uri = format!("/pkg/datamag360.{WASM}.wasm");
    let (status, h, body) = get(&router, &uri, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-encoding"), "br");
    assert_eq!(header(&h, "content-type"), "application/wasm");
    assert_eq!(
        header(&h, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(body, b"brotli bytes");
    let (_, h, body) = get(&router, &uri, &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&h, "content-encoding"), "gzip");
    assert_eq!(body, b"gzip bytes");
    let (_, h, body) = get(&router, &uri, &[]).await;
    assert_eq!(header(&h, "content-encoding"), "");
    assert_eq!(body, b"\0asm wasm bytes");

    let (missing, h, _) = get(&router, "/pkg/datamag360.0000.wasm", &[]).await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
    assert_eq!(header(&h, "cache-control"), "no-cache");

    // Other files of the site: revalidated, and If-Modified-Since answers 304.
    let (status, h, _) = get(&router, "/favicon.svg", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "cache-control"), "no-cache");
    let since = header(&h, "last-modified").to_string();
    let (cached, _, _) = get(&router, "/favicon.svg", &[("if-modified-since", &since)]).await;
    assert_eq!(cached, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn unknown_pages_get_the_404_page_with_navigation() {
    let (_site, router) = site_router();
    let (status, _, html) = page(&router, "/no-such-page?lang=en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"), "{html}");
    assert!(
        html.contains("href=\"/dashboard?lang=en\""),
        "navigation kept"
    );
    assert!(html.contains("<html lang=\"en\""));
}
