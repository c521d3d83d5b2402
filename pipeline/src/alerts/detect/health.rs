//! Data health, hour by hour: what was expected (every sensor of the chain, every store's
//! sales, each open hour of an open day) against what the collected hours brought to raw.
//!
//! Each open hour of the window is read as one [`HourState`] (from the raw rows that say
//! something is wrong, so an ordinary hour costs almost nothing to hold), newest first.
//! A rule then looks, per sensor or store, at the run of consecutive *bad* open hours that
//! ends at the newest hour:
//! - **silent**: the reading is `null` or absent;
//! - **stuck at zero**: the reading is 0 while at least half of the store's sensors count
//!   people (otherwise the store is empty, e.g. closed, and the hour tells nothing);
//! - **till feed down**: no sale (0 or `null` transactions, or no row) while at least half
//!   of the store's sensors count people.
//!
//! An hour the store tells nothing about (not arrived yet, or an empty store for the stuck
//! and till rules) neither extends nor breaks a run. A run of at least the rule's minimum
//! is reported with its first hour as `start`: the next run finds the same start as long
//! as the condition lasts.

use std::collections::{HashMap, HashSet};

use crate::alerts::{Finding, Rule, Severity};
use crate::clock::HourSlot;
use crate::reference::Reference;

use super::params::DetectParams;

/// What the raw rows of one open hour say.
#[derive(Debug, Clone, Default)]
pub struct HourState {
    pub slot: Option<HourSlot>,
    /// The hour's visitor rows arrived (its lot exists).
    pub visitors_arrived: bool,
    pub sales_arrived: bool,
    /// Sensors whose reading is `null` or absent.
    pub silent: HashSet<(i64, i64)>,
    /// Sensors that read 0 (or less).
    pub zero: HashSet<(i64, i64)>,
    /// Stores without a sale that hour.
    pub no_sale: HashSet<i64>,
}

impl HourState {
    /// Bad readings (silent or zero) of each store.
    fn bad_per_store(&self) -> HashMap<i64, usize> {
        let mut out: HashMap<i64, usize> = HashMap::new();
        for (store, _) in self.silent.iter().chain(self.zero.iter()) {
            *out.entry(*store).or_default() += 1;
        }
        out
    }
}

/// One hour's verdict on one sensor or store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Bad,
    Good,
    /// Tells nothing (not arrived, or the store was empty).
    Unknown,
}

/// A run of bad hours ending at the newest hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    bad_hours: u32,
    /// Index (into the newest-first hours) of the oldest bad hour.
    oldest: usize,
    /// No good hour was found before the window's oldest hour: the run may start earlier.
    open_ended: bool,
}

fn run_of(verdicts: impl Iterator<Item = Verdict>) -> Option<Run> {
    let mut run = Run {
        bad_hours: 0,
        oldest: 0,
        open_ended: true,
    };
    for (i, v) in verdicts.enumerate() {
        match v {
            Verdict::Bad => {
                run.bad_hours += 1;
                run.oldest = i;
            }
            Verdict::Good => {
                run.open_ended = false;
                break;
            }
            Verdict::Unknown => {}
        }
    }
    (run.bad_hours > 0).then_some(run)
}

/// The outcome of the rules over a window of hours.
#[derive(Debug, Clone, Default)]
pub struct HealthOutcome {
    pub findings: Vec<Finding>,
    /// Some reported run reaches the window's oldest hour: an older hour may still
    /// belong to it (read more hours to place its start).
    pub needs_more: bool,
}

/// Where conditions still open began, by (rule, store, sensor): the alerts a previous run
/// found and that are not resolved.
pub type Known = HashMap<(Rule, i64, Option<i64>), chrono::DateTime<chrono::Utc>>;

