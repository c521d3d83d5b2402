//! The cleaning rules' tests.

use super::history::*;
use super::rules::*;
use super::visitors::*;
use super::*;
use crate::spelling::{heure, parse_date};

use chrono::{Duration, NaiveDate};

use crate::calendar::OPENING_HOURS;
use crate::clean_rows::{CleanDay, CleanVisitor, Rule};
use crate::records::{TransactionRow, VisitorRow};
use crate::reference::Reference;

#[test]
fn dates_in_every_historical_spelling() {
    let d = NaiveDate::from_ymd_opt(2024, 10, 14);
    assert_eq!(parse_date("2024-10-14"), d);
    assert_eq!(parse_date("2024/10/14"), d);
    assert_eq!(parse_date("14/10/2024"), d);
    assert_eq!(parse_date(" 2024-10-14 "), d);
    for bad in [
        "",
        "2024-13-01",
        "31/02/2024",
        "14-10-2024",
        "yesterday",
        "2024-10-14T10",
    ] {
        assert_eq!(parse_date(bad), None, "{bad}");
    }
}

#[test]
fn hours_in_every_historical_spelling() {
    for (text, hour) in [
        ("10:00:00", 10),
        ("09:00:00", 9),
        ("9:00:00", 9),
        ("10h00", 10),
        ("10H00", 10),
        ("1000", 10),
        ("0900", 9),
        ("19:00", 19),
    ] {
        assert_eq!(parse_hour(text), Some(hour), "{text}");
    }
    let unreadable = "|24:00:00|10:30:00|10h30|1030|abc|10|10:00:00:00|1a00|-1:00:00";
    for bad in unreadable.split('|') {
        assert_eq!(parse_hour(bad), None, "{bad}");
    }
}

/// `parse_hour` as first written (split and collect): the byte parser must agree
/// with it on every short string of the characters that matter.
fn parse_hour_as_first_written(text: &str) -> Option<u32> {
    let t = text.trim();
    let (h, rest) = if let Some((h, rest)) = t.split_once(':') {
        (h, rest.split(':').collect::<Vec<_>>())
    } else if let Some((h, m)) = t.split_once(['h', 'H']) {
        (h, vec![m])
    } else if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
        (&t[..2], vec![&t[2..]])
    } else {
        return None;
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || rest.is_empty() || rest.len() > 2 || !rest.iter().all(|p| digits(p)) {
        return None;
    }
    let hour: u32 = h.parse().ok()?;
    let all_zero = rest.iter().all(|p| p.bytes().all(|b| b == b'0'));
    (hour < 24 && all_zero).then_some(hour)
}

#[test]
fn the_hour_parser_agrees_with_its_first_version_on_every_short_string() {
    let alphabet = ['0', '1', '2', '4', '9', ':', 'h', 'H', ' ', 'x'];
    let mut texts = vec![String::new()];
    let mut checked = 0;
    for _ in 0..6 {
        let mut longer = Vec::with_capacity(texts.len() * alphabet.len());
        for t in &texts {
            for c in alphabet {
                let s = format!("{t}{c}");
                assert_eq!(parse_hour(&s), parse_hour_as_first_written(&s), "{s:?}");
                checked += 1;
                longer.push(s);
            }
        }
        texts = longer;
    }
    for s in [
        "10:00:00",
        "23:00:00",
        " 09:00:00 ",
        "7:0:00",
        "10:00:00:",
        "\u{a0}10h00",
    ] {
        assert_eq!(parse_hour(s), parse_hour_as_first_written(s), "{s:?}");
    }
    assert_eq!(checked, 1_111_110);
}

