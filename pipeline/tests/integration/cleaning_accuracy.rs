//! The cleaning measured against the simulator's labelled faults on the default chain:
//! outlier detection over three months (held to ≥ 99 %), and the fill of missing and
//! outlier slots over a month (MAE ≤ 15 % of the true value, 9 h visitors within 2 %).
//! Both print their figures (see BENCHMARKS.md).

use std::collections::HashSet;
use std::sync::Arc;

use chrono::NaiveDate;
use pipeline::calendar::{is_open_day, OPENING_HOURS};
use pipeline::cleaning::clean_day;
use pipeline::clock::HourSlot;
use pipeline::jobs::collect::simulate_hour;
use pipeline::simulator::incidents::Incidents;
use pipeline::{Fault, Reference, Simulator};

struct Score {
    tp: u64,
    fp: u64,
    fn_: u64,
}

impl Score {
    fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_) as f64
    }
    fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp) as f64
    }
}

#[test]
fn outlier_rule_beats_the_original_bounds_on_labelled_faults() {
    // Cleaning is scored on the seed rules' labelled faults: incidents off.
    let sim = Simulator::new(Arc::new(Reference::embedded())).with_incidents(Incidents::Off);
    let (mut ours, mut original) = (
        Score {
            tp: 0,
            fp: 0,
            fn_: 0,
        },
        Score {
            tp: 0,
            fp: 0,
            fn_: 0,
        },
    );
    let mut days = 0;
    let mut date = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
    let end = NaiveDate::from_ymd_opt(2025, 4, 1).expect("date");
    while date < end {
        if is_open_day(date) {
            days += 1;
            let mut rows = Vec::new();
            for slot in HourSlot::hours_of_day(date) {
                rows.extend(simulate_hour(&sim, slot).0);
            }
            let cleaned = clean_day(sim.reference(), date, &rows, &[]).expect("clean");
            let flagged: HashSet<(i64, i64, u32)> = cleaned.outliers.into_iter().collect();
            for (store, sensor) in sim.reference().all_sensors() {
                for hour in OPENING_HOURS {
                    let r = sim
                        .sensor_reading(store, sensor, date, hour)
                        .expect("open day");
                    let Some(value) = r.value else { continue };
                    let truth = matches!(r.fault, Fault::HighOutlier | Fault::LowOutlier);
                    let key = (store.store_id as i64, sensor.sensor_id as i64, hour);
                    let score = |s: &mut Score, detected: bool| match (truth, detected) {
                        (true, true) => s.tp += 1,
                        (false, true) => s.fp += 1,
                        (true, false) => s.fn_ += 1,
                        (false, false) => {}
                    };
                    score(&mut ours, flagged.contains(&key));
                    score(&mut original, !(1..=120).contains(&value));
                }
            }
        }
        date = date.succ_opt().expect("next day");
    }
    println!(
        "cleaning accuracy over {days} open days (January–March 2025, 83 sensors): \
         median-ratio rule recall {:.4} precision {:.4} (TP {}, FP {}, FN {}); \
         original 1..120 bounds recall {:.4} precision {:.4}",
        ours.recall(),
        ours.precision(),
        ours.tp,
        ours.fp,
        ours.fn_,
        original.recall(),
        original.precision()
    );
    assert!(ours.tp > 2000, "a quarter holds thousands of faults");
    assert!(ours.recall() >= 0.99, "recall {}", ours.recall());
    assert!(ours.precision() >= 0.99, "precision {}", ours.precision());
    assert!(original.recall() < 0.9, "the original bounds miss outliers");
}

