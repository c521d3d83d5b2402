//! The sales' day rules: plausible ranges, then every missing open store-hour filled
//! from the store's visitors and its daily shape.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::history::scaled;
use super::rules::*;
use crate::clean_rows::{CleanTransaction, CleanVisitor, Rule};
use crate::records::TransactionRow;
use crate::reference::Reference;

/// False when every open store-hour of `date` has a plausible sales row: then no sale is
/// filled and the sales history need not be read. (True also when unsure.)
pub fn sales_may_need_filling(
    reference: &Reference,
    date: NaiveDate,
    rows: &[TransactionRow],
    last_hour: Option<u32>,
) -> bool {
    let grid = grid_hours(date, last_hour);
    if grid.is_empty() {
        return false;
    }
    let mut covered = std::collections::HashSet::with_capacity(rows.len());
    for r in rows {
        let (Some(tx), Some(ca)) = (r.transactions, r.chiffre_affaires) else {
            continue;
        };
        let plausible = TRANSACTIONS_RANGE.contains(&tx)
            && euros_to_cents(ca).is_some_and(|c| REVENUE_CENTS_RANGE.contains(&c));
        if !plausible || !crate::spelling::spells_date(&r.date, date) {
            continue;
        }
        if let Some(hour) = parse_hour(&r.heure).filter(|h| grid.contains(h)) {
            covered.insert((r.store_id, hour));
        }
    }
    let known = reference
        .stores()
        .iter()
        .flat_map(|s| grid.iter().map(move |h| (s.store_id as i64, *h)))
        .filter(|k| covered.contains(k))
        .count();
    known < reference.stores().len() * grid.len()
}

pub(super) fn clean_transactions(
    reference: &Reference,
    date: NaiveDate,
    input: &DayInput<'_>,
    visitors: &[CleanVisitor],
) -> (Vec<CleanTransaction>, Counts) {
    let rows = input.transactions;
    let mut counts = Counts::default();
    counts.add(Rule::RowsIn, rows.len() as i64);
    let mut taken = HashMap::with_capacity(rows.len());
    // store → hour → (transactions, cents), in order.
    let mut valid: BTreeMap<i64, BTreeMap<u32, (i64, i64)>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        let Some(hour) = row_rules(date, &r.date, &r.heure, input.last_hour, &mut counts) else {
            continue;
        };
        let (Some(tx), Some(ca)) = (r.transactions, r.chiffre_affaires) else {
            counts.add(Rule::NullDropped, 1);
            continue;
        };
        if u32::try_from(r.store_id)
            .ok()
            .and_then(|s| reference.store(s))
            .is_none()
        {
            counts.add(Rule::UnknownId, 1);
            continue;
        }
        let cents = euros_to_cents(ca);
        let key = (r.store_id, hour);
        let source = input.transaction_sources.get(i).copied().unwrap_or(0);
        if taken.contains_key(&key) {
            claim(&mut taken, key, source, &mut counts);
            continue;
        }
        // An implausible row does not take the slot: a later valid row may still fill it.
        let plausible = TRANSACTIONS_RANGE.contains(&tx)
            && cents.is_some_and(|c| REVENUE_CENTS_RANGE.contains(&c));
        if !plausible {
            counts.add(Rule::OutOfRange, 1);
            continue;
        }
        claim(&mut taken, key, source, &mut counts);
        valid
            .entry(r.store_id)
            .or_default()
            .insert(hour, (tx, cents.unwrap_or(0)));
    }

    // The store's visitors per hour (after the fill): the day's shape for stores
    // without sales history.
    let mut store_visitors: BTreeMap<(i64, u32), i64> = BTreeMap::new();
    for v in visitors {
        *store_visitors
            .entry((v.store_id as i64, v.hour))
            .or_default() += v.nb_visiteurs as i64;
    }
    let grid = grid_hours(date, input.last_hour);
    let empty = BTreeMap::new();
    let mut out = Vec::with_capacity(reference.stores().len() * grid.len());
    if !grid.is_empty() {
        for store in reference.stores() {
            let s = store.store_id as i64;
            let present = valid.get(&s).unwrap_or(&empty);
            for &hour in &grid {
                let (tx, cents, imputed) = match present.get(&hour) {
                    Some(&(t, c)) => (t, c, false),
                    None if present.is_empty() => {
                        counts.add(Rule::Unfillable, 1);
                        continue;
                    }
                    None => {
                        let h = input.history;
                        let means = |p: u32| h.store_means(s, p);
                        let profile = scaled(
                            means(hour).map(|m| m.0),
                            present
                                .iter()
                                .map(|(p, v)| (v.0 as f64, means(*p).map(|m| m.0))),
                        )
                        .zip(scaled(
                            means(hour).map(|m| m.1),
                            present
                                .iter()
                                .map(|(p, v)| (v.1 as f64, means(*p).map(|m| m.1))),
                        ));
                        let shape = |pick: fn(&(i64, i64)) -> i64| {
                            let at = store_visitors.get(&(s, hour)).map(|v| *v as f64);
                            scaled(
                                at.filter(|v| *v > 0.0),
                                present.iter().map(|(p, v)| {
                                    (
                                        pick(v) as f64,
                                        store_visitors.get(&(s, *p)).map(|x| *x as f64),
                                    )
                                }),
                            )
                        };
                        let (t, c) = profile
                            .or_else(|| shape(|v| v.0).zip(shape(|v| v.1)))
                            .unwrap_or_else(|| {
                                let n = present.len() as f64;
                                let (st, sc) = present
                                    .values()
                                    .fold((0i64, 0i64), |(a, b), v| (a + v.0, b + v.1));
                                (st as f64 / n, sc as f64 / n)
                            });
                        counts.add(Rule::SlotsFilled, 1);
                        (t.round().max(0.0) as i64, c.round().max(0.0) as i64, true)
                    }
                };
                out.push(CleanTransaction {
                    store_id: s as i32,
                    date,
                    hour,
                    nb_transactions: tx.clamp(0, i32::MAX as i64) as i32,
                    chiffre_affaires_centimes: cents,
                    imputed,
                });
            }
        }
    }
    counts.add(Rule::RowsOut, out.len() as i64);
    (out, counts)
}