/// A synthetic chain's day, made messy the ways the rules know: duplicates, a second
/// source that conflicts, nulls, negatives, unknown ids, outliers, slots to fill from
/// the history, from the store's shape or not at all.
fn messy_day(
    reference: &std::sync::Arc<Reference>,
    date: NaiveDate,
) -> (Vec<VisitorRow>, Vec<u32>, History) {
    use crate::clock::HourSlot;
    use crate::jobs::collect::simulate_hour;
    let sim = crate::Simulator::new(reference.clone())
        .with_incidents(crate::simulator::incidents::Incidents::Off);
    let day_rows = |d: NaiveDate| -> Vec<VisitorRow> {
        HourSlot::hours_of_day(d)
            .flat_map(|slot| simulate_hour(&sim, slot).0)
            .collect()
    };
    let mut history = History::default();
    for week in 1..=2 {
        for r in day_rows(date - Duration::weeks(week)) {
            // Half the stores have no history: their fills follow the day's shape.
            if r.store_id % 2 == 0 {
                if let (Some(h), Some(v)) = (parse_hour(&r.heure), r.nb_visiteurs) {
                    history.add_visitor(r.store_id, r.sensor_id, h, v);
                }
            }
        }
    }
    let mut rows = Vec::new();
    let mut sources = Vec::new();
    for (i, mut r) in day_rows(date).into_iter().enumerate() {
        // A sensor silent all day (unfillable), and one heard at noon only, in a
        // store with history and in one without.
        let silent = (r.store_id, r.sensor_id) == (5, 2);
        let noon_only = r.sensor_id == 1 && (r.store_id == 3 || r.store_id == 4);
        if silent || (noon_only && !r.heure.starts_with("12")) {
            continue;
        }
        match i % 97 {
            // A missing slot.
            0..=2 => continue,
            3 => r.nb_visiteurs = None,
            4 => r.nb_visiteurs = Some(-5),
            5 => r.nb_visiteurs = r.nb_visiteurs.map(|v| v * 20 + 100),
            6 => r.store_id = 9_999,
            7 => r.store_id = -1,
            8 => r.heure = "10:30:00".into(),
            _ => {}
        }
        if i % 53 == 0 {
            rows.push(r.clone());
            sources.push(0);
        }
        if i % 71 == 0 {
            let mut other = r.clone();
            other.nb_visiteurs = other.nb_visiteurs.map(|v| v + 1);
            rows.push(other);
            sources.push(1);
        }
        rows.push(r);
        sources.push(0);
    }
    (rows, sources, history)
}

#[test]
fn the_stores_cleaned_in_parts_give_what_one_pass_gives() {
    let reference = std::sync::Arc::new(Reference::synthetic(25, 7).expect("chain"));
    let date = NaiveDate::from_ymd_opt(2024, 3, 13).expect("date");
    let (visitors, visitor_sources, history) = messy_day(&reference, date);
    let input = DayInput {
        visitors: &visitors,
        visitor_sources: &visitor_sources,
        transactions: &[],
        transaction_sources: &[],
        history: &history,
        last_hour: None,
    };
    let sorted = |c: &Counts| {
        let mut c = c.0.clone();
        c.sort();
        c
    };
    let (rows, outliers, counts) = clean_visitors_in_parts(&reference, date, &input, 1);
    let figure = |rule: Rule| counts.0.iter().find(|(r, _)| *r == rule).map(|(_, n)| *n);
    // The day exercises every rule the parts must agree on.
    for rule in [
        Rule::Duplicate,
        Rule::SourceConflict,
        Rule::NullDropped,
        Rule::OutOfRange,
        Rule::UnknownId,
        Rule::ClosedHour,
        Rule::UnparseableHour,
        Rule::OutlierHigh,
        Rule::SlotsFilled,
        Rule::Unfillable,
    ] {
        assert!(
            figure(rule).is_some_and(|n| n > 0),
            "{rule}: {:?}",
            counts.0
        );
    }
    assert!(rows.iter().any(|r| r.imputed) && rows.len() > 1_000);
    for parts in [2, 3, 25, 40] {
        let (p_rows, p_outliers, p_counts) =
            clean_visitors_in_parts(&reference, date, &input, parts);
        assert_eq!(p_rows, rows, "{parts} parts");
        assert_eq!(p_outliers, outliers, "{parts} parts");
        assert_eq!(sorted(&p_counts), sorted(&counts), "{parts} parts");
    }
}

fn row(store: i64, sensor: i64, date: &str, heure: &str, v: Option<i64>) -> VisitorRow {
    VisitorRow {
        store_id: store,
        sensor_id: sensor,
        date: date.into(),
        heure: heure.into(),
        nb_visiteurs: v,
    }
}

fn count(day: &CleanDay, feed: &str, rule: Rule) -> i64 {
    day.quality
        .iter()
        .find(|q| q.feed == feed && q.rule == rule)
        .map(|q| q.count)
        .unwrap_or(0)
}

