//! Outlier detection measured against the simulator's labelled faults over three months of the
//! default chain. Prints the figures (see BENCHMARKS.md) and holds them to ≥ 99 %.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::NaiveDate;
use pipeline::cleaning::clean_day;
use pipeline::clock::HourSlot;
use pipeline::jobs::collect::simulate_hour;
use pipeline::simulator::{is_open_day, OPENING_HOURS};
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
    let sim = Simulator::new(Arc::new(Reference::embedded()));
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
