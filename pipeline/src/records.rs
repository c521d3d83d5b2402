//! The rows that travel through the pipeline, with the original's column names. One
//! place defines each feed's columns; the lake, raw and analytics all use these.

use serde::{Deserialize, Serialize};

/// The two feeds of the original system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feed {
    Visiteurs,
    Transactions,
}

impl Feed {
    pub const ALL: [Feed; 2] = [Feed::Visiteurs, Feed::Transactions];

    /// The lake prefix and the table name: `visiteurs`, `transactions`.
    pub fn name(self) -> &'static str {
        match self {
            Feed::Visiteurs => "visiteurs",
            Feed::Transactions => "transactions",
        }
    }
}

/// One sensor-hour as collected: `store_id, sensor_id, date, heure, nb_visiteurs`.
/// `date` and `heure` are text as the original wrote them (`YYYY-MM-DD`, `HH:00:00`);
/// imported history may carry other spellings, which cleaning parses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorRow {
    pub store_id: i64,
    pub sensor_id: i64,
    pub date: String,
    pub heure: String,
    pub nb_visiteurs: Option<i64>,
}

/// One store-hour of sales as collected: `store_id, date, heure, transactions,
/// chiffre_affaires`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionRow {
    pub store_id: i64,
    pub date: String,
    pub heure: String,
    pub transactions: Option<i64>,
    pub chiffre_affaires: Option<f64>,
}

/// Rows of one hour, both feeds.
pub type HourRows = (Vec<VisitorRow>, Vec<TransactionRow>);
