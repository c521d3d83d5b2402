//! Types that cross the wire between the server functions and the browser, one place for
//! all pages: the error every server function answers, then each page's types (home,
//! dashboard with the charts' data, pipeline). They compile to wasm, so they hold plain
//! data only (no database or dataframe types).

use chrono::NaiveDate;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use pipeline::failures::FailureGroup;
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// Why a server function gave no answer, as the browser sees it: a kind, never the
/// server's own text (the server logs the cause with `tracing`). The page words it in its
/// language: the dashboard per kind, with an exhaustive match (a new kind does not compile
/// until it says it); the home and pipeline pages have one message for any failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoadError {
    /// The request did not reach the server, or its answer did not come back.
    Unreachable,
    /// The server could not read its data: it runs without a warehouse, or a query failed.
    Unavailable,
    /// The call failed on the way: arguments or an answer that do not read, or an error
    /// that is none of the above (a proxy's error page, a failing middleware).
    Failed,
    /// Nobody is signed in (401).
    SignIn,
    /// The person asked for a store outside their stores (403): only its number travels.
    Forbidden { store_id: u32 },
    /// The person's role does not allow it (403).
    NotAllowed,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LoadError::Unreachable => "server unreachable",
            LoadError::Unavailable => "data unavailable",
            LoadError::Failed => "request failed",
            LoadError::SignIn => "sign-in required",
            LoadError::Forbidden { .. } => "store not allowed",
            LoadError::NotAllowed => "not allowed",
        })
    }
}

impl std::error::Error for LoadError {}

impl FromServerFnError for LoadError {
    type Encoder = JsonEncoding;

    /// The framework's own failures (network, encoding, arguments): their text stays
    /// where it happened (logged on the server), only the kind travels.
    fn from_server_fn_error(e: ServerFnErrorErr) -> Self {
        match e {
            ServerFnErrorErr::Request(_) => LoadError::Unreachable,
            other => {
                #[cfg(feature = "ssr")]
                tracing::warn!(error = %other, "server function failed");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                LoadError::Failed
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreInfo {
    pub store_id: u32,
    pub city_store: String,
    pub sensors: u32,
}

// Access: what the header and the sign-in pages show of the person asking.

/// The person asking, as the pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessInfo {
    pub visitor: pipeline::access::Visitor,
    /// Single sign-on is configured (the sign-in page shows its button).
    pub sso: bool,
}

/// A personal token as the account page lists it (never its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: i64,
    pub label: String,
    /// `YYYY-MM-DD` (UTC).
    pub created: String,
    pub expires: String,
    pub revoked: bool,
    pub last_used: Option<String>,
}

// The users page (admins).

/// An account as the users page lists it (never its password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub username: String,
    pub role: pipeline::access::Role,
    pub stores: Vec<u32>,
    pub disabled: bool,
    /// `YYYY-MM-DD` (UTC).
    pub created: String,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// `YYYY-MM-DD HH:MM:SS` UTC.
    pub at: String,
    pub username: String,
    pub address: String,
    pub action: String,
    pub detail: String,
}

/// What the users page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsersView {
    pub users: Vec<UserRow>,
    pub stores: Vec<StoreInfo>,
    pub audit: Vec<AuditRow>,
}

// The home page.

/// What the home page needs to draw its simulator form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeData {
    pub stores: Vec<StoreInfo>,
    /// The most recent open day whose hours are all available, `YYYY-MM-DD`.
    pub default_date: String,
    /// First date the simulator serves, `YYYY-MM-DD`.
    pub first_date: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorValue {
    pub sensor_id: u32,
    pub visiteurs: Option<i64>,
}

/// One store-hour as the simulator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourSnapshot {
    pub city_store: String,
    pub date: String,
    pub heure: String,
    pub is_closed: bool,
    pub sensors: Vec<SensorValue>,
    pub transactions: Option<i64>,
    pub chiffre_affaires: Option<f64>,
}

/// Why a store-hour cannot be shown: the page words it in its language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SnapshotProblem {
    UnknownStore(String),
    BadDate(String),
    BadHour(u32),
    BeforeFirstDate(String),
    InFuture,
    NotYet(String),
}

