//! `datamag360 alerts`: the alerts for scripts (`--from D --to D --format json|table`, the
//! rows the alerts page shows), the delivery channels for scripted deploys
//! (`alerts channel add|list|test|enable|disable|remove`) and the deliveries
//! (`alerts deliveries`). Secrets come from a file or standard input, never the command
//! line (it shows in `ps` and shell history). The command acts as an administrator named
//! `cli` in the audit log.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context};
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand, ValueEnum};
use pipeline::access::{AccessMode, Role, StoreScope, Viewer};
use pipeline::alerts::channel::{ChannelKind, DeliveryStatus, NewChannel};
use pipeline::alerts::delivery::webhook;
use pipeline::alerts::finding::{Rule, Severity};
use pipeline::alerts::lifecycle::{Alert, AlertQuery, AlertStatus};
use pipeline::warehouse::alerts::Actor;
use pipeline::{Reference, PARIS};
use serde::Serialize;

use crate::auth::cli::{open, parse_stores};
use crate::cli::PipelineArgs;
use crate::exit::{Exit, Outcome};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AlertsArgs {
    #[command(subcommand)]
    pub command: Option<AlertsCommand>,

    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Where alerts are delivered: add, list, test, enable, disable, remove.
    Channel(ChannelArgs),
    /// The newest deliveries: status, attempts, last error.
    Deliveries(DeliveriesArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// The alerts of a period (Paris days), newest first.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// First day (YYYY-MM-DD, Paris); default: 7 days before `--to`.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<NaiveDate>,

    /// Last day, included (YYYY-MM-DD, Paris); default: today.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<NaiveDate>,

    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Only this store (id or city_store name).
    #[arg(long)]
    pub store: Option<String>,

    /// Only this rule (sensor_silent, sensor_stuck_zero, sensor_degraded, till_feed_down,
    /// store_closed, traffic_high, traffic_low).
    #[arg(long = "kind", value_parser = parse_rule)]
    pub rule: Option<Rule>,

    /// Only this status (open, acknowledged, resolved).
    #[arg(long, value_parser = parse_status)]
    pub status: Option<AlertStatus>,

    /// Only this severity (info, warning, critical).
    #[arg(long, value_parser = parse_severity)]
    pub severity: Option<Severity>,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

#[derive(Debug, Args)]
pub struct ChannelArgs {
    #[command(subcommand)]
    pub command: ChannelCommand,
}

#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Add a channel.
    Add(AddArgs),
    /// List the channels (secrets masked).
    List(FormatArgs),
    /// Send a test message now and say whether it arrived.
    Test(NamedArgs),
    /// Send the channel its stores' digests again.
    Enable(NamedArgs),
    /// Stop sending to the channel (its deliveries wait).
    Disable(NamedArgs),
    /// Remove the channel and its deliveries.
    Remove(NamedArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// A name to refer to it (unique, any case).
    pub name: String,

    /// webhook (signed, Standard Webhooks), slack (Slack-compatible incoming webhook) or
    /// email.
    #[arg(long, value_parser = parse_kind)]
    pub kind: ChannelKind,

    /// The URL (webhook, slack) or email address. A Slack URL is a secret: prefer
    /// --target-file.
    #[arg(
        long,
        conflicts_with = "target_file",
        required_unless_present = "target_file"
    )]
    pub target: Option<String>,

    /// Read the target from this file (first line).
    #[arg(long, value_name = "FILE")]
    pub target_file: Option<PathBuf>,

    /// The webhook's signing secret (`whsec_…`) from this file (first line).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["secret_stdin", "generate_secret"])]
    pub secret_file: Option<PathBuf>,

    /// The webhook's signing secret from standard input (first line).
    #[arg(long, conflicts_with = "generate_secret")]
    pub secret_stdin: bool,

    /// Make a new signing secret and print it once (give it to the receiver).
    #[arg(long)]
    pub generate_secret: bool,

    /// The stores whose alerts it receives: ids or names, comma-separated; default all.
    #[arg(long, value_name = "STORES")]
    pub stores: Option<String>,

    /// The messages' language: fr or en.
    #[arg(long, default_value = "fr", value_parser = ["fr", "en"])]
    pub lang: String,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

#[derive(Debug, Args)]
pub struct FormatArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

#[derive(Debug, Args)]
pub struct NamedArgs {
    /// The channel's name.
    pub name: String,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

#[derive(Debug, Args)]
pub struct DeliveriesArgs {
    /// Only this status (pending, sending, sent, failed).
    #[arg(long, value_parser = parse_delivery_status)]
    pub status: Option<DeliveryStatus>,

    /// At most this many, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: i64,

    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

fn parse_rule(s: &str) -> Result<Rule, String> {
    Rule::from_key(s.trim()).ok_or_else(|| {
        let all: Vec<&str> = Rule::ALL.iter().map(|r| r.key()).collect();
        format!("unknown kind {s:?}: {}", all.join(", "))
    })
}

fn parse_status(s: &str) -> Result<AlertStatus, String> {
    AlertStatus::from_key(s.trim())
        .ok_or_else(|| format!("unknown status {s:?}: open, acknowledged or resolved"))
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::from_key(s.trim())
        .ok_or_else(|| format!("unknown severity {s:?}: info, warning or critical"))
}

fn parse_kind(s: &str) -> Result<ChannelKind, String> {
    ChannelKind::from_key(s).ok_or_else(|| format!("unknown kind {s:?}: webhook, slack or email"))
}

fn parse_delivery_status(s: &str) -> Result<DeliveryStatus, String> {
    DeliveryStatus::from_key(s.trim())
        .ok_or_else(|| format!("unknown status {s:?}: pending, sending, sent or failed"))
}

/// The command line acts as an administrator.
fn cli_viewer() -> Viewer {
    Viewer {
        name: Some("cli".into()),
        role: Role::Admin,
        scope: StoreScope::All,
        mode: AccessMode::Off,
    }
}

/// The first line of a file or of standard input, trimmed.
fn first_line(file: Option<&PathBuf>, stdin: bool, what: &str) -> anyhow::Result<Option<String>> {
    let text = match (file, stdin) {
        (Some(path), _) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the {what} file {}", path.display()))?,
        (None, true) => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .with_context(|| format!("cannot read the {what} from standard input"))?;
            s
        }
        (None, false) => return Ok(None),
    };
    Ok(Some(text.lines().next().unwrap_or("").trim().to_string()))
}

/// One alert as printed: the stored row and the store's name.
#[derive(Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    alert: &'a Alert,
    city_store: Option<&'a str>,
}

fn paris(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&PARIS).format("%Y-%m-%d %H:%M").to_string()
}

