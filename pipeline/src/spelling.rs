//! How dates and hours are written in the data: the original's `date` (`YYYY-MM-DD`) and
//! `heure` (`HH:00:00`) texts, and the date spellings found in historical files. One
//! place for each, used by collect, the API, the cleaning, raw and analytics.
//!
//! This module depends on chrono only (the browser build uses it too).

use std::borrow::Cow;

use chrono::NaiveDate;

/// The original's `date` text: `2024-10-14`.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// Every spelling of a date accepted in historical files, the original's first:
/// `yyyy-MM-dd`, `yyyy/MM/dd`, `dd/MM/yyyy`.
pub const DATE_SPELLINGS: [&str; 3] = [DATE_FORMAT, "%Y/%m/%d", "%d/%m/%Y"];

/// The original's `heure` text of a local hour: `09:00:00`.
pub fn heure(hour: u32) -> String {
    heure_text(hour).into_owned()
}

/// [`heure`] without an allocation for the day's 24 hours (bulk writers bind it per row).
pub fn heure_text(hour: u32) -> Cow<'static, str> {
    const HEURES: [&str; 24] = [
        "00:00:00", "01:00:00", "02:00:00", "03:00:00", "04:00:00", "05:00:00", "06:00:00",
        "07:00:00", "08:00:00", "09:00:00", "10:00:00", "11:00:00", "12:00:00", "13:00:00",
        "14:00:00", "15:00:00", "16:00:00", "17:00:00", "18:00:00", "19:00:00", "20:00:00",
        "21:00:00", "22:00:00", "23:00:00",
    ];
    HEURES.get(hour as usize).map_or_else(
        || Cow::Owned(format!("{hour:02}:00:00")),
        |h| Cow::Borrowed(*h),
    )
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

/// Whether `text` is `date` in one of the [`DATE_SPELLINGS`]: `parse_date(text) ==
/// Some(date)`, with the collected rows' own spelling (`2024-10-14`) read without the
/// format parser (a 1,000-store day checks 231,000 of them).
pub fn spells_date(text: &str, date: NaiveDate) -> bool {
    use chrono::Datelike;
    let b = text.as_bytes();
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        if let (Some(y), Some(m), Some(d)) = (number(&b[..4]), number(&b[5..7]), number(&b[8..])) {
            // Only the first spelling has dashes, so this is what the parser would read.
            return i64::from(y) == i64::from(date.year()) && m == date.month() && d == date.day();
        }
    }
    parse_date(text) == Some(date)
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
            assert!(spells_date(s, date), "{s}");
        }
        assert_eq!(date_text(date), spelt[0]);
        assert_eq!(heure(9), "09:00:00");
        assert_eq!(heure(19), "19:00:00");
        for h in 0..30 {
            assert_eq!(heure_text(h), format!("{h:02}:00:00"));
        }
    }

    #[test]
    fn spells_date_answers_as_the_parser_does() {
        let date = NaiveDate::from_ymd_opt(2024, 2, 29).expect("date");
        for text in [
            "2024-02-29",
            "2024-02-28",
            "2023-02-29",
            "2024-03-29",
            "2024-02-30",
            "2024-13-01",
            "2024-2-29",
            "2024-02-2x",
            " 2024-02-29 ",
            "29/02/2024",
            "2024/02/29",
            "+024-02-29",
            "2024-02-29 ",
            "",
            "١٢٣٤-02-29",
        ] {
            assert_eq!(
                spells_date(text, date),
                parse_date(text) == Some(date),
                "{text:?}"
            );
        }
    }
}