impl SnapshotProblem {
    pub fn message(&self, l: Lang) -> String {
        match (self, l) {
            (Self::UnknownStore(s), Lang::Fr) => format!("Magasin inconnu : {s}"),
            (Self::UnknownStore(s), Lang::En) => format!("Unknown store: {s}"),
            (Self::BadDate(d), Lang::Fr) => format!("Date invalide : {d} (attendu AAAA-MM-JJ)"),
            (Self::BadDate(d), Lang::En) => format!("Invalid date: {d} (expected YYYY-MM-DD)"),
            (Self::BadHour(h), Lang::Fr) => format!("Heure invalide : {h} (0 à 23)"),
            (Self::BadHour(h), Lang::En) => format!("Invalid hour: {h} (0 to 23)"),
            (Self::BeforeFirstDate(d), Lang::Fr) => format!("Pas de données avant le {d}"),
            (Self::BeforeFirstDate(d), Lang::En) => format!("No data before {d}"),
            (Self::InFuture, Lang::Fr) => "Cette date est dans le futur".to_string(),
            (Self::InFuture, Lang::En) => "This date is in the future".to_string(),
            (Self::NotYet(t), Lang::Fr) => {
                format!("Pas encore disponible : dernière heure disponible {t}")
            }
            (Self::NotYet(t), Lang::En) => format!("Not available yet: latest hour available {t}"),
        }
    }
}

// The dashboard: the applied filters, the KPI cards, then the charts' data.

/// The filters the server applied (defaults filled in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedFilter {
    pub store: Option<u32>,
    pub sensors: Vec<u32>,
    pub from: String,
    pub to: String,
    pub h0: u32,
    pub h1: u32,
    /// `prev`, `year` or `none`.
    pub compare: String,
    /// The comparison period, unless `compare` is `none`.
    pub previous_from: Option<String>,
    pub previous_to: Option<String>,
}

/// How a KPI's change reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeState {
    /// A percentage (`change` holds it).
    Change,
    /// No comparison asked for, or nothing to divide by.
    None,
    /// The comparison period lies partly or wholly outside the data.
    Partial,
    /// The period holds closed days only.
    Closed,
}

/// One KPI with its change against the comparison period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiCard {
    /// Stable id: visitors, active_sensors, transactions, revenue, conversion,
    /// average_ticket, revenue_per_visitor.
    pub id: String,
    pub label: String,
    pub value: Option<f64>,
    pub display: String,
    pub previous: Option<f64>,
    pub previous_display: String,
    /// Relative change, e.g. 0.12 for +12 %.
    pub change: Option<f64>,
    pub change_state: ChangeState,
    pub change_display: String,
}

/// A backfill's or catch-up's progress over the period, while one is running for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preparing {
    /// Complete days of the period.
    pub days_done: u32,
    /// Days of the period that can be complete by now.
    pub days_total: u32,
}

/// Why days of the period are not complete (see `pipeline::day_completeness::DayState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GapReason {
    /// Before the pipeline's first day: only a backfill loads them.
    NotCollected,
    /// Not over yet, or consolidated at 03:00 the next morning.
    NotYet,
    /// A backfill or catch-up is working on them.
    Preparing,
    /// A partition failed.
    Failed,
    /// Partitions due that never ran.
    Missing,
}

/// Consecutive days of the period that are not complete, for one reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayGap {
    /// `YYYY-MM-DD`, inclusive.
    pub from: String,
    pub to: String,
    pub reason: GapReason,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    pub filter: AppliedFilter,
    pub stores: Vec<StoreInfo>,
    /// Sensor ids of the selected store.
    pub store_sensors: Vec<u32>,
    pub kpis: Vec<KpiCard>,
    pub charts: Vec<ChartData>,
    /// First and last day with analytics data (the date inputs' bounds).
    pub data_from: Option<String>,
    pub data_to: Option<String>,
    /// First and last complete days (every partition done, open or closed): the line
    /// under the filters.
    pub complete_from: Option<String>,
    pub complete_to: Option<String>,
    /// The first day with data, named by "not collected before …".
    pub collected_from: Option<String>,
    /// The period's days that are not complete, by runs of one reason (empty: the
    /// figures are whole).
    pub gaps: Vec<DayGap>,
    /// Today in Paris and the default period (the last complete week), `YYYY-MM-DD`.
    pub today: String,
    pub default_from: String,
    pub default_to: String,
    /// A problem with the filters, in the page's language.
    pub error: Option<String>,
    /// The field the problem is about (`from`, `to`, `h0`, `store`, `sensors`…).
    pub error_field: Option<String>,
    /// Set only while a backfill or catch-up is running for days of the period.
    pub preparing: Option<Preparing>,
    /// The person may start loading days that were never collected (an admin, on a
    /// server that runs the pipeline).
    #[serde(default)]
    pub can_load_days: bool,
}

