//! The state-changing endpoints, behind a bearer token (`DATAMAG_ADMIN_TOKEN`):
//! `POST /admin/reconcile` runs what is due now; `POST /admin/backfill` runs a range.
//! Without a configured token the admin API refuses every request.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::NaiveDate;
use pipeline::access::{AccessMode, Visitor};
use pipeline::jobs::reconcile::{BackfillError, RunOptions};
use pipeline::Pipeline;
use serde::Deserialize;

use crate::api::error::ApiError;

#[derive(Clone)]
pub struct AdminState {
    pub pipeline: Pipeline,
    pub token: Option<Arc<str>>,
    pub backfill_days: u32,
}

fn refuse(status: StatusCode, code: &'static str, detail: &str) -> Response {
    (
        [(header::WWW_AUTHENTICATE, "Bearer")],
        ApiError::new(status, code, None, detail.to_string()),
    )
        .into_response()
}

async fn require_token(State(state): State<AdminState>, request: Request, next: Next) -> Response {
    // An admin signed in from the browser (the access gate refused cross-site writes).
    let signed_in_admin = request
        .extensions()
        .get::<Visitor>()
        .and_then(Visitor::viewer)
        .is_some_and(|v| v.is_admin() && v.mode == AccessMode::SignedIn);
    if signed_in_admin && !request.headers().contains_key(header::AUTHORIZATION) {
        return next.run(request).await;
    }
    let Some(expected) = state.token.as_deref() else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "admin_disabled",
            "API d'administration désactivée : définissez DATAMAG_ADMIN_TOKEN sur le serveur.",
        );
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(token) if pipeline::secret::same_secret(token.as_bytes(), expected.as_bytes()) => {
            next.run(request).await
        }
        Some(_) => refuse(StatusCode::UNAUTHORIZED, "invalid_token", "Jeton invalide."),
        None => refuse(
            StatusCode::UNAUTHORIZED,
            "missing_token",
            "Authentification requise : en-tête « Authorization: Bearer <jeton> ».",
        ),
    }
}

async fn reconcile(State(state): State<AdminState>) -> Response {
    match state.pipeline.reconcile(state.backfill_days).await {
        Ok(Some(summary)) => (StatusCode::OK, Json(summary)).into_response(),
        Ok(None) => refuse(
            StatusCode::CONFLICT,
            "busy_or_not_leader",
            "Une exécution est déjà en cours, ou une autre instance exécute les tâches.",
        ),
        Err(e) => {
            tracing::error!(error = %e, "admin reconcile failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "reconcile_failed",
                "L'exécution a échoué ; voir les journaux.",
            )
        }
    }
}

#[derive(Debug, Deserialize)]
struct BackfillBody {
    from: NaiveDate,
    to: NaiveDate,
    #[serde(default)]
    force: bool,
    #[serde(default)]
    retry_failed: bool,
}

async fn backfill(
    State(state): State<AdminState>,
    body: Result<Json<BackfillBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                &format!(
                "Corps JSON attendu : {{\"from\": \"AAAA-MM-JJ\", \"to\": \"AAAA-MM-JJ\"}} ({e})."
            ),
            )
        }
    };
    if body.from > body.to || (body.to - body.from).num_days() > 3660 {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_range",
            "Plage invalide : « from » doit précéder « to », sur au plus dix ans.",
        );
    }
    let opts = RunOptions {
        force: body.force,
        retry_failed: body.retry_failed,
    };
    match state
        .pipeline
        .backfill(body.from, body.to, opts, &|_| {})
        .await
    {
        Ok(summary) => (StatusCode::OK, Json(summary)).into_response(),
        Err(BackfillError::NotLeader(message)) => {
            refuse(StatusCode::CONFLICT, "not_leader", &message)
        }
        Err(BackfillError::Range(e)) => refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_range",
            &format!(
                "Plage hors de la période servie (du 2021-01-01 à la dernière heure complète) : {e}"
            ),
        ),
        Err(e) => {
            tracing::error!(error = %e, "admin backfill failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "backfill_failed",
                "Le rattrapage a échoué ; voir les journaux.",
            )
        }
    }
}

/// `GET /admin/audit.csv`: the whole audit log, newest first (time in UTC, RFC 3339).
async fn audit_csv(State(state): State<AdminState>) -> Response {
    let rows = match state.pipeline.warehouse.audit_log(i64::MAX).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the audit log");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "warehouse_unavailable",
                None,
                "Entrepôt de données indisponible.".into(),
            )
            .into_response();
        }
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut write = || -> Result<Vec<u8>, csv::Error> {
        out.write_record(["at", "username", "address", "action", "detail"])?;
        for r in &rows {
            let at = chrono::DateTime::from_timestamp(r.at, 0)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default();
            out.write_record([at.as_str(), &r.username, &r.address, &r.action, &r.detail])?;
        }
        out.flush()?;
        Ok(out.get_ref().clone())
    };
    match write() {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"datamag360-audit.csv\"",
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot write the audit CSV");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/admin/reconcile", post(reconcile))
        .route("/admin/backfill", post(backfill))
        .route("/admin/audit.csv", axum::routing::get(audit_csv))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_token,
        ))
        .with_state(state)
}
