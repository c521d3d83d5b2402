//! The alerts as kept in the warehouse (migration 0010): their lifecycle from one detection
//! run's findings (open, refresh, resolve), what people do with them (acknowledge, silence),
//! the delivery channels and the deliveries (one digest per channel, run and store, claimed
//! atomically before sending). Times are Unix seconds.
//!
//! Replicas and re-runs: an alert is inserted only if its dedupe key is absent, a digest
//! only if its (channel, run, store) is absent, and a delivery is sent by whoever claims it
//! first; so N replicas applying the same findings open and send each alert once.
//!
//! Every function that reads alerts takes the asker's [`StoreScope`]; every change a person
//! makes takes an [`Actor`] (scope, role, address) and is written to the audit log.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::access::{Forbidden, StoreScope, Viewer};
use crate::alerts::channel::{Channel, ChannelKind, Delivery, DeliveryStatus, NewChannel};
use crate::alerts::finding::{Finding, Rule, Severity};
use crate::alerts::lifecycle::{Acknowledgement, Alert, AlertQuery, AlertStatus};
use crate::alerts::silence::{NewSilence, Recurrence, Silence};
use crate::warehouse::{Warehouse, WarehouseError};

/// Seconds since the epoch.
fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

/// `'rule_a','rule_b'`: the rules' keys as SQL literals (fixed identifiers, never input).
fn rule_list(rules: &[Rule]) -> String {
    rules
        .iter()
        .map(|r| format!("'{}'", r.key()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The instant of stored seconds (the epoch for a value out of chrono's range).
fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// Why a change to alerts, silences or channels was refused.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("no {what} {id}")]
    NotFound { what: &'static str, id: i64 },
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The action is for admins (channels, whole-chain silences).
    #[error("only an administrator may {0}")]
    NotAllowed(&'static str),
    #[error("alert {0} is already acknowledged")]
    AlreadyAcknowledged(i64),
    #[error("a channel named {0:?} already exists")]
    Taken(String),
    /// Bad input, worded for a person.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

impl From<sqlx::Error> for AlertError {
    fn from(e: sqlx::Error) -> Self {
        AlertError::Warehouse(e.into())
    }
}

/// Who changes something, for the scope checks and the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub viewer: &'a Viewer,
    /// The client's address (empty from the command line).
    pub address: &'a str,
}

impl Actor<'_> {
    /// The name written in the audit log and on the alert: the account, else `local`.
    pub fn name(&self) -> &str {
        self.viewer.name.as_deref().unwrap_or("local")
    }

    fn require_admin(&self, what: &'static str) -> Result<(), AlertError> {
        if self.viewer.is_admin() {
            Ok(())
        } else {
            Err(AlertError::NotAllowed(what))
        }
    }
}

/// One detection run, as the lifecycle sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectionRun {
    /// Its name, which the alerts it opens and its digests carry: `detect:<partition>`.
    pub name: String,
    /// The end of the data it looked at (the end of the hour or day): an alert last found
    /// by a later run is neither refreshed nor resolved by this one.
    pub as_of: DateTime<Utc>,
    /// The rules it checks: an unresolved alert of these rules that it no longer finds is
    /// resolved.
    pub rules: Vec<Rule>,
}

/// What applying a run's findings did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    /// Alerts inserted by this call (their key was absent).
    pub opened: u64,
    /// Of those, held back by a silence.
    pub silenced: u64,
    /// Alerts found again and updated.
    pub refreshed: u64,
    /// Alerts resolved (found with an end, or no longer found).
    pub resolved: u64,
}

/// A store's alerts from one detection run: what one delivery sends. Stored with the
/// delivery, so that every attempt sends the same message.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Digest {
    pub run: String,
    pub store_id: i64,
    /// The store's name (`city_store`), when known.
    pub store_name: Option<String>,
    pub alerts: Vec<DigestAlert>,
}

/// One alert in a digest.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DigestAlert {
    pub id: i64,
    pub key: String,
    pub rule: Rule,
    pub severity: Severity,
    pub store_id: i64,
    pub sensor_id: Option<i64>,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub observed: Option<f64>,
    pub expected: Option<f64>,
}

/// A delivery claimed for sending, with what it needs to be sent (the secret included:
/// server side only).
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub channel_id: i64,
    pub channel_name: String,
    pub kind: ChannelKind,
    pub target: String,
    pub secret: Option<String>,
    pub lang: String,
    pub run: String,
    pub store_id: i64,
    pub message_id: String,
    /// The digest (or test message) as JSON.
    pub payload: String,
    pub created_at: DateTime<Utc>,
    /// This attempt's number (1 for the first).
    pub attempt: i64,
}

/// The stored scope of a channel: (all_stores, stores).
fn scope_columns(scope: &StoreScope) -> (i64, String) {
    match scope {
        StoreScope::All => (1, String::new()),
        StoreScope::Only(set) => (
            0,
            set.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
        ),
    }
}

fn scope_of(all: i64, stores: &str) -> StoreScope {
    if all != 0 {
        StoreScope::All
    } else {
        StoreScope::Only(
            stores
                .split(',')
                .filter_map(|s| s.trim().parse().ok())
                .collect(),
        )
    }
}

/// `AND store_id IN (…)` for a limited scope (numbers only, never text from a request).
fn scope_sql(scope: &StoreScope, column: &str) -> String {
    match scope.limited_to() {
        None => String::new(),
        Some(set) if set.is_empty() => " AND 1 = 0".into(),
        Some(set) => format!(
            " AND {column} IN ({})",
            set.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
        ),
    }
}

/// True when the scope lets one see this store (ids out of `u32` never).
fn scope_allows(scope: &StoreScope, store_id: i64) -> bool {
    u32::try_from(store_id).is_ok_and(|s| scope.allows(s))
}

fn forbidden(store_id: i64) -> AlertError {
    AlertError::Forbidden(Forbidden {
        store_id: u32::try_from(store_id).unwrap_or(u32::MAX),
    })
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: i64,
    dedupe_key: String,
    rule: String,
    severity: String,
    store_id: i64,
    sensor_id: Option<i64>,
    starts_at: i64,
    ends_at: Option<i64>,
    observed: Option<f64>,
    expected: Option<f64>,
    status: String,
    opened_run: String,
    opened_at: i64,
    last_seen: i64,
    acknowledged_at: Option<i64>,
    acknowledged_by: Option<String>,
    ack_comment: Option<String>,
    resolved_at: Option<i64>,
    silence_id: Option<i64>,
}

