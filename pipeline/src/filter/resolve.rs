//! Turning the URL's filters into a KPI filter: defaults and validation (server side).
//! The dashboard's server function and the CSV export both go through here.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::period::{check_period, FilterError};
use super::query::DashboardQuery;
use crate::access::{Forbidden, StoreScope};
use crate::calendar::OPENING_HOURS;
use crate::clock::HourSlot;
use crate::kpi::KpiFilter;
use crate::reference::Reference;

/// The last complete Monday–Sunday week before `now` (Paris time).
pub fn last_complete_week(now: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let today = HourSlot::containing(now).date;
    let monday_this_week = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    (
        monday_this_week - Duration::days(7),
        monday_this_week - Duration::days(1),
    )
}

/// Resolves the query into a filter, or a message in the page's language.
pub fn resolve(
    q: &DashboardQuery,
    reference: &Reference,
    now: DateTime<Utc>,
) -> Result<KpiFilter, String> {
    resolve_detailed(q, reference, now).map_err(|e| e.message)
}

/// Why a query cannot be answered for this person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopedError {
    /// The filter itself is wrong (the field and a message).
    Invalid(FilterError),
    /// It asks for a store outside the person's scope (403).
    Forbidden(Forbidden),
}

/// Resolves the query for a person limited to `scope`: one store of theirs, or "all
/// stores" meaning all of *their* stores. A store outside the scope is refused before
/// any query runs. Every place a figure leaves the server resolves its filter here.
pub fn resolve_scoped(
    q: &DashboardQuery,
    reference: &Reference,
    now: DateTime<Utc>,
    scope: &StoreScope,
) -> Result<KpiFilter, ScopedError> {
    // The scope is checked first: a refused store learns nothing from validation either.
    if let Some(id) = q.store.filter(|s| *s != 0) {
        scope.check(Some(id)).map_err(ScopedError::Forbidden)?;
    }
    let mut f = resolve_detailed(q, reference, now).map_err(ScopedError::Invalid)?;
    scope.check(f.store_id).map_err(ScopedError::Forbidden)?;
    f.within_stores = scope.limited_to().map(|s| s.iter().copied().collect());
    Ok(f)
}