fn bad_input(e: impl std::fmt::Display) -> anyhow::Error {
    Exit::new(Outcome::BadInput, e.to_string()).into()
}

/// Runs one `alerts` command.
pub async fn run(args: AlertsArgs) -> anyhow::Result<()> {
    match args.command {
        None => list(args.list).await,
        Some(AlertsCommand::Channel(c)) => channel(c.command).await,
        Some(AlertsCommand::Deliveries(d)) => deliveries(d).await,
    }
}

async fn list(a: ListArgs) -> anyhow::Result<()> {
    let to =
        a.to.unwrap_or_else(|| Utc::now().with_timezone(&PARIS).date_naive());
    let from = a.from.unwrap_or(to - chrono::Duration::days(7));
    if from > to {
        return Err(bad_input(format!("--from {from} is after --to {to}")));
    }
    let (w, reference) = open(&a.pipeline).await?;
    let store_id = match &a.store {
        Some(s) => Some(i64::from(
            *parse_stores(s, &reference)
                .map_err(bad_input)?
                .first()
                .ok_or_else(|| bad_input("--store names no store"))?,
        )),
        None => None,
    };
    let query = AlertQuery {
        store_id,
        rule: a.rule,
        status: a.status,
        severity: a.severity,
        ..AlertQuery::days(from, to)
    };
    let alerts = w.alerts(&query, &StoreScope::All).await?;
    w.close().await;
    print_alerts(&alerts, &reference, a.format)
}

