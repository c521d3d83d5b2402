//! Server side of the alerts page, the header's count and the delivery channels page. The
//! viewer's store scope goes into every warehouse call (`pipeline::warehouse::alerts`):
//! another store is refused (403, only its number) before anything of it is read. Acting
//! on alerts is for admins and store managers (`Role::may_handle_alerts`); channels are
//! for admins.

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use leptos::prelude::expect_context;
use pipeline::access::{StoreScope, Viewer};
use pipeline::alerts::channel::{ChannelKind, DeliveryStatus, NewChannel};
use pipeline::alerts::lifecycle::{Alert, AlertQuery, AlertStatus};
use pipeline::alerts::silence::{NewSilence, Recurrence, Silence};
use pipeline::warehouse::alerts::{Actor, AlertError};

use super::query::AlertsQuery;
use crate::access::refuse;
use crate::services::{
    paris_day_start as day_start, paris_local_to_utc as local_to_utc, paris_time, unavailable,
    Services,
};
use crate::wire::{
    AlertCounts, AlertRow, AlertsView, ChannelAdded, ChannelsView, DeliveryRow, LoadError,
    SilenceRow, TestOutcome,
};

/// The page's name in the server's log.
const PAGE: &str = "alerts";
/// Alerts listed at most (the counts cover every one read).
const LISTED: usize = 200;
/// Deliveries read for the channels page (the failed and pending ones are shown).
const DELIVERIES_READ: i64 = 200;
/// The longest comment and reason.
const TEXT_MAX: usize = 500;
/// The form's time format (`datetime-local`).
const LOCAL: &str = "%Y-%m-%dT%H:%M";
/// How times are shown.
const SHOWN: &str = "%Y-%m-%d %H:%M";

fn services() -> Services {
    expect_context::<Services>()
}

/// A store's name as the pages show it.
fn store_name(services: &Services, store_id: i64) -> String {
    u32::try_from(store_id)
        .ok()
        .and_then(|id| services.simulator.reference().store(id))
        .map(|s| s.city_store.clone())
        .unwrap_or_else(|| store_id.to_string())
}

/// The viewer, if they may acknowledge and silence; anyone else gets a 403.
fn actor_viewer() -> Result<Viewer, LoadError> {
    let v = crate::access::viewer()?;
    if !v.role.may_handle_alerts() {
        return Err(refuse(LoadError::NotAllowed));
    }
    Ok(v)
}

/// A refusal or failure of the alerts store, as the page's answer: a form's mistake is a
/// code (`Ok(Some(code))`), a store outside the viewer's is a 403.
fn answer(e: AlertError, invalid: &'static str) -> Result<Option<String>, LoadError> {
    match e {
        AlertError::Forbidden(f) => Err(refuse(LoadError::Forbidden {
            store_id: f.store_id,
        })),
        AlertError::NotAllowed(_) => Err(refuse(LoadError::NotAllowed)),
        AlertError::NotFound { .. } => Ok(Some("unknown".into())),
        AlertError::AlreadyAcknowledged(_) => Ok(Some("state".into())),
        AlertError::Taken(_) => Ok(Some("taken".into())),
        AlertError::Invalid(message) => {
            tracing::info!(page = PAGE, %message, "refused");
            Ok(Some(invalid.into()))
        }
        AlertError::Warehouse(e) => Err(unavailable(PAGE)(e)),
    }
}

/// A change's answer to the form: nothing to say when it was made, else [`answer`].
fn done<T>(r: Result<T, AlertError>, invalid: &'static str) -> Result<Option<String>, LoadError> {
    r.map(|_| None).or_else(|e| answer(e, invalid))
}

fn alert_row(services: &Services, a: Alert) -> AlertRow {
    let (by, at, comment) = match a.acknowledgement {
        Some(ack) => (
            Some(ack.by),
            Some(paris_time(ack.at, SHOWN)),
            Some(ack.comment),
        ),
        None => (None, None, None),
    };
    AlertRow {
        id: a.id,
        rule: a.rule,
        severity: a.severity,
        status: a.status,
        store_id: u32::try_from(a.store_id).unwrap_or_default(),
        store_name: store_name(services, a.store_id),
        sensor_id: a.sensor_id.and_then(|s| u32::try_from(s).ok()),
        start: paris_time(a.start, SHOWN),
        end: a.end.map(|t| paris_time(t, SHOWN)),
        observed: a.observed,
        expected: a.expected,
        acknowledged_by: by,
        acknowledged_at: at,
        comment,
        resolved_at: a.resolved_at.map(|t| paris_time(t, SHOWN)),
    }
}

