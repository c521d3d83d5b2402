//! How dates and hours are written in the data: the original's `date` (`YYYY-MM-DD`) and
//! `heure` (`HH:00:00`) texts, and the date spellings found in historical files. One
//! place for each, used by collect, the API, the cleaning, raw and analytics.
//!
//! This module depends on chrono only (the browser build uses it too).

use chrono::NaiveDate;

/// The original's `date` text: `2024-10-14`.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// Every spelling of a date accepted in historical files, the original's first:
/// `yyyy-MM-dd`, `yyyy/MM/dd`, `dd/MM/yyyy`.
pub const DATE_SPELLINGS: [&str; 3] = [DATE_FORMAT, "%Y/%m/%d", "%d/%m/%Y"];

/// The original's `heure` text of a local hour: `09:00:00`.
pub fn heure(hour: u32) -> String {
    format!("{hour:02}:00:00")
}

/// The original's `date` text: `2024-10-14`.
pub fn date_text(date: NaiveDate) -> String {
    date.format(DATE_FORMAT).to_string()
}

/// Parses a date written in any of the [`DATE_SPELLINGS`] (surrounding spaces ignored).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    DATE_SPELLINGS
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
}

/// `date` written in each of the [`DATE_SPELLINGS`], in their order.
pub fn date_spellings(date: NaiveDate) -> [String; 3] {
    DATE_SPELLINGS.map(|f| date.format(f).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_reads_back() {
        let date = NaiveDate::from_ymd_opt(2024, 10, 4).expect("date");
        let spelt = date_spellings(date);
        assert_eq!(spelt, ["2024-10-04", "2024/10/04", "04/10/2024"]);
        for s in &spelt {
            assert_eq!(parse_date(s), Some(date), "{s}");
        }
        assert_eq!(date_text(date), spelt[0]);
        assert_eq!(heure(9), "09:00:00");
        assert_eq!(heure(19), "19:00:00");
    }
}