fn print_alerts(alerts: &[Alert], reference: &Reference, format: Format) -> anyhow::Result<()> {
    let name = |id: i64| {
        u32::try_from(id)
            .ok()
            .and_then(|id| reference.store(id))
            .map(|s| s.city_store.as_str())
    };
    match format {
        Format::Json => {
            let rows: Vec<Row<'_>> = alerts
                .iter()
                .map(|alert| Row {
                    alert,
                    city_store: name(alert.store_id),
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
        Format::Table => {
            println!(
                "{:>6}  {:<12}  {:<8}  {:<18}  {:<18}  {:>6}  {:<16}  {:<16}  {:>9}  {:>9}  acknowledged by",
                "id",
                "status",
                "severity",
                "kind",
                "store",
                "sensor",
                "start (Paris)",
                "end (Paris)",
                "observed",
                "expected"
            );
            for a in alerts {
                let store = match name(a.store_id) {
                    Some(n) => format!("{} {n}", a.store_id),
                    None => a.store_id.to_string(),
                };
                let num = |v: Option<f64>| v.map(|v| format!("{v:.0}")).unwrap_or_default();
                println!(
                    "{:>6}  {:<12}  {:<8}  {:<18}  {:<18}  {:>6}  {:<16}  {:<16}  {:>9}  {:>9}  {}",
                    a.id,
                    a.status.key(),
                    a.severity.key(),
                    a.rule.key(),
                    store,
                    a.sensor_id.map(|s| s.to_string()).unwrap_or_default(),
                    paris(a.start),
                    a.end.map(paris).unwrap_or_default(),
                    num(a.observed),
                    num(a.expected),
                    a.acknowledgement
                        .as_ref()
                        .map(|k| k.by.as_str())
                        .unwrap_or(""),
                );
            }
            eprintln!("{} alert(s)", alerts.len());
        }
    }
    Ok(())
}

async fn channel(command: ChannelCommand) -> anyhow::Result<()> {
    let viewer = cli_viewer();
    let actor = Actor {
        viewer: &viewer,
        address: "",
    };
    match command {
        ChannelCommand::Add(a) => {
            let target = match (&a.target, &a.target_file) {
                (Some(t), _) => t.trim().to_string(),
                (None, file) => first_line(file.as_ref(), false, "target")?
                    .ok_or_else(|| bad_input("give --target or --target-file"))?,
            };
            let (secret, generated) = if a.generate_secret {
                (
                    Some(webhook::new_secret().context("no random secret")?),
                    true,
                )
            } else {
                (
                    first_line(a.secret_file.as_ref(), a.secret_stdin, "secret")?,
                    false,
                )
            };
            let (w, reference) = open(&a.pipeline).await?;
            let scope = match &a.stores {
                Some(s) => StoreScope::Only(
                    parse_stores(s, &reference)
                        .map_err(bad_input)?
                        .into_iter()
                        .collect(),
                ),
                None => StoreScope::All,
            };
            let new = NewChannel {
                name: a.name.clone(),
                kind: a.kind,
                target,
                secret: secret.clone(),
                scope,
                lang: a.lang.clone(),
            };
            let created = w
                .create_channel(&new, actor, Utc::now())
                .await
                .map_err(|e| match e {
                    pipeline::warehouse::alerts::AlertError::Warehouse(e) => anyhow::Error::new(e),
                    other => bad_input(other),
                })?;
            w.close().await;
            println!(
                "channel {} added ({}, id {})",
                created.name, created.kind, created.id
            );
            if let (true, Some(s)) = (generated, secret) {
                // Shown once: the receiver verifies signatures with it.
                println!("signing secret (shown once): {s}");
            }
        }
        ChannelCommand::List(a) => {
            let (w, _) = open(&a.pipeline).await?;
            let channels = w.channels(actor).await?;
            w.close().await;
            match a.format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&channels)?),
                Format::Table => {
                    for c in &channels {
                        let scope = match c.scope.limited_to() {
                            None => "all stores".to_string(),
                            Some(s) => format!(
                                "stores {}",
                                s.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
                            ),
                        };
                        println!(
                            "{:>4}  {:<20}  {:<8}  {:<40}  {:<14}  {:<3}  {}{}",
                            c.id,
                            c.name,
                            c.kind.key(),
                            c.target,
                            c.secret_hint.as_deref().unwrap_or(""),
                            c.lang,
                            scope,
                            if c.enabled { "" } else { "  (disabled)" }
                        );
                    }
                }
            }
        }
        ChannelCommand::Test(a) => {
            let (w, _) = open(&a.pipeline).await?;
            let c = named(&w, &a.name, actor).await?;
            let deliverer = crate::pipeline_setup::deliverer(&a.pipeline)?;
            let sent = deliverer.send_test(&w, c.id, actor, Utc::now()).await?;
            w.close().await;
            if sent.status == DeliveryStatus::Sent {
                println!("test message sent to {} ({})", c.name, c.kind);
            } else {
                bail!(
                    "the test message to {} was not delivered: {} (attempt {}, status {})",
                    c.name,
                    sent.last_error.as_deref().unwrap_or("no error recorded"),
                    sent.attempts,
                    sent.status
                );
            }
        }
        ChannelCommand::Enable(a) => set_enabled(a, true, actor).await?,
        ChannelCommand::Disable(a) => set_enabled(a, false, actor).await?,
        ChannelCommand::Remove(a) => {
            let (w, _) = open(&a.pipeline).await?;
            let c = named(&w, &a.name, actor).await?;
            w.delete_channel(c.id, actor, Utc::now()).await?;
            w.close().await;
            println!("channel {} removed", c.name);
        }
    }
    Ok(())
}