/// One store of a ranking axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedStore {
    /// 1 for the best.
    pub rank: u32,
    pub store_id: u32,
    pub name: String,
}

/// A chart's x positions; how they read is in `charts/axis.rs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Axis {
    /// Open days; a click on one opens its hourly view.
    Days(Vec<NaiveDate>),
    /// The hours `first..=last` of the day (`9` is 9:00–10:00).
    Hours { first: u32, last: u32 },
    /// Stores, best first; a click on one opens its view.
    Stores(Vec<RankedStore>),
}

/// What a chart draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChartKind {
    /// Lines over time (days, or hours of one day).
    Lines,
    /// Vertical bars over categories.
    Bars,
    /// Horizontal bars, one per store, best first.
    Ranking,
    /// Rows (series) × columns (x) coloured by value.
    Heatmap,
}

/// The unit of a chart's values (how they are formatted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    Count,
    Euros,
    /// A ratio in [0, 1], shown as a percentage.
    Ratio,
}

/// One series of a chart: values aligned with the chart's `x`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartSeries {
    /// Stable key: a sensor or store id, or the measure's name.
    pub key: String,
    pub label: String,
    pub values: Vec<Option<f64>>,
    /// The comparison period's values at the same positions (empty without comparison).
    pub previous: Vec<Option<f64>>,
    /// Drawn by default (at most ten series are).
    pub visible: bool,
    /// The store the user is looking at.
    pub highlight: bool,
}

/// A chart's data; the page draws it (plotters, on the server and in the browser).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartData {
    pub id: String,
    pub kind: ChartKind,
    pub title: String,
    /// One sentence saying what the chart shows (accessible description).
    pub description: String,
    pub unit: Unit,
    /// The x positions (days, hours or stores); labels, keys and links derive from them.
    pub axis: Axis,
    pub series: Vec<ChartSeries>,
    /// What the dashed lines are (`période précédente : 09/11/2026 → 15/11/2026`).
    pub previous_label: Option<String>,
    /// The x position to highlight (the ranking's selected store).
    pub highlight_x: Option<usize>,
    pub empty_message: String,
    /// The alerts of the period at their x position (time charts only).
    #[serde(default)]
    pub markers: Vec<ChartMarker>,
    /// The range the baseline expects (the visitors chart of one store).
    #[serde(default)]
    pub band: Option<ChartBand>,
}

impl ChartData {
    /// True when no series has a value.
    pub fn is_empty(&self) -> bool {
        self.series
            .iter()
            .all(|s| s.values.iter().all(Option::is_none))
    }
}

// The alerts: the page, the header's count, the dashboard's markers and band, the
// pipeline page's silent sensors and the delivery channels (admins).

/// One alert as the alerts page lists it. Times are Paris local time, `YYYY-MM-DD HH:MM`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRow {
    pub id: i64,
    pub rule: pipeline::alerts::Rule,
    pub severity: pipeline::alerts::Severity,
    pub status: pipeline::alerts::lifecycle::AlertStatus,
    pub store_id: u32,
    pub store_name: String,
    pub sensor_id: Option<u32>,
    /// The first hour the condition covers.
    pub start: String,
    /// The end of the condition (exclusive), once over.
    pub end: Option<String>,
    /// What was measured over the period, and what the baseline expected.
    pub observed: Option<f64>,
    pub expected: Option<f64>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<String>,
    pub comment: Option<String>,
    pub resolved_at: Option<String>,
}

/// The alerts of each state that match the page's other filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertCounts {
    pub open: u64,
    pub acknowledged: u64,
    pub resolved: u64,
    /// The alerts read reached the store's page size: the counts are lower bounds.
    pub capped: bool,
}

impl AlertCounts {
    pub fn of(&self, s: pipeline::alerts::lifecycle::AlertStatus) -> u64 {
        use pipeline::alerts::lifecycle::AlertStatus;
        match s {
            AlertStatus::Open => self.open,
            AlertStatus::Acknowledged => self.acknowledged,
            AlertStatus::Resolved => self.resolved,
        }
    }

    pub fn total(&self) -> u64 {
        self.open + self.acknowledged + self.resolved
    }
}

