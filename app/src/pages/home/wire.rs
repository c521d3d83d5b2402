//! What the home page's server functions answer.

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::wire::StoreInfo;

/// What the home page needs to draw its simulator form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeData {
    pub stores: Vec<StoreInfo>,
    /// The most recent open day whose hours are all available, `YYYY-MM-DD`.
    pub default_date: String,
    /// First date the simulator serves, `YYYY-MM-DD`.
    pub first_date: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorValue {
    pub sensor_id: u32,
    pub visiteurs: Option<i64>,
}

/// One store-hour as the simulator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourSnapshot {
    pub city_store: String,
    pub date: String,
    pub heure: String,
    pub is_closed: bool,
    pub sensors: Vec<SensorValue>,
    pub transactions: Option<i64>,
    pub chiffre_affaires: Option<f64>,
}

/// Why a store-hour cannot be shown: the page words it in its language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SnapshotProblem {
    UnknownStore(String),
    BadDate(String),
    BadHour(u32),
    BeforeFirstDate(String),
    InFuture,
    NotYet(String),
}

impl SnapshotProblem {
    pub fn message(&self, l: Lang) -> String {
        match (self, l) {
            (Self::UnknownStore(s), Lang::Fr) => format!("Magasin inconnu : {s}"),
            (Self::UnknownStore(s), Lang::En) => format!("Unknown store: {s}"),
            (Self::BadDate(d), Lang::Fr) => format!("Date invalide : {d} (attendu AAAA-MM-JJ)"),
            (Self::BadDate(d), Lang::En) => format!("Invalid date: {d} (expected YYYY-MM-DD)"),
            (Self::BadHour(h), Lang::Fr) => format!("Heure invalide : {h} (0 à 23)"),
            (Self::BadHour(h), Lang::En) => format!("Invalid hour: {h} (0 to 23)"),
            (Self::BeforeFirstDate(d), Lang::Fr) => format!("Pas de données avant le {d}"),
            (Self::BeforeFirstDate(d), Lang::En) => format!("No data before {d}"),
            (Self::InFuture, Lang::Fr) => "Cette date est dans le futur".to_string(),
            (Self::InFuture, Lang::En) => "This date is in the future".to_string(),
            (Self::NotYet(t), Lang::Fr) => {
                format!("Pas encore disponible : dernière heure disponible {t}")
            }
            (Self::NotYet(t), Lang::En) => format!("Not available yet: latest hour available {t}"),
        }
    }
}