async fn set_enabled(a: NamedArgs, enabled: bool, actor: Actor<'_>) -> anyhow::Result<()> {
    let (w, _) = open(&a.pipeline).await?;
    let c = named(&w, &a.name, actor).await?;
    w.set_channel_enabled(c.id, enabled, actor, Utc::now())
        .await?;
    w.close().await;
    println!(
        "channel {} {}",
        c.name,
        if enabled { "enabled" } else { "disabled" }
    );
    Ok(())
}

async fn named(
    w: &pipeline::Warehouse,
    name: &str,
    actor: Actor<'_>,
) -> anyhow::Result<pipeline::alerts::channel::Channel> {
    w.channel_named(name, actor).await?.ok_or_else(|| {
        bad_input(format!(
            "no channel named {name:?} (see `alerts channel list`)"
        ))
    })
}

async fn deliveries(a: DeliveriesArgs) -> anyhow::Result<()> {
    let viewer = cli_viewer();
    let actor = Actor {
        viewer: &viewer,
        address: "",
    };
    let (w, _) = open(&a.pipeline).await?;
    let rows = w.deliveries(a.status, a.limit, actor).await?;
    w.close().await;
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Table => {
            for d in &rows {
                println!(
                    "{:>6}  {:<16}  {:<24}  store {:>4}  {:>3} alert(s)  {:<8}  attempts {}  {}",
                    d.id,
                    d.channel_name,
                    d.run,
                    d.store_id,
                    d.alert_count,
                    d.status.key(),
                    d.attempts,
                    d.last_error.as_deref().unwrap_or("")
                );
            }
        }
    }
    Ok(())
}