const ALERT_COLUMNS: &str = "id, dedupe_key, rule, severity, store_id, sensor_id, starts_at, \
     ends_at, observed, expected, status, opened_run, opened_at, last_seen, acknowledged_at, \
     acknowledged_by, ack_comment, resolved_at, silence_id";

fn unknown(what: &'static str, key: &str) -> WarehouseError {
    WarehouseError::UnknownKey {
        what,
        key: key.to_string(),
    }
}

impl AlertRow {
    fn into_alert(self) -> Result<Alert, WarehouseError> {
        let acknowledgement = match (self.acknowledged_at, self.acknowledged_by) {
            (Some(t), Some(by)) => Some(Acknowledgement {
                by,
                at: at(t),
                comment: self.ack_comment.unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(Alert {
            id: self.id,
            rule: Rule::from_key(&self.rule).ok_or_else(|| unknown("alert rule", &self.rule))?,
            severity: Severity::from_key(&self.severity)
                .ok_or_else(|| unknown("alert severity", &self.severity))?,
            key: self.dedupe_key,
            store_id: self.store_id,
            sensor_id: self.sensor_id,
            start: at(self.starts_at),
            end: self.ends_at.map(at),
            observed: self.observed,
            expected: self.expected,
            status: AlertStatus::from_key(&self.status)
                .ok_or_else(|| unknown("alert status", &self.status))?,
            opened_run: self.opened_run,
            opened_at: at(self.opened_at),
            last_seen: at(self.last_seen),
            acknowledgement,
            resolved_at: self.resolved_at.map(at),
            silence_id: self.silence_id,
        })
    }
}

/// An unresolved alert as [`Warehouse::apply_findings`] compares a finding with it.
#[derive(sqlx::FromRow)]
struct UnresolvedRow {
    id: i64,
    dedupe_key: String,
    severity: String,
    ends_at: Option<i64>,
    observed: Option<f64>,
    expected: Option<f64>,
    first_seen: i64,
    last_seen: i64,
}

#[derive(sqlx::FromRow)]
struct SilenceRow {
    id: i64,
    store_id: Option<i64>,
    sensor_id: Option<i64>,
    starts_at: i64,
    ends_at: i64,
    weekdays: i64,
    hour_from: Option<i64>,
    hour_to: Option<i64>,
    reason: String,
    created_by: String,
    created_at: i64,
    lifted_at: Option<i64>,
    lifted_by: Option<String>,
}

const SILENCE_COLUMNS: &str = "id, store_id, sensor_id, starts_at, ends_at, weekdays, hour_from, \
     hour_to, reason, created_by, created_at, lifted_at, lifted_by";

impl SilenceRow {
    fn into_silence(self) -> Silence {
        let recurrence = match (self.weekdays, self.hour_from, self.hour_to) {
            (w, Some(from), Some(to)) if w != 0 => Some(Recurrence {
                weekdays: (w & 0x7f) as u8,
                hour_from: from.clamp(0, 24) as u32,
                hour_to: to.clamp(0, 24) as u32,
            }),
            _ => None,
        };
        Silence {
            id: self.id,
            store_id: self.store_id,
            sensor_id: self.sensor_id,
            start: at(self.starts_at),
            end: at(self.ends_at),
            recurrence,
            reason: self.reason,
            created_by: self.created_by,
            created_at: at(self.created_at),
            lifted_at: self.lifted_at.map(at),
            lifted_by: self.lifted_by,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ChannelRow {
    id: i64,
    name: String,
    kind: String,
    target: String,
    secret: Option<String>,
    all_stores: i64,
    stores: String,
    lang: String,
    enabled: i64,
    created_by: String,
    created_at: i64,
}

const CHANNEL_COLUMNS: &str =
    "id, name, kind, target, secret, all_stores, stores, lang, enabled, created_by, created_at";

/// The first characters of a secret, for recognising it.
fn hint(secret: &str) -> String {
    let shown: String = secret.chars().take(10).collect();
    format!("{shown}…")
}

/// A URL shown without what follows its host (a Slack URL's path is its secret).
fn mask_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("")),
        Err(_) => "…".into(),
    }
}

impl ChannelRow {
    fn kind(&self) -> Result<ChannelKind, WarehouseError> {
        ChannelKind::from_key(&self.kind).ok_or_else(|| unknown("channel kind", &self.kind))
    }

    fn into_channel(self) -> Result<Channel, WarehouseError> {
        let kind = self.kind()?;
        let target = match kind {
            ChannelKind::Slack => mask_url(&self.target),
            ChannelKind::Webhook | ChannelKind::Email => self.target,
        };
        Ok(Channel {
            id: self.id,
            name: self.name,
            kind,
            target,
            secret_hint: self.secret.as_deref().map(hint),
            scope: scope_of(self.all_stores, &self.stores),
            lang: self.lang,
            enabled: self.enabled != 0,
            created_by: self.created_by,
            created_at: at(self.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    channel_id: i64,
    channel_name: String,
    kind: String,
    run: String,
    store_id: i64,
    message_id: String,
    alert_count: i64,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    created_at: i64,
    sent_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: i64,
    channel_id: i64,
    name: String,
    kind: String,
    target: String,
    secret: Option<String>,
    lang: String,
    run: String,
    store_id: i64,
    message_id: String,
    payload: String,
    created_at: i64,
}

/// A delivery due at `$1`: pending and due, or claimed by a sender whose lease ran out.
const DUE: &str = "(d.status = 'pending' AND d.next_attempt_at <= $1) \
                   OR (d.status = 'sending' AND d.claimed_until < $1)";

const SELECT_DELIVERY: &str = "SELECT d.id, d.channel_id, c.name AS channel_name, c.kind, \
     d.run, d.store_id, d.message_id, d.alert_count, d.status, d.attempts, d.next_attempt_at, \
     d.last_error, d.created_at, d.sent_at \
     FROM alert_deliveries d JOIN alert_channels c ON c.id = d.channel_id";

impl DeliveryRow {
    fn into_delivery(self) -> Result<Delivery, WarehouseError> {
        Ok(Delivery {
            id: self.id,
            channel_id: self.channel_id,
            channel_name: self.channel_name,
            kind: ChannelKind::from_key(&self.kind)
                .ok_or_else(|| unknown("channel kind", &self.kind))?,
            run: self.run,
            store_id: self.store_id,
            message_id: self.message_id,
            alert_count: self.alert_count,
            status: DeliveryStatus::from_key(&self.status)
                .ok_or_else(|| unknown("delivery status", &self.status))?,
            attempts: self.attempts,
            next_attempt_at: at(self.next_attempt_at),
            last_error: self.last_error,
            created_at: at(self.created_at),
            sent_at: self.sent_at.map(at),
        })
    }
}

/// Checks what an admin configures; the secret must be `whsec_<base64>` of 24 to 64 bytes.
pub fn validate_channel(c: &NewChannel) -> Result<(), AlertError> {
    let invalid = |m: &str| Err(AlertError::Invalid(m.to_string()));
    let name = c.name.trim();
    if name.is_empty() || name.len() > 80 {
        return invalid("the channel's name must have 1 to 80 characters");
    }
    if !matches!(c.lang.as_str(), "fr" | "en") {
        return invalid("the channel's language must be fr or en");
    }
    match c.kind {
        ChannelKind::Webhook | ChannelKind::Slack => {
            let Ok(url) = url::Url::parse(c.target.trim()) else {
                return invalid("the target must be an http:// or https:// URL");
            };
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return invalid("the target must be an http:// or https:// URL");
            }
        }
        ChannelKind::Email => {
            let t = c.target.trim();
            let ok = t.split_once('@').is_some_and(|(user, host)| {
                !user.is_empty() && host.contains('.') && !t.contains(char::is_whitespace)
            });
            if !ok {
                return invalid("the target must be an email address (name@example.com)");
            }
        }
    }
    match (c.kind, &c.secret) {
        (ChannelKind::Webhook, Some(s)) => {
            if crate::alerts::delivery::webhook::secret_key(s).is_none() {
                return invalid(
                    "the webhook secret must be whsec_ followed by 24 to 64 bytes in base64",
                );
            }
        }
        (ChannelKind::Webhook, None) => {
            return invalid("a webhook channel needs a signing secret (whsec_…)")
        }
        (_, Some(_)) => return invalid("only webhook channels take a secret"),
        (_, None) => {}
    }
    Ok(())
}

impl Warehouse {
    /// Applies one detection run's findings, in one transaction: a finding whose key is
    /// absent opens an alert (resolved at once when found with an end; held back from
    /// delivery when a silence covers its start), one found again is refreshed (unless a
    /// later run has seen it), and an unresolved alert of the run's rules that the run no
    /// longer finds is resolved. Applying the same run again changes nothing.
    ///
    /// Cost: the run's unresolved alerts are read once; a condition that lasts unchanged (the
    /// common case, hour after hour) is refreshed with the others in one statement, so a
    /// large chain's hundreds of open conditions cost a few statements, not three each.
    pub async fn apply_findings(
        &self,
        run: &DetectionRun,
        findings: &[Finding],
        now: DateTime<Utc>,
    ) -> Result<Applied, WarehouseError> {
        let mut applied = Applied::default();
        let silences = if findings.is_empty() {
            Vec::new()
        } else {
            let earliest = findings.iter().map(|f| f.start).min().unwrap_or(run.as_of);
            self.silences_overlapping(earliest).await?
        };
        let as_of = ts(run.as_of);
        let found: HashSet<String> = findings.iter().map(Finding::dedupe_key).collect();
        let unresolved = if run.rules.is_empty() {
            None
        } else {
            Some(format!(
                "SELECT id, dedupe_key, severity, ends_at, observed, expected, first_seen, \
                 last_seen FROM alerts WHERE status <> 'resolved' AND rule IN ({})",
                rule_list(&run.rules)
            ))
        };
        let insert = "INSERT INTO alerts (dedupe_key, rule, severity, store_id, sensor_id, \
             starts_at, ends_at, observed, expected, status, opened_run, opened_at, first_seen, \
             last_seen, resolved_at, resolved_run, silence_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16) \
             ON CONFLICT (dedupe_key) DO NOTHING";
        let select = "SELECT id, status, last_seen, acknowledged_at, resolved_at FROM alerts \
                      WHERE dedupe_key = $1";
        let update =
            "UPDATE alerts SET severity = $2, ends_at = $3, observed = $4, expected = $5, \
             status = $6, last_seen = $7, resolved_at = $8, resolved_run = $9 WHERE id = $1";
        let resolve = "UPDATE alerts SET status = 'resolved', resolved_at = $2, resolved_run = $3 \
             WHERE id = $1 AND status <> 'resolved'";
        macro_rules! body {
            ($tx:ident, $adapt:expr) => {{
                let (insert, select, update, resolve) = (
                    $adapt(insert),
                    $adapt(select),
                    $adapt(update),
                    $adapt(resolve),
                );
                // The run's unresolved alerts, by key.
                let mut open: HashMap<String, UnresolvedRow> = HashMap::new();
                if let Some(sql) = &unresolved {
                    let rows: Vec<UnresolvedRow> = sqlx::query_as(&$adapt(sql.as_str()))
                        .fetch_all(&mut *$tx)
                        .await?;
                    open.extend(rows.into_iter().map(|r| (r.dedupe_key.clone(), r)));
                }
                // Lasting unchanged: only `last_seen` moves (one statement for them all).
                let mut unchanged: Vec<i64> = Vec::new();
                for f in findings {
                    let key = f.dedupe_key();
                    if let Some(r) = open.get(&key) {
                        if r.last_seen > as_of {
                            continue;
                        }
                        if f.end.is_none()
                            && r.ends_at.is_none()
                            && r.severity == f.severity.key()
                            && r.observed == f.observed
                            && r.expected == f.expected
                        {
                            unchanged.push(r.id);
                            continue;
                        }
                    }
                    let silence = silences
                        .iter()
                        .find(|s| s.covers(f.store_id, f.sensor_id, f.start))
                        .map(|s| s.id);
                    let (status, resolved_at, resolved_run) = match f.end {
                        Some(end) => (
                            AlertStatus::Resolved,
                            Some(ts(end)),
                            Some(run.name.as_str()),
                        ),
                        None => (AlertStatus::Open, None, None),
                    };
                    let inserted = if open.contains_key(&key) {
                        0
                    } else {
                        sqlx::query(&insert)
                            .bind(&key)
                            .bind(f.rule.key())
                            .bind(f.severity.key())
                            .bind(f.store_id)
                            .bind(f.sensor_id)
                            .bind(ts(f.start))
                            .bind(f.end.map(ts))
                            .bind(f.observed)
                            .bind(f.expected)
                            .bind(status.key())
                            .bind(&run.name)
                            .bind(ts(now))
                            .bind(as_of)
                            .bind(resolved_at)
                            .bind(resolved_run)
                            .bind(silence)
                            .execute(&mut *$tx)
                            .await?
                            .rows_affected()
                    };
                    if inserted == 1 {
                        applied.opened += 1;
                        applied.silenced += u64::from(silence.is_some());
                        applied.resolved += u64::from(f.end.is_some());
                        continue;
                    }
                    let (id, old, last_seen, acked, resolved): (
                        i64,
                        String,
                        i64,
                        Option<i64>,
                        Option<i64>,
                    ) = sqlx::query_as(&select)
                        .bind(&key)
                        .fetch_one(&mut *$tx)
                        .await?;
                    let was_resolved = old == AlertStatus::Resolved.key();
                    if last_seen > as_of
                        || (was_resolved && f.end.is_none() && resolved.is_some_and(|r| r >= as_of))
                    {
                        // A later run has seen it, or resolved it: an older partition run
                        // again says nothing new.
                        continue;
                    }
                    let (status, resolved_at, resolved_run) = match f.end {
                        Some(end) => (
                            AlertStatus::Resolved,
                            Some(ts(end)),
                            Some(run.name.as_str()),
                        ),
                        // Found again, lasting: reopened if a run had resolved it.
                        None if was_resolved => (
                            if acked.is_some() {
                                AlertStatus::Acknowledged
                            } else {
                                AlertStatus::Open
                            },
                            None,
                            None,
                        ),
                        None => (
                            AlertStatus::from_key(&old).unwrap_or(AlertStatus::Open),
                            None,
                            None,
                        ),
                    };
                    sqlx::query(&update)
                        .bind(id)
                        .bind(f.severity.key())
                        .bind(f.end.map(ts))
                        .bind(f.observed)
                        .bind(f.expected)
                        .bind(status.key())
                        .bind(as_of)
                        .bind(resolved_at)
                        .bind(resolved_run)
                        .execute(&mut *$tx)
                        .await?;
                    applied.refreshed += 1;
                    applied.resolved += u64::from(!was_resolved && status == AlertStatus::Resolved);
                }
                // Ids come from the database (integers): listed inline, 500 at a time.
                for chunk in unchanged.chunks(500) {
                    let ids = chunk
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(",");
                    let sql = format!("UPDATE alerts SET last_seen = $1 WHERE id IN ({ids})");
                    sqlx::query(&$adapt(sql.as_str()))
                        .bind(as_of)
                        .execute(&mut *$tx)
                        .await?;
                }
                applied.refreshed += unchanged.len() as u64;
                // Unresolved alerts of the run's rules that it no longer finds (and that no
                // later run has seen) are over.
                for r in open.values() {
                    if found.contains(&r.dedupe_key) || r.first_seen > as_of || r.last_seen > as_of
                    {
                        continue;
                    }
                    applied.resolved += sqlx::query(&resolve)
                        .bind(r.id)
                        .bind(as_of)
                        .bind(&run.name)
                        .execute(&mut *$tx)
                        .await?
                        .rows_affected();
                }
            }};
        }
        match self {
            Warehouse::Sqlite(p) => {
                // IMMEDIATE: the run reads its unresolved alerts before it writes; a deferred
                // transaction would then fail (SQLITE_BUSY_SNAPSHOT) when another replica
                // wrote in between, instead of waiting for the lock.
                let mut tx = p.begin_with("BEGIN IMMEDIATE").await?;
                body!(tx, |s: &str| crate::warehouse::sqlite(s));
                tx.commit().await?;
            }
            Warehouse::Postgres(p) => {
                let mut tx = p.begin().await?;
                body!(tx, |s: &str| s.to_string());
                tx.commit().await?;
            }
        }
        Ok(applied)
    }

    /// Enqueues the digests of a run: for every store with alerts this run opened (silenced
    /// ones left out), one delivery per enabled channel whose scope covers the store. A
    /// digest already enqueued (another replica, a re-run) is left alone. Returns how many
    /// were enqueued by this call.
    pub async fn enqueue_digests(
        &self,
        run: &str,
        store_names: &HashMap<i64, String>,
        now: DateTime<Utc>,
    ) -> Result<u64, WarehouseError> {
        let sql = &format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE opened_run = $1 AND silence_id IS NULL \
             ORDER BY store_id, starts_at, id"
        );
        let rows: Vec<AlertRow> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(run)
            .fetch_all(p)
            .await?);
        if rows.is_empty() {
            return Ok(0);
        }
        let mut per_store: BTreeMap<i64, Vec<DigestAlert>> = BTreeMap::new();
        for row in rows {
            let a = row.into_alert()?;
            per_store.entry(a.store_id).or_default().push(DigestAlert {
                id: a.id,
                key: a.key,
                rule: a.rule,
                severity: a.severity,
                store_id: a.store_id,
                sensor_id: a.sensor_id,
                start: a.start,
                end: a.end,
                observed: a.observed,
                expected: a.expected,
            });
        }
        let channels: Vec<ChannelRow> = {
            let sql = &format!("SELECT {CHANNEL_COLUMNS} FROM alert_channels WHERE enabled = 1");
            per_backend!(self, sql, |q, p| sqlx::query_as(q).fetch_all(p).await?)
        };
        let mut enqueued = 0;
        for (store_id, alerts) in per_store {
            let count = alerts.len() as i64;
            let digest = Digest {
                run: run.to_string(),
                store_id,
                store_name: store_names.get(&store_id).cloned(),
                alerts,
            };
            let payload = serde_json::to_string(&digest)
                .map_err(|e| WarehouseError::Data(format!("digest of {run}: {e}")))?;
            for c in &channels {
                if !scope_allows(&scope_of(c.all_stores, &c.stores), store_id) {
                    continue;
                }
                enqueued += self
                    .insert_delivery(c.id, run, store_id, &payload, count, now)
                    .await?;
            }
        }
        Ok(enqueued)
    }

    /// Inserts a delivery unless its (channel, run, store) exists; 1 if inserted.
    async fn insert_delivery(
        &self,
        channel_id: i64,
        run: &str,
        store_id: i64,
        payload: &str,
        alert_count: i64,
        now: DateTime<Utc>,
    ) -> Result<u64, WarehouseError> {
        let message_id = format!(
            "msg_{channel_id}_{store_id}_{}",
            run.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
        );
        let sql = "INSERT INTO alert_deliveries (channel_id, run, store_id, message_id, payload, \
                   alert_count, status, attempts, next_attempt_at, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7) \
                   ON CONFLICT DO NOTHING";
        Ok(per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(channel_id)
            .bind(run)
            .bind(store_id)
            .bind(&message_id)
            .bind(payload)
            .bind(alert_count)
            .bind(ts(now))
            .execute(p)
            .await?
            .rows_affected()))
    }

    /// The alerts `query` asks for within `scope`, newest start first.
    pub async fn alerts(
        &self,
        query: &AlertQuery,
        scope: &StoreScope,
    ) -> Result<Vec<Alert>, WarehouseError> {
        enum Bind {
            I(i64),
            S(&'static str),
        }
        let mut conditions = String::new();
        let mut binds: Vec<Bind> = Vec::new();
        let mut push = |cond: &str, b: Bind| {
            binds.push(b);
            conditions.push_str(&format!(" AND {cond}${}", binds.len()));
        };
        if let Some(since) = query.since {
            // Ends at or after `since`, or has no end yet.
            push(
                "COALESCE(ends_at, 9223372036854775807) > ",
                Bind::I(ts(since)),
            );
        }
        if let Some(until) = query.until {
            push("starts_at < ", Bind::I(ts(until)));
        }
        if let Some(store) = query.store_id {
            push("store_id = ", Bind::I(store));
        }
        if let Some(rule) = query.rule {
            push("rule = ", Bind::S(rule.key()));
        }
        if let Some(severity) = query.severity {
            push("severity = ", Bind::S(severity.key()));
        }
        if let Some(status) = query.status {
            push("status = ", Bind::S(status.key()));
        }
        let limit = query
            .limit
            .unwrap_or(AlertQuery::MAX_ROWS)
            .clamp(1, AlertQuery::MAX_ROWS);
        let sql = &format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE 1 = 1{conditions}{} \
             ORDER BY starts_at DESC, id DESC LIMIT {limit}",
            scope_sql(scope, "store_id")
        );
        let rows: Vec<AlertRow> = per_backend!(self, sql, |q, p| {
            let mut query = sqlx::query_as(q);
            for b in &binds {
                query = match b {
                    Bind::I(v) => query.bind(*v),
                    Bind::S(s) => query.bind(*s),
                };
            }
            query.fetch_all(p).await?
        });
        rows.into_iter().map(AlertRow::into_alert).collect()
    }

    /// One alert, if it exists and is within `scope`.
    pub async fn alert(
        &self,
        id: i64,
        scope: &StoreScope,
    ) -> Result<Option<Alert>, WarehouseError> {
        let sql = &format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1{}",
            scope_sql(scope, "store_id")
        );
        let row: Option<AlertRow> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(id)
            .fetch_optional(p)
            .await?);
        row.map(AlertRow::into_alert).transpose()
    }

    /// How many alerts are open (not acknowledged, not resolved) within `scope`: the
    /// navigation's count.
    pub async fn open_alert_count(&self, scope: &StoreScope) -> Result<i64, WarehouseError> {
        let sql = &format!(
            "SELECT COUNT(*) FROM alerts WHERE status = 'open'{}",
            scope_sql(scope, "store_id")
        );
        Ok(per_backend!(self, sql, |q, p| {
            sqlx::query_scalar::<_, i64>(q).fetch_one(p).await?
        }))
    }

    /// The unresolved alerts of `rules` as the findings that keep them open: what the next
    /// detection run continues from (see `alerts::detect::hourly_continuing`). Read on the
    /// `(status, store_id)` index: the open alerts, not the history.
    pub async fn unresolved_findings(
        &self,
        rules: &[Rule],
    ) -> Result<Vec<Finding>, WarehouseError> {
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        let sql = &format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE status IN ('open', 'acknowledged') \
             AND rule IN ({})",
            rule_list(rules)
        );
        let rows: Vec<AlertRow> =
            per_backend!(self, sql, |q, p| sqlx::query_as(q).fetch_all(p).await?);
        rows.into_iter()
            .map(|r| Ok(r.into_alert()?.finding()))
            .collect()
    }