/// A silence as the alerts page lists it (Paris time, `YYYY-MM-DD HH:MM`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceRow {
    pub id: i64,
    pub store_id: u32,
    pub store_name: String,
    pub sensor_id: Option<u32>,
    pub from: String,
    pub to: String,
    /// A weekly recurrence: only these days (0 = Monday), only these Paris hours
    /// `[from, to)`; empty and `None` for a continuous silence.
    pub days: Vec<u32>,
    pub hours: Option<(u32, u32)>,
    pub reason: String,
    pub created_by: String,
}

/// What the alerts page shows for its filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsView {
    /// The viewer's stores (the store filter's choices).
    pub stores: Vec<StoreInfo>,
    /// The alerts of the filters, open first then newest first, at most `limit`.
    pub alerts: Vec<AlertRow>,
    /// How many match the filters in all (more than `alerts.len()` when cut at the limit).
    pub matching: u64,
    /// Per state, for the other filters.
    pub counts: AlertCounts,
    /// The silences in force or to come, in the viewer's stores.
    pub silences: Vec<SilenceRow>,
    /// The viewer may acknowledge and silence (admins, and managers for their stores).
    pub can_act: bool,
    /// The viewer manages the delivery channels (admins).
    pub can_manage_channels: bool,
    /// Now in Paris, `YYYY-MM-DDTHH:MM` (the silence form's first default).
    pub now: String,
}

/// An alert drawn on a dashboard chart, at the x position of its start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartMarker {
    /// The x position (a day, or an hour of a single day).
    pub index: usize,
    pub alert_id: i64,
    pub store_id: u32,
    pub severity: pipeline::alerts::Severity,
    /// One line for the tooltip: what, where, since when (in the page's language).
    pub text: String,
}

/// The range the baseline expects, around the chart's values (the visitors chart of one
/// store): `lower[i]..=upper[i]` at each x position, `None` where it has no baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartBand {
    /// The series the band goes with (its key).
    pub series: String,
    pub label: String,
    pub lower: Vec<Option<f64>>,
    pub upper: Vec<Option<f64>>,
}

/// A delivery that failed or waits for its retry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub channel: String,
    pub status: pipeline::alerts::channel::DeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Paris time, `YYYY-MM-DD HH:MM`.
    pub created: String,
    pub next_attempt: Option<String>,
    /// The store whose digest it is; `None` for a test message.
    pub store_name: Option<String>,
    pub test: bool,
}

/// The delivery channels page (admins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelsView {
    /// Masked: never a secret, a Slack URL up to its host.
    pub channels: Vec<pipeline::alerts::channel::Channel>,
    pub deliveries: Vec<DeliveryRow>,
    pub stores: Vec<StoreInfo>,
}

/// What adding a channel did: a form's mistake (a code the page words), or the new
/// webhook's signing secret, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelAdded {
    pub error: Option<String>,
    pub secret: Option<String>,
}

/// What a "send a test" did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestOutcome {
    pub ok: bool,
    pub status: pipeline::alerts::channel::DeliveryStatus,
    /// The receiver's error when it failed (empty when sent).
    pub detail: String,
}

/// An open `sensor_silent` or `sensor_stuck_zero` alert, on the pipeline page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilentSensor {
    pub alert_id: i64,
    pub rule: pipeline::alerts::Rule,
    pub store_id: u32,
    pub store_name: String,
    pub sensor_id: u32,
    /// Paris time, `YYYY-MM-DD HH:MM`.
    pub since: String,
    pub acknowledged: bool,
}

// The pipeline page.

/// The state of one partition (or of one hour: its collect and ingest together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CellState {
    /// Done.
    Done,
    /// A run is in progress.
    Running,
    /// Failed; an automatic retry is scheduled.
    Retrying,
    /// Failed, no automatic retry left: a person must retry it.
    Failed,
    /// Due, and not run (or collected but not ingested yet).
    Missing,
    /// Not due yet (the hour is not over, or the day's transform runs at 03:00).
    NotDue,
    /// Before the pipeline's first day: not its responsibility.
    BeforeStart,
    /// The hour skipped by the spring clock change.
    NoSuchHour,
}