/// [`resolve`], saying which field is wrong. Not scoped: for code paths that are not a
/// person's request (tests, benchmarks); requests go through [`resolve_scoped`].
pub fn resolve_detailed(
    q: &DashboardQuery,
    reference: &Reference,
    now: DateTime<Utc>,
) -> Result<KpiFilter, FilterError> {
    let err = |field: &'static str, message: String| FilterError { field, message };
    let lang = q.lang();
    let (default_from, default_to) = last_complete_week(now);
    let parse = |s: &Option<String>, default: NaiveDate, name: &str| -> Result<NaiveDate, String> {
        match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| {
                lang.pick("Date invalide", "Invalid date").to_string()
                    + &format!(
                        " ({name} = {text:?}, {})",
                        lang.pick("AAAA-MM-JJ", "YYYY-MM-DD")
                    )
            }),
        }
    };
    let from = parse(&q.from, default_from, "from").map_err(|m| err("from", m))?;
    let to = parse(&q.to, default_to, "to").map_err(|m| err("to", m))?;
    check_period(from, to, lang)?;
    let h0 = q.h0.unwrap_or(*OPENING_HOURS.start());
    let h1 = q.h1.unwrap_or(*OPENING_HOURS.end());
    if !OPENING_HOURS.contains(&h0) || !OPENING_HOURS.contains(&h1) || h0 > h1 {
        return Err(err(
            "h1",
            lang.pick(
                "Plage horaire invalide : de 9h à 19h, début avant fin.",
                "Invalid hour range: 9 to 19, start before end.",
            )
            .into(),
        ));
    }
    let store_id = match q.store {
        None | Some(0) => None,
        Some(id) => match reference.store(id) {
            Some(s) => Some(s.store_id),
            None => {
                return Err(err(
                    "store",
                    format!("{} {id}", lang.pick("Magasin inconnu :", "Unknown store:")),
                ))
            }
        },
    };
    // Sensor boxes sent by the plain form for another store than the one chosen now.
    let stale_sensors = q.sensors_for.is_some() && q.sensors_for != store_id;
    let mut sensor_ids: Vec<u32> = match store_id {
        Some(_) if stale_sensors => Vec::new(),
        Some(s) => {
            let known: Vec<u32> = reference
                .sensors_of(s)
                .iter()
                .map(|x| x.sensor_id)
                .collect();
            if let Some(bad) = q.sensors.iter().find(|id| !known.contains(id)) {
                return Err(err(
                    "sensors",
                    format!(
                        "{} {bad}",
                        lang.pick(
                            "Capteur inconnu pour ce magasin :",
                            "Unknown sensor for this store:"
                        )
                    ),
                ));
            }
            q.sensors.clone()
        }
        None => Vec::new(),
    };
    sensor_ids.sort_unstable();
    sensor_ids.dedup();
    Ok(KpiFilter {
        store_id,
        sensor_ids,
        within_stores: None,
        from,
        to,
        hour_from: h0,
        hour_to: h1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_last_complete_week() {
        // Friday 2026-11-27 → Monday 16 to Sunday 22 November.
        let now = DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .expect("ts")
            .with_timezone(&Utc);
        let (a, b) = last_complete_week(now);
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2026-11-16".into(), "2026-11-22".into())
        );
        let f = resolve(&DashboardQuery::default(), &Reference::embedded(), now).expect("filter");
        assert_eq!(
            (f.from, f.to, f.store_id, f.hour_from, f.hour_to),
            (a, b, None, 9, 19)
        );
    }

    #[test]
    fn bad_filters_are_explained() {
        let now = Utc::now();
        let r = Reference::embedded();
        let q = |f: fn(&mut DashboardQuery)| {
            let mut q = DashboardQuery::default();
            f(&mut q);
            resolve(&q, &r, now)
        };
        assert!(q(|q| q.from = Some("2025-13-01".into())).is_err());
        assert!(q(|q| {
            q.from = Some("2025-03-10".into());
            q.to = Some("2025-03-01".into())
        })
        .is_err());
        assert!(q(|q| q.h0 = Some(8)).is_err());
        assert!(q(|q| {
            q.h0 = Some(15);
            q.h1 = Some(10)
        })
        .is_err());
        assert!(q(|q| q.store = Some(99)).is_err());
        assert!(q(|q| {
            q.store = Some(10);
            q.sensors = vec![6]
        })
        .is_err());
        let ok = q(|q| {
            q.store = Some(10);
            q.sensors = vec![5, 2, 2]
        })
        .expect("valid");
        assert_eq!(ok.sensor_ids, vec![2, 5]);
    }

    #[test]
    fn scope_limits_all_stores_and_refuses_others() {
        let now = Utc::now();
        let r = Reference::embedded();
        let manager = StoreScope::Only([1, 3].into_iter().collect());
        let mut q = DashboardQuery::default();
        let f = resolve_scoped(&q, &r, now, &manager).expect("all of theirs");
        assert_eq!((f.store_id, f.within_stores), (None, Some(vec![1, 3])));
        q.store = Some(3);
        let f = resolve_scoped(&q, &r, now, &manager).expect("one of theirs");
        assert_eq!((f.store_id, f.within_stores), (Some(3), Some(vec![1, 3])));
        q.store = Some(2);
        assert_eq!(
            resolve_scoped(&q, &r, now, &manager),
            Err(ScopedError::Forbidden(Forbidden { store_id: 2 }))
        );
        // Refused even when the rest of the filter is invalid: nothing is validated first.
        q.from = Some("bad".into());
        assert!(matches!(
            resolve_scoped(&q, &r, now, &manager),
            Err(ScopedError::Forbidden(_))
        ));
        let f =
            resolve_scoped(&DashboardQuery::default(), &r, now, &StoreScope::All).expect("analyst");
        assert_eq!(f.within_stores, None);
    }
}