#[test]
fn each_row_rule_is_counted_and_the_grid_is_filled() {
    let reference = Reference::embedded();
    let date = NaiveDate::from_ymd_opt(2024, 10, 14).expect("monday");
    let mut rows = Vec::new();
    // Sensor 1 of Paris: a normal day of 50s, one high outlier, one low outlier.
    for hour in OPENING_HOURS {
        let v = match hour {
            12 => 900,
            15 => 1,
            _ => 50,
        };
        rows.push(row(1, 1, "2024-10-14", &heure(hour), Some(v)));
    }
    rows.push(row(1, 2, "14/10/2024", "10h00", Some(40))); // other spellings: kept
    rows.push(row(1, 2, "2024/10/14", "1100", Some(44)));
    rows.push(row(1, 2, "2024-10-14", "11:00:00", Some(45))); // duplicate slot
    rows.push(row(1, 3, "2024-10-14", "10:00:00", None)); // null
    rows.push(row(999, 1, "2024-10-14", "10:00:00", Some(50))); // unknown store
    rows.push(row(1, 898, "2024-10-14", "10:00:00", Some(50))); // unknown sensor
    rows.push(row(1, 4, "2024-10-14", "03:00:00", Some(2))); // closed hour
    rows.push(row(1, 4, "2024-10-14", "25:00:00", Some(2))); // bad hour
    rows.push(row(1, 4, "not a date", "10:00:00", Some(2))); // bad date
    let day = clean_day(&reference, date, &rows, &[]).expect("clean");
    for (rule, n) in [
        (Rule::RowsIn, rows.len() as i64),
        (Rule::Duplicate, 1),
        (Rule::NullDropped, 1),
        (Rule::UnknownId, 2),
        (Rule::ClosedHour, 1),
        (Rule::UnparseableHour, 1),
        (Rule::UnparseableDate, 1),
        (Rule::OutlierHigh, 1),
        (Rule::OutlierLow, 1),
    ] {
        assert_eq!(count(&day, "visiteurs", rule), n, "{rule}");
    }
    assert_eq!(day.outliers.len(), 2);
    // Every open slot of all 83 sensors exists once.
    assert_eq!(
        day.visitors.len(),
        83 * 11 - count(&day, "visiteurs", Rule::Unfillable) as usize
    );
    let s1: Vec<&CleanVisitor> = day
        .visitors
        .iter()
        .filter(|v| v.store_id == 1 && v.sensor_id == 1)
        .collect();
    assert_eq!(s1.len(), 11);
    // The outliers' slots are filled with the mean of the valid values (50).
    assert!(s1
        .iter()
        .filter(|v| v.imputed)
        .all(|v| v.nb_visiteurs == 50));
    assert_eq!(s1.iter().filter(|v| v.imputed).count(), 2);
    // Sensor 2: mean of 40 and 44 fills its 9 other hours.
    let s2: Vec<&CleanVisitor> = day
        .visitors
        .iter()
        .filter(|v| v.store_id == 1 && v.sensor_id == 2)
        .collect();
    assert_eq!(s2.iter().filter(|v| v.imputed).count(), 9);
    assert!(s2
        .iter()
        .filter(|v| v.imputed)
        .all(|v| v.nb_visiteurs == 42));
}

#[test]
fn weekends_produce_no_analytics_rows() {
    let reference = Reference::embedded();
    let date = NaiveDate::from_ymd_opt(2024, 10, 12).expect("saturday");
    let rows = vec![row(1, 1, "2024-10-12", "10:00:00", Some(50))];
    let day = clean_day(&reference, date, &rows, &[]).expect("clean");
    assert!(day.visitors.is_empty() && day.transactions.is_empty());
    assert_eq!(count(&day, "visiteurs", Rule::ClosedDay), 1);
}

fn clean_with(
    rows: &[VisitorRow],
    sources: &[u32],
    history: &History,
    last_hour: Option<u32>,
) -> CleanDay {
    let reference = Reference::embedded();
    let date = NaiveDate::from_ymd_opt(2024, 10, 14).expect("monday");
    clean_day_with(
        &reference,
        date,
        &DayInput {
            visitors: rows,
            visitor_sources: sources,
            transactions: &[],
            transaction_sources: &[],
            history,
            last_hour,
        },
    )
    .expect("clean")
}

fn value(day: &CleanDay, store: i32, sensor: i32, hour: u32) -> Option<(i32, bool)> {
    day.visitors
        .iter()
        .find(|v| v.store_id == store && v.sensor_id == sensor && v.hour == hour)
        .map(|v| (v.nb_visiteurs, v.imputed))
}