fn silence_row(services: &Services, s: Silence) -> SilenceRow {
    SilenceRow {
        id: s.id,
        store_id: s
            .store_id
            .and_then(|id| u32::try_from(id).ok())
            .unwrap_or_default(),
        store_name: match s.store_id {
            Some(id) => store_name(services, id),
            None => "—".into(),
        },
        sensor_id: s.sensor_id.and_then(|id| u32::try_from(id).ok()),
        from: paris_time(s.start, SHOWN),
        to: paris_time(s.effective_end(), SHOWN),
        days: s
            .recurrence
            .map(|r| (0..7).filter(|d| r.weekdays & (1 << d) != 0).collect())
            .unwrap_or_default(),
        hours: s.recurrence.map(|r| (r.hour_from, r.hour_to)),
        reason: s.reason,
        created_by: s.created_by,
    }
}

/// Open first, then acknowledged, then resolved; newest first within each.
fn rank(s: AlertStatus) -> u8 {
    match s {
        AlertStatus::Open => 0,
        AlertStatus::Acknowledged => 1,
        AlertStatus::Resolved => 2,
    }
}

pub async fn view(q: AlertsQuery) -> Result<AlertsView, LoadError> {
    let viewer = crate::access::viewer()?;
    let services = services();
    if let Err(f) = viewer.scope.check(q.store) {
        return Err(refuse(LoadError::Forbidden {
            store_id: f.store_id,
        }));
    }
    let w = services.warehouse_for(PAGE)?;
    // One read for the list and the tabs' counts: every state, the other filters.
    let query = AlertQuery {
        store_id: q.store.map(i64::from),
        rule: q.rule,
        severity: q.severity,
        status: None,
        limit: Some(AlertQuery::MAX_ROWS),
        ..AlertQuery::default()
    };
    let mut alerts = w
        .alerts(&query, &viewer.scope)
        .await
        .map_err(unavailable(PAGE))?;
    let mut counts = AlertCounts::default();
    for a in &alerts {
        match a.status {
            AlertStatus::Open => counts.open += 1,
            AlertStatus::Acknowledged => counts.acknowledged += 1,
            AlertStatus::Resolved => counts.resolved += 1,
        }
    }
    counts.capped = alerts.len() as i64 >= AlertQuery::MAX_ROWS;
    alerts.retain(|a| q.status.is_none_or(|s| a.status == s));
    alerts.sort_by(|a, b| {
        rank(a.status)
            .cmp(&rank(b.status))
            .then(b.start.cmp(&a.start))
            .then(b.id.cmp(&a.id))
    });
    let matching = alerts.len() as u64;
    let now = services.clock.now();
    let silences = w
        .silences(&viewer.scope, None)
        .await
        .map_err(unavailable(PAGE))?
        .into_iter()
        .filter(|s| s.effective_end() > now && s.store_id.is_some())
        .map(|s| silence_row(&services, s))
        .collect();
    Ok(AlertsView {
        stores: services.store_infos_in(&viewer.scope),
        alerts: alerts
            .into_iter()
            .take(LISTED)
            .map(|a| alert_row(&services, a))
            .collect(),
        matching,
        counts,
        silences,
        can_act: viewer.role.may_handle_alerts(),
        can_manage_channels: viewer.is_admin(),
        now: paris_time(now, "%Y-%m-%dT%H:00"),
    })
}

/// The header's count: open alerts of the viewer's stores; nothing for a visitor who is
/// not signed in (no refusal status: the header is on public pages too).
pub async fn open_count() -> Result<Option<u64>, LoadError> {
    let Some(viewer) = crate::access::visitor().viewer().cloned() else {
        return Ok(None);
    };
    let services = services();
    let Some(w) = services.warehouse.as_ref() else {
        return Ok(None);
    };
    let n = w
        .open_alert_count(&viewer.scope)
        .await
        .map_err(unavailable(PAGE))?;
    Ok(Some(u64::try_from(n).unwrap_or_default()))
}

pub async fn acknowledge(id: i64, comment: String) -> Result<Option<String>, LoadError> {
    let viewer = actor_viewer()?;
    let services = services();
    let w = services.warehouse_for(PAGE)?;
    let comment = comment.trim();
    if comment.is_empty() || comment.chars().count() > TEXT_MAX {
        return Ok(Some("comment".into()));
    }
    let address = crate::access::client_address();
    let actor = Actor {
        viewer: &viewer,
        address: &address,
    };
    done(
        w.acknowledge_alert(id, actor, comment, services.clock.now())
            .await,
        "comment",
    )
}

/// What a silence form asks for, checked: the range, and the recurrence when days are
/// ticked (those days, from the start's hour to the end's hour, from the start's day
/// through the end's day). `Err(code)` for the page.
/// A silence's time range (UTC) and weekly recurrence, read from the form.
#[derive(Debug, PartialEq)]
struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    recurrence: Option<Recurrence>,
}

