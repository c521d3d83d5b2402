//! The `GET /releves` contract: every store's and sensor's values for one hour, in one
//! answer (the collector's form of the API). The server writes these types
//! (`server/src/api/handlers.rs`) and the HTTP source reads them (`source::http`): one
//! definition of the JSON shape. With the `openapi` feature they describe themselves to
//! utoipa under the schema names the API has always published.

use serde::{Deserialize, Serialize};

/// Answer of `GET /releves`: the whole chain for one hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(as = RelevesResponse)
)]
pub struct Releves {
    // The original's `date` text (`spelling::date_text`; a `//` comment, so the OpenAPI
    // document keeps its wording).
    #[cfg_attr(feature = "openapi", schema(example = "2024-10-14"))]
    pub date: String,
    // The original's `heure` text (`spelling::heure`).
    #[cfg_attr(feature = "openapi", schema(example = "12:00:00"))]
    pub heure: String,
    pub is_closed: bool,
    pub visiteurs: Vec<ReleveVisiteur>,
    pub transactions: Vec<ReleveTransaction>,
}

/// One sensor's count in `GET /releves`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(as = VisiteurRow)
)]
pub struct ReleveVisiteur {
    pub store_id: u32,
    pub city_store: String,
    pub sensor_id: u32,
    /// `null` when the sensor sent nothing.
    pub nb_visiteurs: Option<i64>,
}

/// One store's sales in `GET /releves`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(as = TransactionRow)
)]
pub struct ReleveTransaction {
    pub store_id: u32,
    pub city_store: String,
    pub transactions: i64,
    pub chiffre_affaires: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_shape_round_trips() {
        let text = r#"{"date":"2024-10-14","heure":"12:00:00","is_closed":false,
            "visiteurs":[{"store_id":1,"city_store":"Paris","sensor_id":9,"nb_visiteurs":null}],
            "transactions":[{"store_id":1,"city_store":"Paris","transactions":23,"chiffre_affaires":1534.87}]}"#;
        let releves: Releves = serde_json::from_str(text).expect("contract");
        assert_eq!(releves.visiteurs[0].nb_visiteurs, None);
        assert_eq!(releves.transactions[0].transactions, 23);
        let back: serde_json::Value = serde_json::to_value(&releves).expect("json");
        let again: serde_json::Value = serde_json::from_str(text).expect("json");
        assert_eq!(back, again);
    }
}
