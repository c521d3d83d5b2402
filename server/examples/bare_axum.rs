//! The baseline for the API benchmark: a bare axum 0.8 server with one GET route that
//! returns a small constant JSON body, on the same runtime set-up as `datamag360`
//! (multi-threaded tokio, loopback). No middleware, no state, no query parsing.
//!
//!   cargo run --release -p datamag360 --example bare_axum -- 3902
//!   curl http://127.0.0.1:3902/anything   # every path answers the same
//!
//! Used by scripts/bench-api.sh.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

async fn constant() -> Json<Value> {
    Json(json!({ "message": "ok", "is_closed": false, "visiteurs": 56 }))
}

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("usage: bare_axum [PORT]"))
        .unwrap_or(3902);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        // Any path, so that the same wrk URL works against both servers.
        let app = Router::new()
            .route("/", get(constant))
            .fallback(get(constant));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        eprintln!("bare_axum listening on http://127.0.0.1:{port}/");
        axum::serve(listener, app).await
    })
}