    /// Records that `actor` saw alert `id` (with a comment): an open alert becomes
    /// acknowledged; a resolved one keeps its status and gains the note. Audited.
    pub async fn acknowledge_alert(
        &self,
        id: i64,
        actor: Actor<'_>,
        comment: &str,
        now: DateTime<Utc>,
    ) -> Result<Alert, AlertError> {
        let Some(alert) = self.alert(id, &StoreScope::All).await? else {
            return Err(AlertError::NotFound { what: "alert", id });
        };
        if !scope_allows(&actor.viewer.scope, alert.store_id) {
            return Err(forbidden(alert.store_id));
        }
        let comment = comment.trim();
        if comment.chars().count() > 1000 {
            return Err(AlertError::Invalid(
                "the comment must have at most 1,000 characters".into(),
            ));
        }
        let sql =
            "UPDATE alerts SET acknowledged_at = $2, acknowledged_by = $3, ack_comment = $4, \
                   status = CASE WHEN status = 'open' THEN 'acknowledged' ELSE status END \
                   WHERE id = $1 AND acknowledged_at IS NULL";
        let changed = per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(id)
            .bind(ts(now))
            .bind(actor.name())
            .bind(comment)
            .execute(p)
            .await?
            .rows_affected());
        if changed == 0 {
            return Err(AlertError::AlreadyAcknowledged(id));
        }
        self.audit(
            ts(now),
            actor.name(),
            actor.address,
            "alert acknowledged",
            &format!("alert {id} ({}): {comment}", alert.key),
        )
        .await?;
        self.alert(id, &StoreScope::All)
            .await?
            .ok_or(AlertError::NotFound { what: "alert", id })
    }

    /// Silences not lifted before `since` whose range ends after it (what may cover alerts
    /// starting from `since`).
    async fn silences_overlapping(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<Silence>, WarehouseError> {
        let sql = &format!(
            "SELECT {SILENCE_COLUMNS} FROM alert_silences WHERE ends_at > $1 \
             AND (lifted_at IS NULL OR lifted_at > $1) ORDER BY id"
        );
        let rows: Vec<SilenceRow> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(ts(since))
            .fetch_all(p)
            .await?);
        Ok(rows.into_iter().map(SilenceRow::into_silence).collect())
    }

    /// The silences within `scope` (a whole-chain silence is shown to everyone: it holds
    /// back their stores' alerts too), newest first; `active_at` keeps only those in force
    /// then (not ended, not lifted).
    pub async fn silences(
        &self,
        scope: &StoreScope,
        active_at: Option<DateTime<Utc>>,
    ) -> Result<Vec<Silence>, WarehouseError> {
        let scope_cond = match scope.limited_to() {
            None => String::new(),
            Some(_) => format!(
                " AND (store_id IS NULL OR (1 = 1{}))",
                scope_sql(scope, "store_id")
            ),
        };
        let active = if active_at.is_some() {
            " AND starts_at <= $1 AND ends_at > $1 AND (lifted_at IS NULL OR lifted_at > $1)"
        } else {
            " AND $1 = $1"
        };
        let sql = &format!(
            "SELECT {SILENCE_COLUMNS} FROM alert_silences WHERE 1 = 1{scope_cond}{active} \
             ORDER BY created_at DESC, id DESC"
        );
        let t = active_at.map(ts).unwrap_or(0);
        let rows: Vec<SilenceRow> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(t)
            .fetch_all(p)
            .await?);
        Ok(rows.into_iter().map(SilenceRow::into_silence).collect())
    }

    /// Adds a silence: a store or sensor within the actor's scope, or the whole chain for
    /// an admin. Audited. Returns it.
    pub async fn create_silence(
        &self,
        new: &NewSilence,
        actor: Actor<'_>,
        now: DateTime<Utc>,
    ) -> Result<Silence, AlertError> {
        match new.store_id {
            None => actor.require_admin("silence the whole chain")?,
            Some(store) if !scope_allows(&actor.viewer.scope, store) => {
                return Err(forbidden(store))
            }
            Some(_) => {}
        }
        if new.sensor_id.is_some() && new.store_id.is_none() {
            return Err(AlertError::Invalid(
                "a sensor is silenced within its store: give the store too".into(),
            ));
        }
        if new.end <= new.start {
            return Err(AlertError::Invalid(
                "the silence must end after it starts".into(),
            ));
        }
        if let Some(r) = new.recurrence {
            if !r.is_valid() {
                return Err(AlertError::Invalid(
                    "a recurring silence needs at least one weekday and hours in order (0 to 24)"
                        .into(),
                ));
            }
        }
        if new.reason.chars().count() > 500 {
            return Err(AlertError::Invalid(
                "the reason must have at most 500 characters".into(),
            ));
        }
        let (weekdays, from, to) = match new.recurrence {
            Some(r) => (
                i64::from(r.weekdays),
                Some(i64::from(r.hour_from)),
                Some(i64::from(r.hour_to)),
            ),
            None => (0, None, None),
        };
        let sql = "INSERT INTO alert_silences (store_id, sensor_id, starts_at, ends_at, weekdays, \
                   hour_from, hour_to, reason, created_by, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
        let id: i64 = per_backend!(self, sql, |q, p| sqlx::query_scalar(q)
            .bind(new.store_id)
            .bind(new.sensor_id)
            .bind(ts(new.start))
            .bind(ts(new.end))
            .bind(weekdays)
            .bind(from)
            .bind(to)
            .bind(new.reason.trim())
            .bind(actor.name())
            .bind(ts(now))
            .fetch_one(p)
            .await?);
        let what = match (new.store_id, new.sensor_id) {
            (None, _) => "whole chain".to_string(),
            (Some(s), None) => format!("store {s}"),
            (Some(s), Some(c)) => format!("store {s} sensor {c}"),
        };
        self.audit(
            ts(now),
            actor.name(),
            actor.address,
            "alert silence added",
            &format!(
                "silence {id}: {what}, {} to {}{}; {}",
                new.start.to_rfc3339(),
                new.end.to_rfc3339(),
                if new.recurrence.is_some() {
                    " (weekly)"
                } else {
                    ""
                },
                new.reason.trim()
            ),
        )
        .await?;
        self.silence(id).await?.ok_or(AlertError::NotFound {
            what: "silence",
            id,
        })
    }

    async fn silence(&self, id: i64) -> Result<Option<Silence>, WarehouseError> {
        let sql = &format!("SELECT {SILENCE_COLUMNS} FROM alert_silences WHERE id = $1");
        let row: Option<SilenceRow> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(id)
            .fetch_optional(p)
            .await?);
        Ok(row.map(SilenceRow::into_silence))
    }

    /// Ends a silence now (kept in the history, marked lifted by the actor). Audited.
    pub async fn lift_silence(
        &self,
        id: i64,
        actor: Actor<'_>,
        now: DateTime<Utc>,
    ) -> Result<Silence, AlertError> {
        let Some(s) = self.silence(id).await? else {
            return Err(AlertError::NotFound {
                what: "silence",
                id,
            });
        };
        match s.store_id {
            None => actor.require_admin("lift a whole-chain silence")?,
            Some(store) if !scope_allows(&actor.viewer.scope, store) => {
                return Err(forbidden(store))
            }
            Some(_) => {}
        }
        let sql = "UPDATE alert_silences SET lifted_at = $2, lifted_by = $3 \
                   WHERE id = $1 AND lifted_at IS NULL";
        per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(id)
            .bind(ts(now))
            .bind(actor.name())
            .execute(p)
            .await?
            .rows_affected());
        self.audit(
            ts(now),
            actor.name(),
            actor.address,
            "alert silence lifted",
            &format!("silence {id}"),
        )
        .await?;
        self.silence(id).await?.ok_or(AlertError::NotFound {
            what: "silence",
            id,
        })
    }

    /// Every channel (admins only), secrets masked.
    pub async fn channels(&self, actor: Actor<'_>) -> Result<Vec<Channel>, AlertError> {
        actor.require_admin("see the alert channels")?;
        let sql = &format!("SELECT {CHANNEL_COLUMNS} FROM alert_channels ORDER BY lower(name)");
        let rows: Vec<ChannelRow> =
            per_backend!(self, sql, |q, p| sqlx::query_as(q).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(ChannelRow::into_channel)
            .collect::<Result<_, _>>()?)
    }

    /// Adds a channel (admins only, checked by [`validate_channel`]). Audited (never the
    /// secret). Returns it, masked.
    pub async fn create_channel(
        &self,
        new: &NewChannel,
        actor: Actor<'_>,
        now: DateTime<Utc>,
    ) -> Result<Channel, AlertError> {
        actor.require_admin("add an alert channel")?;
        validate_channel(new)?;
        let (all, stores) = scope_columns(&new.scope);
        let sql = "INSERT INTO alert_channels (name, kind, target, secret, all_stores, stores, \
                   lang, enabled, created_by, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9) RETURNING id";
        let name = new.name.trim();
        let result: Result<i64, sqlx::Error> = per_backend!(self, sql, |q, p| {
            sqlx::query_scalar(q)
                .bind(name)
                .bind(new.kind.key())
                .bind(new.target.trim())
                .bind(new.secret.as_deref().map(str::trim))
                .bind(all)
                .bind(&stores)
                .bind(&new.lang)
                .bind(actor.name())
                .bind(ts(now))
                .fetch_one(p)
                .await
        });
        let id = match result {
            Ok(id) => id,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(AlertError::Taken(name.to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        let scope = match &new.scope {
            StoreScope::All => "all stores".to_string(),
            StoreScope::Only(_) => format!("stores {stores}"),
        };
        self.audit(
            ts(now),
            actor.name(),
            actor.address,
            "alert channel added",
            &format!("channel {id} {name} ({}, {scope})", new.kind.key()),
        )
        .await?;
        self.channel(id).await?.ok_or(AlertError::NotFound {
            what: "channel",
            id,
        })
    }

    async fn channel_row(&self, id: i64) -> Result<Option<ChannelRow>, WarehouseError> {
        let sql = &format!("SELECT {CHANNEL_COLUMNS} FROM alert_channels WHERE id = $1");
        Ok(per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(id)
            .fetch_optional(p)
            .await?))
    }

    /// One channel, masked (no scope check: for the callers above).
    async fn channel(&self, id: i64) -> Result<Option<Channel>, WarehouseError> {
        self.channel_row(id)
            .await?
            .map(ChannelRow::into_channel)
            .transpose()
    }

    /// The channel of this name (any case), masked; admins only.
    pub async fn channel_named(
        &self,
        name: &str,
        actor: Actor<'_>,
    ) -> Result<Option<Channel>, AlertError> {
        actor.require_admin("see the alert channels")?;
        let sql =
            &format!("SELECT {CHANNEL_COLUMNS} FROM alert_channels WHERE lower(name) = lower($1)");
        let row: Option<ChannelRow> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(name.trim())
            .fetch_optional(p)
            .await?);
        Ok(row.map(ChannelRow::into_channel).transpose()?)
    }

    /// Turns a channel on or off (admins only). Audited.
    pub async fn set_channel_enabled(
        &self,
        id: i64,
        enabled: bool,
        actor: Actor<'_>,
        now: DateTime<Utc>,
    ) -> Result<Channel, AlertError> {
        actor.require_admin("change an alert channel")?;
        let sql = "UPDATE alert_channels SET enabled = $2 WHERE id = $1";
        let n = per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(id)
            .bind(i64::from(enabled))
            .execute(p)
            .await?
            .rows_affected());
        if n == 0 {
            return Err(AlertError::NotFound {
                what: "channel",
                id,
            });
        }
        self.audit(
            ts(now),
            actor.name(),
            actor.address,
            if enabled {
                "alert channel enabled"
            } else {
                "alert channel disabled"
            },
            &format!("channel {id}"),
        )
        .await?;
        self.channel(id).await?.ok_or(AlertError::NotFound {
            what: "channel",
            id,
        })
    }

    /// Removes a channel and its deliveries (admins only). Audited.
    pub async fn delete_channel(
        &self,
        id: i64,
        actor: Actor<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), AlertError> {
        actor.require_admin("remove an alert channel")?;
        let Some(c) = self.channel(id).await? else {
            return Err(AlertError::NotFound {
                what: "channel",
                id,
            });
        };
        // Deliveries first: SQLite enforces the foreign key only with its pragma on.
        for sql in [
            "DELETE FROM alert_deliveries WHERE channel_id = $1",
            "DELETE FROM alert_channels WHERE id = $1",
        ] {
            per_backend!(self, sql, |q, p| sqlx::query(q)
                .bind(id)
                .execute(p)
                .await?
                .rows_affected());
        }
        self.audit(
            ts(now),
            actor.name(),
            actor.address,
            "alert channel removed",
            &format!("channel {id} {}", c.name),
        )
        .await?;
        Ok(())
    }

    /// Enqueues a test message to a channel (admins only; audited) and returns its
    /// delivery id: the sender sends it like a digest (see `alerts::delivery`).
    pub async fn enqueue_test(
        &self,
        channel_id: i64,
        actor: Actor<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64, AlertError> {
        actor.require_admin("test an alert channel")?;
        if self.channel_row(channel_id).await?.is_none() {
            return Err(AlertError::NotFound {
                what: "channel",
                id: channel_id,
            });
        }
        let run = format!(
            "test:{}",
            now.timestamp_nanos_opt().unwrap_or_else(|| now.timestamp())
        );
        let payload = serde_json::to_string(&Digest {
            run: run.clone(),
            store_id: 0,
            store_name: None,
            alerts: Vec::new(),
        })
        .map_err(|e| WarehouseError::Data(format!("test message: {e}")))?;
        self.insert_delivery(channel_id, &run, 0, &payload, 0, now)
            .await?;
        let sql = "SELECT id FROM alert_deliveries WHERE channel_id = $1 AND run = $2";
        let id: i64 = per_backend!(self, sql, |q, p| sqlx::query_scalar(q)
            .bind(channel_id)
            .bind(&run)
            .fetch_one(p)
            .await?);
        self.audit(
            ts(now),
            actor.name(),
            actor.address,
            "alert channel tested",
            &format!("channel {channel_id}"),
        )
        .await?;
        Ok(id)
    }

    /// The newest deliveries (with their status, attempts and last error), for admins;
    /// `status` filters when given.
    pub async fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        limit: i64,
        actor: Actor<'_>,
    ) -> Result<Vec<Delivery>, AlertError> {
        actor.require_admin("see the alert deliveries")?;
        let sql = &format!(
            "{SELECT_DELIVERY} WHERE ($1 = '' OR d.status = $1) \
             ORDER BY d.created_at DESC, d.id DESC LIMIT $2"
        );
        let rows: Vec<DeliveryRow> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(status.map(DeliveryStatus::key).unwrap_or(""))
            .bind(limit.clamp(1, 1000))
            .fetch_all(p)
            .await?);
        Ok(rows
            .into_iter()
            .map(DeliveryRow::into_delivery)
            .collect::<Result<_, _>>()?)
    }

    /// One delivery, for admins.
    pub async fn delivery(
        &self,
        id: i64,
        actor: Actor<'_>,
    ) -> Result<Option<Delivery>, AlertError> {
        actor.require_admin("see the alert deliveries")?;
        let sql = &format!("{SELECT_DELIVERY} WHERE d.id = $1");
        let row: Option<DeliveryRow> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(id)
            .fetch_optional(p)
            .await?);
        Ok(row.map(DeliveryRow::into_delivery).transpose()?)
    }

    /// Claims up to `limit` deliveries due at `now` (pending and due, or left `sending`
    /// past their lease by a sender that died) for `lease`; each is claimed by one caller
    /// only, whatever the number of replicas. Deliveries of disabled channels wait.
    pub async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>, WarehouseError> {
        let sql = &format!(
            "SELECT d.id FROM alert_deliveries d JOIN alert_channels c ON c.id = d.channel_id \
             WHERE ({DUE}) AND c.enabled = 1 ORDER BY d.next_attempt_at, d.id LIMIT $2"
        );
        let ids: Vec<i64> = per_backend!(self, sql, |q, p| sqlx::query_scalar(q)
            .bind(ts(now))
            .bind(limit)
            .fetch_all(p)
            .await?);
        let mut claimed = Vec::new();
        for id in ids {
            if let Some(d) = self.claim_delivery(id, now, lease).await? {
                claimed.push(d);
            }
        }
        Ok(claimed)
    }

    /// Claims delivery `id` if it is due at `now` and nobody holds it: one atomic update,
    /// so of several replicas trying at once exactly one gets it. `None` otherwise.
    pub async fn claim_delivery(
        &self,
        id: i64,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Option<ClaimedDelivery>, WarehouseError> {
        let claim = &format!(
            "UPDATE alert_deliveries SET status = 'sending', claimed_until = $2, \
             attempts = attempts + 1 WHERE id = $3 AND ({}) RETURNING attempts",
            DUE.replace("d.", "")
        );
        let attempt: Option<i64> = per_backend!(self, claim, |q, p| sqlx::query_scalar(q)
            .bind(ts(now))
            .bind(ts(now + lease))
            .bind(id)
            .fetch_optional(p)
            .await?);
        let Some(attempt) = attempt else {
            return Ok(None); // another sender has it, or it is not due
        };
        let select = "SELECT d.id, d.channel_id, c.name, c.kind, c.target, c.secret, c.lang, \
                      d.run, d.store_id, d.message_id, d.payload, d.created_at \
                      FROM alert_deliveries d JOIN alert_channels c ON c.id = d.channel_id \
                      WHERE d.id = $1";
        let row: Option<ClaimRow> = per_backend!(self, select, |q, p| sqlx::query_as(q)
            .bind(id)
            .fetch_optional(p)
            .await?);
        let Some(r) = row else {
            return Ok(None); // its channel was removed meanwhile
        };
        Ok(Some(ClaimedDelivery {
            id: r.id,
            channel_id: r.channel_id,
            kind: ChannelKind::from_key(&r.kind).ok_or_else(|| unknown("channel kind", &r.kind))?,
            channel_name: r.name,
            target: r.target,
            secret: r.secret,
            lang: r.lang,
            run: r.run,
            store_id: r.store_id,
            message_id: r.message_id,
            payload: r.payload,
            created_at: at(r.created_at),
            attempt,
        }))
    }

    /// Records a claimed delivery's outcome: sent; or failed with its error, retried at
    /// `retry_at` (`None`: out of attempts, left `failed`).
    pub async fn finish_delivery(
        &self,
        id: i64,
        outcome: Result<(), &str>,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), WarehouseError> {
        match outcome {
            Ok(()) => {
                let sql = "UPDATE alert_deliveries SET status = 'sent', sent_at = $2, \
                           claimed_until = NULL, last_error = NULL WHERE id = $1";
                per_backend!(self, sql, |q, p| sqlx::query(q)
                    .bind(id)
                    .bind(ts(now))
                    .execute(p)
                    .await?
                    .rows_affected());
            }
            Err(error) => {
                let (status, next) = match retry_at {
                    Some(t) => (DeliveryStatus::Pending, ts(t)),
                    None => (DeliveryStatus::Failed, ts(now)),
                };
                let sql = "UPDATE alert_deliveries SET status = $2, next_attempt_at = $3, \
                           claimed_until = NULL, last_error = $4 WHERE id = $1";
                per_backend!(self, sql, |q, p| sqlx::query(q)
                    .bind(id)
                    .bind(status.key())
                    .bind(next)
                    .bind(error)
                    .execute(p)
                    .await?
                    .rows_affected());
            }
        }
        Ok(())
    }

    /// Puts a failed delivery back in the queue, due now (admins only). Audited.
    pub async fn retry_delivery(
        &self,
        id: i64,
        actor: Actor<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), AlertError> {
        actor.require_admin("retry a delivery")?;
        let sql = "UPDATE alert_deliveries SET status = 'pending', attempts = 0, \
                   next_attempt_at = $2 WHERE id = $1 AND status = 'failed'";
        let n = per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(id)
            .bind(ts(now))
            .execute(p)
            .await?
            .rows_affected());
        if n == 0 {
            return Err(AlertError::NotFound {
                what: "failed delivery",
                id,
            });
        }
        self.audit(
            ts(now),
            actor.name(),
            actor.address,
            "alert delivery retried",
            &format!("delivery {id}"),
        )
        .await?;
        Ok(())
    }
}
