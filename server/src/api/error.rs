//! API errors: a status and a JSON body `{"detail": "<French message>", "code": "...",
//! "parameter": "..."}`. `detail` is what the original API returned; `code` and
//! `parameter` are for programs.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Human-readable message, in French.
    #[schema(example = "Magasin inconnu : « Rennes »")]
    pub detail: String,
    /// Stable machine-readable code.
    #[schema(example = "unknown_store")]
    pub code: &'static str,
    /// The query parameter at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "city_store")]
    pub parameter: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    /// An error of any status and code: the one place an error body is built.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        parameter: Option<&'static str>,
        detail: String,
    ) -> Self {
        Self {
            status,
            body: ErrorBody {
                detail,
                code,
                parameter,
            },
        }
    }

    pub fn missing(parameter: &'static str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_parameter",
            Some(parameter),
            format!("Le paramètre « {parameter} » est obligatoire."),
        )
    }

    pub fn invalid(parameter: &'static str, detail: String) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_parameter",
            Some(parameter),
            detail,
        )
    }

    pub fn duplicate(parameter: &'static str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "duplicate_parameter",
            Some(parameter),
            format!("Le paramètre « {parameter} » est donné plusieurs fois."),
        )
    }

    pub fn unprocessable(code: &'static str, detail: String) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, None, detail)
    }

    pub fn not_found(code: &'static str, parameter: Option<&'static str>, detail: String) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, parameter, detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// The body of every 405: which methods exist is in the `Allow` header axum adds.
pub async fn method_not_allowed(method: axum::http::Method) -> Response {
    let shown: String = method.as_str().chars().take(20).collect();
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        None,
        format!("Méthode {shown} non autorisée sur cette adresse (voir l'en-tête Allow)."),
    )
    .into_response()
}