fn silence_range(from: &str, to: &str, weekdays: &[u32]) -> Result<Window, &'static str> {
    let (Ok(from), Ok(to)) = (
        NaiveDateTime::parse_from_str(from.trim(), LOCAL),
        NaiveDateTime::parse_from_str(to.trim(), LOCAL),
    ) else {
        return Err("date");
    };
    if weekdays.is_empty() {
        let (a, b) = (local_to_utc(from), local_to_utc(to));
        return if b > a {
            Ok(Window {
                start: a,
                end: b,
                recurrence: None,
            })
        } else {
            Err("range")
        };
    }
    let hour_to = match (to.hour(), to.minute()) {
        (0, 0) => 24,
        (h, 0) => h,
        (h, _) => h + 1,
    };
    let r = Recurrence::new(weekdays.iter().copied(), from.hour(), hour_to);
    let last = to.date().succ_opt().ok_or("date")?;
    if !r.is_valid() || to.date() < from.date() {
        return Err("range");
    }
    Ok(Window {
        start: day_start(from.date()),
        end: day_start(last),
        recurrence: Some(r),
    })
}

pub async fn silence(
    store_id: u32,
    sensor_id: Option<u32>,
    from: String,
    to: String,
    weekdays: Vec<u32>,
    reason: String,
) -> Result<Option<String>, LoadError> {
    let viewer = actor_viewer()?;
    // Another store is refused before anything else is looked at.
    if let Err(f) = viewer.scope.check(Some(store_id)) {
        return Err(refuse(LoadError::Forbidden {
            store_id: f.store_id,
        }));
    }
    let services = services();
    let w = services.warehouse_for(PAGE)?;
    let reference = services.simulator.reference();
    if reference.store(store_id).is_none() {
        return Ok(Some("store".into()));
    }
    if let Some(s) = sensor_id {
        if !reference
            .sensors_of(store_id)
            .iter()
            .any(|x| x.sensor_id == s)
        {
            return Ok(Some("sensor".into()));
        }
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > TEXT_MAX {
        return Ok(Some("reason".into()));
    }
    let window = match silence_range(&from, &to, &weekdays) {
        Ok(w) => w,
        Err(code) => return Ok(Some(code.into())),
    };
    let address = crate::access::client_address();
    let actor = Actor {
        viewer: &viewer,
        address: &address,
    };
    let new = NewSilence {
        store_id: Some(i64::from(store_id)),
        sensor_id: sensor_id.map(i64::from),
        start: window.start,
        end: window.end,
        recurrence: window.recurrence,
        reason: reason.to_string(),
    };
    done(
        w.create_silence(&new, actor, services.clock.now()).await,
        "range",
    )
}

/// The admin asking, with the services.
fn admin() -> Result<(Viewer, Services), LoadError> {
    Ok((crate::access::admin()?, services()))
}

pub async fn channels() -> Result<ChannelsView, LoadError> {
    let (viewer, services) = admin()?;
    let w = services.warehouse_for(PAGE)?;
    let address = crate::access::client_address();
    let actor = Actor {
        viewer: &viewer,
        address: &address,
    };
    let fail = |e: AlertError| match e {
        AlertError::Warehouse(e) => unavailable(PAGE)(e),
        AlertError::NotAllowed(_) | AlertError::Forbidden(_) => refuse(LoadError::NotAllowed),
        other => {
            tracing::error!(page = PAGE, error = %other, "cannot read the channels");
            LoadError::Unavailable
        }
    };
    let channels = w.channels(actor).await.map_err(fail)?;
    let deliveries = w
        .deliveries(None, DELIVERIES_READ, actor)
        .await
        .map_err(fail)?
        .into_iter()
        .filter(|d| d.status != DeliveryStatus::Sent)
        .map(|d| DeliveryRow {
            id: d.id,
            channel: d.channel_name.clone(),
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error.clone(),
            created: paris_time(d.created_at, SHOWN),
            next_attempt: (d.status == DeliveryStatus::Pending)
                .then(|| paris_time(d.next_attempt_at, SHOWN)),
            store_name: (!d.is_test()).then(|| store_name(&services, d.store_id)),
            test: d.is_test(),
        })
        .collect();
    Ok(ChannelsView {
        channels,
        deliveries,
        stores: services.store_infos(),
    })
}

/// Only the chain's stores, each once; none means every store.
fn channel_scope(services: &Services, stores: Vec<u32>) -> StoreScope {
    let reference = services.simulator.reference();
    let known: std::collections::BTreeSet<u32> = stores
        .into_iter()
        .filter(|s| reference.store(*s).is_some())
        .collect();
    if known.is_empty() {
        StoreScope::All
    } else {
        StoreScope::Only(known)
    }
}

pub async fn add_channel(
    kind: String,
    label: String,
    target: String,
    stores: Vec<u32>,
    lang: String,
) -> Result<ChannelAdded, LoadError> {
    let (viewer, services) = admin()?;
    let w = services.warehouse_for(PAGE)?;
    let refused = |code: &str| {
        Ok(ChannelAdded {
            error: Some(code.to_string()),
            secret: None,
        })
    };
    let Some(kind) = ChannelKind::from_key(&kind) else {
        return refused("kind");
    };
    let name = label.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return refused("label");
    }
    // The signing secret of a webhook is made here and shown once.
    let secret = match kind {
        ChannelKind::Webhook => match pipeline::alerts::delivery::webhook::new_secret() {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!(page = PAGE, error = %e, "cannot draw a webhook secret");
                return Err(LoadError::Unavailable);
            }
        },
        ChannelKind::Slack | ChannelKind::Email => None,
    };
    let new = NewChannel {
        name: name.to_string(),
        kind,
        target: target.trim().to_string(),
        secret: secret.clone(),
        scope: channel_scope(&services, stores),
        lang: if lang == "en" { "en" } else { "fr" }.to_string(),
    };
    // The target is the only field left that the store's checks can refuse.
    if pipeline::warehouse::alerts::validate_channel(&new).is_err() {
        return refused("target");
    }
    let address = crate::access::client_address();
    let actor = Actor {
        viewer: &viewer,
        address: &address,
    };
    match w.create_channel(&new, actor, services.clock.now()).await {
        Ok(_) => Ok(ChannelAdded {
            error: None,
            secret,
        }),
        Err(e) => answer(e, "target").map(|code| ChannelAdded {
            error: code,
            secret: None,
        }),
    }
}

