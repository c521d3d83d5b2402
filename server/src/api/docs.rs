//! Interactive API docs at `/docs` (Swagger UI, as the original served), built from the
//! same `/openapi.json`. The Swagger UI files are compiled into the binary
//! (`utoipa-swagger-ui`'s `vendored` and `debug-embed` features): nothing is fetched from
//! a CDN, and the online validator badge is off, so the page makes no request off the
//! server. `/redoc`, the original's second docs page, leads here.

use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use utoipa_swagger_ui::{Config, SwaggerUi};

pub fn router() -> Router {
    let config = Config::new(["/openapi.json"]).validator_url("none");
    Router::new()
        .merge(SwaggerUi::new("/docs").config(config))
        .route("/redoc", get(|| async { Redirect::temporary("/docs/") }))
}