impl CellState {
    /// CSS class and stable test hook.
    pub fn class(self) -> &'static str {
        match self {
            CellState::Done => "done",
            CellState::Running => "running",
            CellState::Retrying => "retrying",
            CellState::Failed => "failed",
            CellState::Missing => "missing",
            CellState::NotDue => "not-due",
            CellState::BeforeStart => "before-start",
            CellState::NoSuchHour => "no-hour",
        }
    }

    pub fn label(self, l: Lang) -> &'static str {
        match self {
            CellState::Done => l.pick("terminée", "done"),
            CellState::Running => l.pick("en cours", "running"),
            CellState::Retrying => {
                l.pick("en échec, nouvel essai prévu", "failed, retry scheduled")
            }
            CellState::Failed => l.pick("en échec, à relancer", "failed, needs a manual retry"),
            CellState::Missing => l.pick("manquante", "missing"),
            CellState::NotDue => l.pick("pas encore due", "not due yet"),
            CellState::BeforeStart => l.pick(
                "avant le premier jour du pipeline",
                "before the pipeline's first day",
            ),
            CellState::NoSuchHour => l.pick(
                "heure sautée (changement d'heure)",
                "hour skipped (clock change)",
            ),
        }
    }

    /// Due and not done: counted as missing or failed.
    pub fn is_gap(self) -> bool {
        matches!(
            self,
            CellState::Retrying | CellState::Failed | CellState::Missing
        )
    }
}

/// The hour × day grid of the checked window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartitionGrid {
    /// The days, oldest first (`YYYY-MM-DD`).
    pub days: Vec<String>,
    /// `hours[h][d]`: hour `h` (0–23) of day `d`, collect and ingest together.
    pub hours: Vec<Vec<CellState>>,
    /// The nightly transform of each day.
    pub transform: Vec<CellState>,
}

/// One day of the quality figures, both feeds (sensors and sales) together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityRow {
    pub date: String,
    /// Readings received.
    pub rows_in: i64,
    /// Readings of closed hours and days: set aside as expected (not a problem).
    pub closed: i64,
    /// Readings without a value.
    pub nulls: i64,
    /// Values far from the sensor's day (above 3× or below ¼ of its median), replaced.
    pub outliers: i64,
    /// Missing open slots filled following the sensor's hourly profile.
    pub filled: i64,
    /// Missing open slots that could not be filled.
    pub unfillable: i64,
    /// Unreadable dates or hours, unknown stores or sensors, duplicates, implausible values.
    pub rejected: i64,
    /// Rows written to analytics.
    pub rows_out: i64,
}

/// Everything the pipeline page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineView {
    /// (job, status, count)
    pub summary: Vec<(pipeline::runs::Job, pipeline::runs::RunStatus, i64)>,
    /// The pipeline's first day (`None` before its first run).
    pub first_day: Option<String>,
    pub checked_from: String,
    pub checked_to: String,
    pub grid: PartitionGrid,
    /// The first due-and-not-done partitions (job, partition key), oldest first.
    pub missing: Vec<(pipeline::runs::Job, String)>,
    /// How many there are in all.
    pub missing_total: usize,
    /// Failed partitions by job and error, the next retry in Paris time.
    pub failures: Vec<FailureGroup<String>>,
    pub recent: Vec<RunRow>,
    pub quality: Vec<QualityRow>,
    /// Sensors with an open `sensor_silent` or `sensor_stuck_zero` alert.
    #[serde(default)]
    pub silent_sensors: Vec<SilentSensor>,
}

/// One ledger row for the pipeline page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    pub job: pipeline::runs::Job,
    pub partition: String,
    pub status: pipeline::runs::RunStatus,
    pub attempts: i32,
    pub rows: Option<i64>,
    pub duration_ms: Option<i64>,
    pub started_at: Option<String>,
    pub error: Option<String>,
    pub next_attempt_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use leptos::server_fn::Bytes;

    use super::*;

    #[test]
    fn only_the_kind_crosses_the_wire() {
        // A framework failure keeps its text where it happened.
        let e = LoadError::from_server_fn_error(ServerFnErrorErr::ServerError(
            "connection to postgres://app:secret@db failed".into(),
        ));
        assert_eq!(e, LoadError::Failed);
        assert_eq!(&e.ser()[..], b"\"Failed\"");
        assert_eq!(&LoadError::Unavailable.ser()[..], b"\"Unavailable\"");
        assert_eq!(
            LoadError::de(LoadError::Unavailable.ser()),
            LoadError::Unavailable
        );
        // The browser's side: a request that did not get through, and an error answer
        // that is not ours (a proxy's page).
        assert_eq!(
            LoadError::from_server_fn_error(ServerFnErrorErr::Request("refused".into())),
            LoadError::Unreachable
        );
        assert_eq!(
            LoadError::de(Bytes::from_static(b"boom")),
            LoadError::Failed
        );
    }
}