pub async fn disable_channel(id: i64) -> Result<Option<String>, LoadError> {
    let (viewer, services) = admin()?;
    let w = services.warehouse_for(PAGE)?;
    let address = crate::access::client_address();
    let actor = Actor {
        viewer: &viewer,
        address: &address,
    };
    done(
        w.set_channel_enabled(id, false, actor, services.clock.now())
            .await,
        "unknown",
    )
}

pub async fn test_channel(id: i64) -> Result<TestOutcome, LoadError> {
    let (viewer, services) = admin()?;
    let w = services.warehouse_for(PAGE)?;
    let Some(deliverer) = services.pipeline.as_ref().and_then(|p| p.delivery.as_ref()) else {
        tracing::error!(page = PAGE, "no deliverer: this server cannot send alerts");
        return Err(LoadError::Unavailable);
    };
    let address = crate::access::client_address();
    let actor = Actor {
        viewer: &viewer,
        address: &address,
    };
    match deliverer
        .send_test(w, id, actor, services.clock.now())
        .await
    {
        Ok(d) => Ok(TestOutcome {
            ok: d.status == DeliveryStatus::Sent,
            status: d.status,
            detail: d.last_error.unwrap_or_default(),
        }),
        Err(e) => match answer(e, "unknown") {
            Ok(_) => Err(LoadError::Failed),
            Err(e) => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silence_form_reads_in_paris_time() {
        // 2025-03-12 is a Wednesday; Paris is UTC+1 then.
        let w = silence_range("2025-03-12T09:00", "2025-03-12T12:30", &[]).expect("ok");
        assert_eq!(w.start.to_rfc3339(), "2025-03-12T08:00:00+00:00");
        assert_eq!(w.end.to_rfc3339(), "2025-03-12T11:30:00+00:00");
        assert!(w.recurrence.is_none());
        assert_eq!(
            silence_range("2025-03-12T12:00", "2025-03-12T09:00", &[]).err(),
            Some("range")
        );
        assert_eq!(silence_range("12/03/2025", "x", &[]).err(), Some("date"));
    }

    #[test]
    fn a_weekly_silence_covers_its_days_and_hours_through_the_last_day() {
        let w = silence_range("2025-03-12T09:00", "2025-03-26T12:30", &[2]).expect("weekly");
        let r = w.recurrence.expect("recurrence");
        assert_eq!((r.weekdays, r.hour_from, r.hour_to), (0b100, 9, 13));
        // From the first day's midnight to the day after the last (Paris, UTC+1).
        assert_eq!(w.start.to_rfc3339(), "2025-03-11T23:00:00+00:00");
        assert_eq!(w.end.to_rfc3339(), "2025-03-26T23:00:00+00:00");
        // Hours out of order: refused; an end at midnight covers the day's last hour.
        assert_eq!(
            silence_range("2025-03-12T14:00", "2025-03-26T09:00", &[2]).err(),
            Some("range")
        );
        let to_midnight = silence_range("2025-03-12T09:00", "2025-03-26T00:00", &[2]);
        assert_eq!(
            to_midnight.map(|w| w.recurrence.map(|r| r.hour_to)),
            Ok(Some(24))
        );
    }
}
