//! The quick periods offered beside the dates.

use chrono::{Datelike, Duration, Months, NaiveDate};

/// Each quick period: its id (`#preset-…`) and its French and English labels, in the order
/// shown.
pub(super) const PRESETS: [(&str, &str, &str); 6] = [
    ("yesterday", "Hier", "Yesterday"),
    ("last7", "7 derniers jours", "Last 7 days"),
    ("week", "Semaine dernière", "Last complete week"),
    ("mtd", "Mois en cours", "Month to date"),
    ("lastmonth", "Mois dernier", "Last month"),
    (
        "lastyear",
        "Même période l'an dernier",
        "Same period last year",
    ),
];

/// The period the quick period `which` selects, `today` being today in Paris; `lastyear`
/// moves the form's period (`from`, `to`, as typed) one year back. `None` for an unknown
/// id or dates that do not read.
pub(super) fn preset_period(
    which: &str,
    today: NaiveDate,
    from: &str,
    to: &str,
) -> Option<(NaiveDate, NaiveDate)> {
    let yesterday = today - Duration::days(1);
    let month_start = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    match which {
        "yesterday" => Some((yesterday, yesterday)),
        "last7" => Some((today - Duration::days(7), yesterday)),
        "week" => {
            let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
            Some((monday - Duration::days(7), monday - Duration::days(1)))
        }
        "mtd" => Some((month_start(yesterday), yesterday)),
        "lastmonth" => {
            let first = month_start(today);
            first
                .checked_sub_months(Months::new(1))
                .map(|start| (start, first - Duration::days(1)))
        }
        "lastyear" => {
            let a: Option<NaiveDate> = from.parse().ok();
            let b: Option<NaiveDate> = to.parse().ok();
            a.zip(b).and_then(|(a, b)| {
                Some((
                    a.checked_sub_months(Months::new(12))?,
                    b.checked_sub_months(Months::new(12))?,
                ))
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_periods_end_before_today() {
        // Friday 2026-11-27.
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        let p = |which: &str| {
            preset_period(which, today, "2026-03-02", "2026-03-08")
                .map(|(a, b)| (a.to_string(), b.to_string()))
        };
        let s = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(p("yesterday"), s("2026-11-26", "2026-11-26"));
        assert_eq!(p("last7"), s("2026-11-20", "2026-11-26"));
        assert_eq!(p("week"), s("2026-11-16", "2026-11-22"));
        assert_eq!(p("mtd"), s("2026-11-01", "2026-11-26"));
        assert_eq!(p("lastmonth"), s("2026-10-01", "2026-10-31"));
        assert_eq!(p("lastyear"), s("2025-03-02", "2025-03-08"));
        assert_eq!(p("bogus"), None);
        assert_eq!(preset_period("lastyear", today, "", "2026-03-08"), None);
    }
}