#[test]
fn the_first_valid_row_in_precedence_order_wins_whatever_its_spelling() {
    // Source 0 is collected, source 1 an import: rows arrive in precedence order.
    let rows = vec![
        row(1, 1, "2024-10-14", "10:00:00", Some(50)),
        row(1, 2, "2024-10-14", "10:00:00", None),
        row(1, 3, "2024-10-14", "10:00:00", Some(40)),
        row(1, 3, "2024-10-14", "10:00:00", Some(41)),
        row(1, 1, "14/10/2024", "10h00", Some(99)),
        row(1, 1, "2024/10/14", "1000", Some(98)),
        row(1, 2, "14/10/2024", "10:00:00", Some(77)),
    ];
    let day = clean_with(&rows, &[0, 0, 0, 0, 1, 1, 1], &History::default(), None);
    assert_eq!(value(&day, 1, 1, 10), Some((50, false)), "collected wins");
    assert_eq!(
        value(&day, 1, 2, 10),
        Some((77, false)),
        "a null takes no slot"
    );
    assert_eq!(
        value(&day, 1, 3, 10),
        Some((40, false)),
        "first line of a source"
    );
    assert_eq!(count(&day, "visiteurs", Rule::SourceConflict), 2);
    assert_eq!(count(&day, "visiteurs", Rule::Duplicate), 1);
}

#[test]
fn a_gap_follows_the_sensors_own_profile_scaled_to_the_day() {
    let profile = [30, 50, 60, 70, 90, 60, 60, 60, 90, 90, 70];
    let mut history = History::default();
    for (i, hour) in OPENING_HOURS.enumerate() {
        for _ in 0..4 {
            history.add_visitor(1, 1, hour, profile[i]);
        }
    }
    // Today at half the usual level, 13h missing: 90 / 2.
    let rows: Vec<VisitorRow> = OPENING_HOURS
        .enumerate()
        .filter(|(_, h)| *h != 13)
        .map(|(i, h)| row(1, 1, "2024-10-14", &heure(h), Some(profile[i] / 2)))
        .collect();
    let day = clean_with(&rows, &[], &history, None);
    assert_eq!(value(&day, 1, 1, 13), Some((45, true)));
    // Without history, the store's shape of the day, from its other sensors.
    let mut rows2 = rows.clone();
    for (i, h) in OPENING_HOURS.enumerate() {
        rows2.push(row(1, 2, "2024-10-14", &heure(h), Some(profile[i] * 2)));
    }
    let day = clean_with(&rows2, &[], &History::default(), None);
    assert_eq!(value(&day, 1, 1, 13), Some((45, true)));
    // The former rule, the day's mean, would have given 32.
    let mean = rows.iter().filter_map(|r| r.nb_visiteurs).sum::<i64>() / 10;
    assert_eq!(mean, 32);
}

#[test]
fn the_current_day_stops_at_its_last_complete_hour() {
    let rows = vec![
        row(1, 1, "2024-10-14", "09:00:00", Some(30)),
        row(1, 1, "2024-10-14", "10:00:00", Some(50)),
        row(1, 1, "2024-10-14", "15:00:00", Some(60)),
    ];
    let day = clean_with(&rows, &[], &History::default(), Some(12));
    let hours: Vec<u32> = day
        .visitors
        .iter()
        .filter(|v| v.store_id == 1 && v.sensor_id == 1)
        .map(|v| v.hour)
        .collect();
    assert_eq!(hours, vec![9, 10, 11, 12]);
    assert_eq!(count(&day, "visiteurs", Rule::OutsideServiceRange), 1);
    assert!(day.visitors.iter().all(|v| v.hour <= 12));
}

#[test]
fn revenue_is_integer_cents_and_sales_gaps_follow_the_day() {
    assert_eq!(euros_to_cents(1534.87), Some(153_487));
    assert_eq!(euros_to_cents(0.1 + 0.2), Some(30));
    assert_eq!(euros_to_cents(f64::NAN), None);
    let reference = Reference::embedded();
    let date = NaiveDate::from_ymd_opt(2024, 10, 14).expect("monday");
    let visitors: Vec<VisitorRow> = OPENING_HOURS
        .map(|h| row(1, 1, "2024-10-14", &heure(h), Some(h as i64 * 10)))
        .collect();
    let sales: Vec<TransactionRow> = OPENING_HOURS
        .filter(|h| *h != 12)
        .map(|h| TransactionRow {
            store_id: 1,
            date: "2024-10-14".into(),
            heure: heure(h),
            transactions: Some(h as i64),
            chiffre_affaires: Some(h as f64 * 10.005),
        })
        .collect();
    let day = clean_day(&reference, date, &visitors, &sales).expect("clean");
    let noon = day
        .transactions
        .iter()
        .find(|t| t.store_id == 1 && t.hour == 12)
        .expect("filled");
    assert!(noon.imputed);
    // Transactions follow the store's visitors of the day (one sale per 10 visitors).
    assert_eq!(noon.nb_transactions, 12);
    let again = clean_day(&reference, date, &visitors, &sales).expect("clean");
    assert_eq!(
        day.transactions, again.transactions,
        "same rows, same cents"
    );
}