/// Filled slots against the simulator's truth over a month of the default chain, days
/// cleaned in order (each learning its shape from the same weekday of the weeks before, as
/// the transform does from the warehouse), beside the former rule (the sensor's day mean).
#[test]
fn filled_slots_follow_the_daily_shape() {
    use pipeline::clean_rows::CleanDay;
    use pipeline::cleaning::clean_day_with;
    use pipeline::cleaning::history::History;
    use pipeline::cleaning::rules::DayInput;
    use std::collections::BTreeMap;

    // Cleaning is scored on the seed rules' labelled faults: incidents off.
    let sim = Simulator::new(Arc::new(Reference::embedded())).with_incidents(Incidents::Off);
    let (from, to) = (
        NaiveDate::from_ymd_opt(2025, 3, 1).expect("date"),
        NaiveDate::from_ymd_opt(2025, 3, 31).expect("date"),
    );
    let mut cleaned: BTreeMap<NaiveDate, CleanDay> = BTreeMap::new();
    #[derive(Default)]
    struct Fill {
        abs_err: f64,
        rel_err: f64,
        truth: f64,
        n: u64,
        nine: i64,
    }
    let (mut shape, mut mean) = (Fill::default(), Fill::default());
    let (mut true_nine, mut tx_nine) = (0i64, 0i64);
    let mut date = from;
    while date <= to {
        if is_open_day(date) {
            let (mut visitors, mut transactions) = (Vec::new(), Vec::new());
            for slot in HourSlot::hours_of_day(date) {
                let (v, t) = simulate_hour(&sim, slot);
                visitors.extend(v);
                transactions.extend(t);
            }
            let mut history = History::default();
            for earlier in History::dates_for(date) {
                if let Some(day) = cleaned.get(&earlier) {
                    history.add_day(day);
                }
            }
            let day = clean_day_with(
                sim.reference(),
                date,
                &DayInput {
                    visitors: &visitors,
                    visitor_sources: &[],
                    transactions: &transactions,
                    transaction_sources: &[],
                    history: &history,
                    last_hour: None,
                },
            )
            .expect("clean");
            // The former fill: the mean of the sensor's valid values that day.
            let mut genuine: BTreeMap<(i32, i32), (i64, i64)> = BTreeMap::new();
            for v in day.visitors.iter().filter(|v| !v.imputed) {
                let e = genuine.entry((v.store_id, v.sensor_id)).or_default();
                e.0 += v.nb_visiteurs as i64;
                e.1 += 1;
            }
            for v in &day.visitors {
                let store = sim.reference().store(v.store_id as u32).expect("store");
                let sensor = sim
                    .reference()
                    .sensor(v.store_id as u32, v.sensor_id as u32)
                    .expect("sensor");
                let truth = sim
                    .sensor_reading(store, sensor, date, v.hour)
                    .expect("open day")
                    .true_value;
                let former = if v.imputed {
                    let (sum, n) = genuine[&(v.store_id, v.sensor_id)];
                    (sum as f64 / n as f64 + 0.5) as i64
                } else {
                    v.nb_visiteurs as i64
                };
                for (fill, value) in [(&mut shape, v.nb_visiteurs as i64), (&mut mean, former)] {
                    if v.imputed {
                        let err = (value - truth).abs() as f64;
                        fill.abs_err += err;
                        fill.rel_err += err / truth.max(1) as f64;
                        fill.truth += truth as f64;
                        fill.n += 1;
                    }
                    if v.hour == 9 {
                        fill.nine += value;
                    }
                }
                if v.hour == 9 {
                    true_nine += truth;
                }
            }
            tx_nine += day
                .transactions
                .iter()
                .filter(|t| t.hour == 9)
                .map(|t| t.nb_transactions as i64)
                .sum::<i64>();
            cleaned.insert(date, day);
        }
        date = date.succ_opt().expect("next day");
    }
    let report = |name: &str, f: &Fill| {
        let mae_share = f.abs_err / f.truth;
        let nine = f.nine as f64 / true_nine as f64 - 1.0;
        println!(
            "{name}: {} filled slots, MAE {:.1} % of the true value (mean relative error {:.1} %), \
             9 h visitors {:+.3} % against the truth ({} / {}), 9 h conversion {:.2} % (true {:.2} %)",
            f.n,
            mae_share * 100.0,
            f.rel_err / f.n as f64 * 100.0,
            nine * 100.0,
            f.nine,
            true_nine,
            tx_nine as f64 / f.nine as f64 * 100.0,
            tx_nine as f64 / true_nine as f64 * 100.0,
        );
        (mae_share, nine)
    };
    println!("fill accuracy over March 2025 (default chain, labelled missing and outlier slots):");
    let (former_mae, former_nine) = report("former rule (day mean)", &mean);
    let (mae, nine) = report("daily shape (this rule)", &shape);
    assert!(shape.n > 1000, "a month holds thousands of filled slots");
    assert!(mae <= 0.15, "MAE {:.3} of the true value", mae);
    assert!(nine.abs() <= 0.02, "9 h visitors off by {:.3}", nine);
    assert!(former_mae > mae && former_nine.abs() > nine.abs());
}
