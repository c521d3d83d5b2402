//! The REST API of the original DataMag360 (`/visiteurs`, `/transactions`), kept
//! compatible, plus a bulk form (`/releves`), `/openapi.json`, its interactive docs at
//! `/docs`, and `/health`.

pub mod docs;
pub mod error;
pub mod export;
pub mod handlers;
pub mod openapi;
pub mod params;

use app::services::Services;
use axum::routing::get;
use axum::Router;

/// The API's paths (a trailing slash on one of them redirects to it).
pub const PATHS: [&str; 6] = [
    "/visiteurs",
    "/transactions",
    "/releves",
    "/health",
    "/openapi.json",
    "/export.csv",
];

pub fn router(services: Services) -> Router {
    Router::new()
        .route(PATHS[0], get(handlers::visiteurs))
        .route(PATHS[1], get(handlers::transactions))
        .route(PATHS[2], get(handlers::releves))
        .route(PATHS[3], get(handlers::health))
        .route(PATHS[4], get(openapi::openapi_json))
        .route(PATHS[5], get(export::export_csv))
        .with_state(services)
}
