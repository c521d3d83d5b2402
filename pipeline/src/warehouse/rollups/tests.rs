//! The rollups' tests.

use chrono::NaiveDate;

use super::derive::*;
use super::query::*;
use super::sql::*;
use crate::calendar::OPENING_HOURS;
use crate::warehouse::Backend;

#[test]
fn an_hour_range_is_one_subtraction_of_cumulative_columns() {
    assert_eq!(range_expr('v', 9, 19), "v19");
    assert_eq!(range_expr('v', 0, 23), "v19", "clamped to opening hours");
    assert_eq!(range_expr('c', 12, 14), "(c14 - c11)");
    assert_eq!(genuine_mask(9, 19), 0b111_1111_1111);
    assert_eq!(genuine_mask(10, 11), 0b110);
    assert_eq!(genuine_mask(0, 23), 0b111_1111_1111);
}

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

#[test]
fn a_period_splits_into_whole_months_and_edge_days() {
    let s = split_months(d("2025-11-27"), d("2026-11-26"));
    assert_eq!(s.months, Some((d("2025-12-01"), d("2026-10-01"))));
    assert_eq!(
        s.edge_days,
        vec![
            (d("2025-11-27"), d("2025-11-30")),
            (d("2026-11-01"), d("2026-11-26"))
        ]
    );
    let s = split_months(d("2025-01-01"), d("2025-02-28"));
    assert_eq!(s.months, Some((d("2025-01-01"), d("2025-02-01"))));
    assert!(s.edge_days.is_empty());
    let s = split_months(d("2025-03-10"), d("2025-03-16"));
    assert_eq!(s.months, None);
    assert_eq!(s.edge_days, vec![(d("2025-03-10"), d("2025-03-16"))]);
    let s = split_months(d("2025-02-15"), d("2025-03-31"));
    assert_eq!(s.months, Some((d("2025-03-01"), d("2025-03-01"))));
    assert_eq!(s.edge_days, vec![(d("2025-02-15"), d("2025-02-28"))]);
    assert_eq!(month_end(d("2024-02-10")), d("2024-02-29"));
}

#[test]
fn a_day_written_again_adds_new_bits_and_recomputes_lost_ones() {
    let day = |store_id, sensor_id, genuine| SensorDay {
        store_id,
        sensor_id,
        v: [0; HOURS],
        genuine,
    };
    // First write: every sensor with bits is OR-ed in; a sensor without any is not.
    let first = month_mask_change(&[], &[day(1, 1, 0b11), day(1, 2, 0)]);
    assert_eq!(first.add, vec![(1, 1, 0b11)]);
    assert!(first.recompute.is_empty());
    // The same day again: nothing to do.
    let same = month_mask_change(&[(1, 1, 0b11), (1, 2, 0)], &[day(1, 1, 0b11), day(1, 2, 0)]);
    assert_eq!(same, MonthMaskChange::default());
    // Sensor 1 gains a bit and loses one; sensor 2 gains; sensor 3 is gone from the day.
    let change = month_mask_change(
        &[(1, 1, 0b11), (1, 2, 0), (1, 3, 0b100)],
        &[day(1, 1, 0b110), day(1, 2, 0b1)],
    );
    assert_eq!(change.add, vec![(1, 1, 0b110), (1, 2, 0b1)]);
    assert_eq!(change.recompute, vec![(1, 1), (1, 3)]);
}

#[test]
fn the_refresh_sql_names_every_opening_hour_column() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let all = refresh_statements(backend)
            .into_iter()
            .map(|(_, _, s)| s)
            .collect::<Vec<_>>()
            .join("\n");
        for h in OPENING_HOURS {
            for family in ['v', 't', 'c'] {
                assert!(all.contains(&format!("{family}{h:02}")), "{family}{h:02}");
            }
        }
    }
}
