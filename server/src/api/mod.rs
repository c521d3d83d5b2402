//! The REST API of the original DataMag360 (`/visiteurs`, `/transactions`), kept
//! compatible, plus a bulk form (`/releves`), `/openapi.json` and `/health`.

pub mod error;
pub mod export;
pub mod handlers;
pub mod openapi;
pub mod params;

use app::services::Services;
use axum::routing::get;
use axum::Router;

pub fn router(services: Services) -> Router {
    Router::new()
        .route("/visiteurs", get(handlers::visiteurs))
        .route("/transactions", get(handlers::transactions))
        .route("/releves", get(handlers::releves))
        .route("/health", get(handlers::health))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/export.csv", get(export::export_csv))
        .with_state(services)
}