/// Reports a run of at least the rule's minimum: from its oldest bad hour, or, when no good
/// hour was read before it, from where `known` says the condition began (if not later);
/// otherwise asks for older hours.
fn report(
    out: &mut HealthOutcome,
    known: &Known,
    hours: &[HourState],
    run: Run,
    mut finding: Finding,
) {
    let Some(slot) = hours[run.oldest].slot else {
        return;
    };
    finding.start = slot.start_utc();
    if run.open_ended {
        match known.get(&(finding.rule, finding.store_id, finding.sensor_id)) {
            Some(&since) if since <= finding.start => finding.start = since,
            _ => out.needs_more = true,
        }
    }
    out.findings.push(finding);
}

/// The health rules over `hours` (newest first); see [`report`] for `known`.
pub fn evaluate(
    reference: &Reference,
    hours: &[HourState],
    known: &Known,
    params: &DetectParams,
) -> HealthOutcome {
    let mut out = HealthOutcome::default();
    let bad: Vec<HashMap<i64, usize>> = hours.iter().map(HourState::bad_per_store).collect();
    for store in reference.stores() {
        let s = i64::from(store.store_id);
        let sensors = reference.sensors_of(store.store_id);
        let n = sensors.len();
        // The store counts people: fewer than half of its sensors bad.
        let busy = |i: usize| 2 * bad[i].get(&s).copied().unwrap_or(0) < n;
        for sensor in sensors {
            let key = (s, i64::from(sensor.sensor_id));
            let silent = run_of(hours.iter().map(|h| {
                if !h.visitors_arrived {
                    Verdict::Unknown
                } else if h.silent.contains(&key) {
                    Verdict::Bad
                } else {
                    Verdict::Good
                }
            }));
            let stuck = run_of(hours.iter().enumerate().map(|(i, h)| {
                if !h.visitors_arrived || h.silent.contains(&key) {
                    Verdict::Unknown
                } else if h.zero.contains(&key) {
                    if busy(i) {
                        Verdict::Bad
                    } else {
                        Verdict::Unknown
                    }
                } else {
                    Verdict::Good
                }
            }));
            for (rule, run, min) in [
                (Rule::SensorSilent, silent, params.silent_min_hours),
                (Rule::SensorStuckZero, stuck, params.stuck_min_hours),
            ] {
                if let Some(run) = run.filter(|r| r.bad_hours >= min) {
                    let finding = Finding {
                        rule,
                        severity: Severity::Warning,
                        store_id: s,
                        sensor_id: Some(key.1),
                        start: chrono::DateTime::<chrono::Utc>::MIN_UTC,
                        end: None,
                        observed: (rule == Rule::SensorStuckZero).then_some(0.0),
                        expected: None,
                    };
                    report(&mut out, known, hours, run, finding);
                }
            }
        }
        let till = run_of(hours.iter().enumerate().map(|(i, h)| {
            if !h.sales_arrived || !h.visitors_arrived || !busy(i) {
                Verdict::Unknown
            } else if h.no_sale.contains(&s) {
                Verdict::Bad
            } else {
                Verdict::Good
            }
        }));
        if let Some(run) = till.filter(|r| r.bad_hours >= params.till_min_hours) {
            let finding = Finding {
                rule: Rule::TillFeedDown,
                severity: Severity::Critical,
                store_id: s,
                sensor_id: None,
                start: chrono::DateTime::<chrono::Utc>::MIN_UTC,
                end: None,
                observed: Some(0.0),
                expected: None,
            };
            report(&mut out, known, hours, run, finding);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn reference() -> Reference {
        Reference::from_csv_str(
            "store_id,city_store,coef\n1,A,1.0\n2,B,1.0\n",
            "sensor_id,store_id,coef\n1,1,1.0\n2,1,1.0\n3,1,1.0\n1,2,1.0\n2,2,1.0\n",
        )
        .expect("reference")
    }

    /// Hours 9..=19 of a Monday, newest first, each with the given silent sensors.
    fn hours(silent_per_hour: &[&[(i64, i64)]]) -> Vec<HourState> {
        let day = NaiveDate::from_ymd_opt(2024, 10, 14).expect("date");
        silent_per_hour
            .iter()
            .enumerate()
            .map(|(i, silent)| HourState {
                slot: HourSlot::new(day, 19 - i as u32),
                visitors_arrived: true,
                sales_arrived: true,
                silent: silent.iter().copied().collect(),
                ..HourState::default()
            })
            .collect()
    }

    #[test]
    fn a_sensor_is_silent_from_its_third_missing_hour() {
        let r = reference();
        let p = DetectParams::default();
        // Two missing hours: the simulator's own gaps do that; no alert.
        let two = evaluate(&r, &hours(&[&[(1, 2)], &[(1, 2)], &[]]), &Known::new(), &p);
        assert!(two.findings.is_empty(), "{:?}", two.findings);
        // Three: an alert starting at the first of them (17h).
        let three = evaluate(
            &r,
            &hours(&[&[(1, 2)], &[(1, 2)], &[(1, 2)], &[]]),
            &Known::new(),
            &p,
        );
        assert_eq!(three.findings.len(), 1);
        let f = &three.findings[0];
        assert_eq!(
            (f.rule, f.store_id, f.sensor_id),
            (Rule::SensorSilent, 1, Some(2))
        );
        assert_eq!(
            f.start,
            HourSlot::new(NaiveDate::from_ymd_opt(2024, 10, 14).expect("d"), 17)
                .expect("slot")
                .start_utc()
        );
        assert!(!three.needs_more);
        // The same three with no older hour read: the start may be earlier.
        let window = hours(&[&[(1, 2)], &[(1, 2)], &[(1, 2)]]);
        let open = evaluate(&r, &window, &Known::new(), &p);
        assert!(open.needs_more);
        // Unless a previous run found it open since earlier: that start, nothing more read.
        let since = window[2].slot.expect("slot").start_utc() - chrono::Duration::hours(20);
        let known: Known = [((Rule::SensorSilent, 1, Some(2)), since)].into();
        let hinted = evaluate(&r, &window, &known, &p);
        assert!(!hinted.needs_more);
        assert_eq!(hinted.findings[0].start, since);
        // An hour not arrived yet neither breaks nor extends the run.
        let mut h = hours(&[&[(1, 2)], &[(1, 2)], &[(1, 2)], &[]]);
        h[1].visitors_arrived = false;
        h[1].silent.clear();
        assert!(evaluate(&r, &h, &Known::new(), &p).findings.is_empty());
    }

    #[test]
    fn zeros_are_stuck_only_while_the_store_counts_people() {
        let r = reference();
        let p = DetectParams::default();
        let mut h = hours(&[&[], &[], &[], &[]]);
        for state in h.iter_mut().take(3) {
            state.zero.insert((1, 1));
        }
        let found = evaluate(&r, &h, &Known::new(), &p).findings;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, Rule::SensorStuckZero);
        // The whole store at zero (closed): nobody is stuck.
        for state in h.iter_mut().take(3) {
            state.zero.extend([(1, 2), (1, 3)]);
        }
        assert!(evaluate(&r, &h, &Known::new(), &p).findings.is_empty());
    }

    #[test]
    fn a_till_with_traffic_and_no_sale_is_down_after_its_minimum() {
        let r = reference();
        let p = DetectParams::default();
        let mut h = hours(&[&[], &[], &[]]);
        h[0].no_sale.insert(2);
        assert!(evaluate(&r, &h, &Known::new(), &p).findings.is_empty());
        h[1].no_sale.insert(2);
        let found = evaluate(&r, &h, &Known::new(), &p).findings;
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].rule, found[0].store_id), (Rule::TillFeedDown, 2));
        // No sale in an empty store is no till failure.
        h[0].zero.extend([(2, 1), (2, 2)]);
        h[1].zero.extend([(2, 1), (2, 2)]);
        assert!(evaluate(&r, &h, &Known::new(), &p).findings.is_empty());
    }
}
