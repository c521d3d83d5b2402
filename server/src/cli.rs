//! Command line and configuration. Every option can also be set through the environment
//! variable named in `--help` (12-factor); `PORT` is honoured as Render sets it.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};

use crate::telemetry::LogFormat;

#[derive(Debug, Parser)]
#[command(
    name = "datamag360",
    version,
    about = "DataMag360: store-traffic simulator API, data pipeline and KPI dashboard in one binary",
    long_about = None,
    after_help = crate::exit::EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Log output format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the dashboard, and run the scheduled jobs (the default).
    Serve(ServeArgs),
    /// Collect, ingest and transform every day of a range (same code as the scheduler).
    Backfill(BackfillArgs),
    /// Load historical CSV files (original column layout) through raw and the cleaning.
    Import(ImportArgs),
    /// Show the job ledger: counts per job and status, recent failures.
    Status(StatusArgs),
    /// Manage accounts: add, list, set, disable, enable, token.
    User(crate::auth::cli::UserArgs),
    /// The alerts of a period (`--from D --to D --format json|table`), their delivery
    /// channels (`channel add|list|test|…`) and deliveries.
    Alerts(Box<crate::alerts_cli::AlertsArgs>),
    /// Probe a running server's /health, or /ready with --ready (exit code 0 when it
    /// answers 200): container health checks.
    Healthcheck(HealthcheckArgs),
    /// Print the incidents the simulator injects (the ground truth alerts are scored
    /// against): kind, store, sensor, start, end.
    Incidents(IncidentsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct IncidentsArgs {
    /// First day (YYYY-MM-DD, Paris local).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: chrono::NaiveDate,

    /// Last day, included (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: chrono::NaiveDate,

    /// Output: `table` for people, `json` for scripts.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Simulator profile (the `original` profile has no incidents).
    #[arg(long = "simulator", env = "DATAMAG_SIMULATOR", default_value = "default",
          value_parser = clap::builder::PossibleValuesParser::new(["default", "original"])
              .map(|s| s.parse::<pipeline::Profile>().unwrap_or_default()))]
    pub simulator: pipeline::Profile,

    /// Incidents on or off (`off`: none are injected, none printed).
    #[arg(long, env = "DATAMAG_INCIDENTS", default_value = "on", value_parser = incidents_switch)]
    pub incidents: pipeline::simulator::incidents::Incidents,

    #[command(flatten)]
    pub chain: ChainArgs,
}

/// How a command prints rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// Port of the server to probe (on 127.0.0.1).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,

    /// Probe readiness (`/ready`: warehouse and remote lake reachable) instead of liveness
    /// (`/health`: the process answers).
    #[arg(long)]
    pub ready: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BackfillArgs {
    /// First day (YYYY-MM-DD, Paris local).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: chrono::NaiveDate,

    /// Last day, included (YYYY-MM-DD); days after now are skipped.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: chrono::NaiveDate,

    /// Run partitions already done again (idempotent: changes nothing).
    #[arg(long)]
    pub force: bool,

    /// Retry failed partitions now, even those out of attempts.
    #[arg(long)]
    pub retry_failed: bool,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// CSV files: `store_id,sensor_id,date,heure,nb_visiteurs` or
    /// `store_id,date,heure,transactions,chiffre_affaires`.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

/// Where the pipeline keeps its data.
#[derive(Debug, Clone, Args)]
pub struct PipelineArgs {
    /// Data directory: the SQLite warehouse and the local lake live here by default.
    #[arg(long, env = "DATAMAG_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Warehouse database: `postgres://user:pass@host/db` or `sqlite://file.db`
    /// (default: `<data dir>/warehouse.db`).
    /// TLS: `?sslmode=disable|allow|prefer|require|verify-ca|verify-full`, with
    /// `&sslrootcert=/path/ca.pem` for a private CA.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = trimmed)]
    pub database_url: Option<String>,

    /// Lake location: `az://container/prefix`, `s3://bucket/prefix` or `file:///path`
    /// (default: `<data dir>/lake`). Credentials come from AZURE_* / AWS_* variables.
    #[arg(long, env = "DATAMAG_LAKE_URL", value_parser = trimmed)]
    pub lake_url: Option<String>,

    /// Collect from this server (original API: /releves, else /visiteurs + /transactions)
    /// instead of the built-in simulator.
    #[arg(long, env = "DATAMAG_SOURCE_URL", value_parser = trimmed)]
    pub source_url: Option<String>,

    /// Simulator profile: `default` (the original's rules, its defects fixed) or
    /// `original` (the original service's numbers exactly, quirks included).
    #[arg(long = "simulator", env = "DATAMAG_SIMULATOR", default_value = "default",
          value_parser = clap::builder::PossibleValuesParser::new(["default", "original"])
              .map(|s| s.parse::<pipeline::Profile>().unwrap_or_default()))]
    pub simulator: pipeline::Profile,

    /// Incidents in the default profile's simulator (silent, stuck and degraded sensors,
    /// weekday closures, event days, till feed failures; the ground truth is printed by
    /// `datamag360 incidents`): `on` or `off`.
    #[arg(long, env = "DATAMAG_INCIDENTS", default_value = "on", value_parser = incidents_switch)]
    pub incidents: pipeline::simulator::incidents::Incidents,

    /// Days collected before today on the very first start.
    #[arg(long, env = "DATAMAG_BACKFILL_DAYS", default_value_t = 21)]
    pub backfill_days: u32,

    #[command(flatten)]
    pub chain: ChainArgs,

    #[command(flatten)]
    pub smtp: SmtpArgs,
}

/// The SMTP server email alert channels go through (STARTTLS is required).
#[derive(Debug, Clone, Args)]
pub struct SmtpArgs {
    /// SMTP server for email alerts; email channels fail (visibly) without it.
    #[arg(long, env = "DATAMAG_SMTP_HOST", value_parser = trimmed)]
    pub smtp_host: Option<String>,

    /// Its port (submission with STARTTLS).
    #[arg(long, env = "DATAMAG_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,

    /// The account to sign in with (none: no authentication).
    #[arg(long, env = "DATAMAG_SMTP_USER", value_parser = trimmed)]
    pub smtp_user: Option<String>,

    /// File holding the account's password (a mounted secret; first line).
    #[arg(long, env = "DATAMAG_SMTP_PASSWORD_FILE")]
    pub smtp_password_file: Option<PathBuf>,

    /// The sender: `alerts@example.com` or `DataMag360 <alerts@example.com>`.
    #[arg(long, env = "DATAMAG_SMTP_FROM", value_parser = trimmed)]
    pub smtp_from: Option<String>,

    /// A CA certificate (PEM) to trust besides the system's, for a private CA.
    #[arg(long, env = "DATAMAG_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
}

impl SmtpArgs {
    /// The SMTP settings, or `None` when no server is configured.
    pub fn config(&self) -> anyhow::Result<Option<pipeline::alerts::delivery::email::SmtpConfig>> {
        let Some(host) = self.smtp_host.clone().filter(|h| !h.is_empty()) else {
            return Ok(None);
        };
        let Some(from) = self.smtp_from.clone().filter(|f| !f.is_empty()) else {
            anyhow::bail!("DATAMAG_SMTP_HOST is set: give the sender too (DATAMAG_SMTP_FROM)");
        };
        let read = |path: &PathBuf, what: &str| {
            std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read the SMTP {what} {}: {e}", path.display()))
        };
        let password = match &self.smtp_password_file {
            Some(path) => Some(
                String::from_utf8_lossy(&read(path, "password file")?)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
            ),
            None => None,
        };
        let extra_ca_pem = match &self.smtp_ca_file {
            Some(path) => Some(read(path, "CA file")?),
            None => None,
        };
        Ok(Some(pipeline::alerts::delivery::email::SmtpConfig {
            host,
            port: self.smtp_port,
            user: self.smtp_user.clone().filter(|u| !u.is_empty()),
            password,
            from,
            extra_ca_pem,
        }))
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; use 0.0.0.0 in a container.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,

    /// Folder holding the built site (`pkg/datamag360.js`, `.wasm`, `.css`).
    #[arg(long, env = "DATAMAG_SITE_ROOT", default_value = "site")]
    pub site_root: PathBuf,

    /// Bearer token for the admin API (`POST /admin/...`); the admin API is off without it.
    /// Surrounding whitespace (a trailing newline) is ignored.
    #[arg(long, env = "DATAMAG_ADMIN_TOKEN", hide_env_values = true, value_parser = trimmed)]
    pub admin_token: Option<String>,

    /// File holding the admin token (a mounted secret); surrounding whitespace is ignored.
    #[arg(long, env = "DATAMAG_ADMIN_TOKEN_FILE", conflicts_with = "admin_token")]
    pub admin_token_file: Option<PathBuf>,

    /// Sign-in: `auto` requires it once an account exists (and shows nothing off loopback
    /// until the first admin is created), `off` opens every figure to every visitor.
    #[arg(long, env = "DATAMAG_AUTH", value_enum, default_value_t = crate::auth::AuthSetting::Auto)]
    pub auth: crate::auth::AuthSetting,

    /// When the session cookie is marked `Secure`: `auto` (over HTTPS, as told by a
    /// trusted proxy's X-Forwarded-Proto), `always` or `never`.
    #[arg(long, env = "DATAMAG_COOKIE_SECURE", value_enum, default_value_t = crate::auth::CookieSecure::Auto)]
    pub cookie_secure: crate::auth::CookieSecure,

    /// Trust the proxy's X-Forwarded-For and X-Forwarded-Proto (Render, a load balancer).
    #[arg(
        long,
        env = "DATAMAG_TRUST_PROXY",
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_value = "false",
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub trust_proxy: bool,

    /// Minutes without a request after which a session ends.
    #[arg(long, env = "DATAMAG_SESSION_IDLE_MINUTES", default_value_t = crate::auth::DEFAULT_IDLE_MINUTES,
          value_parser = clap::value_parser!(i64).range(1..=10_080))]
    pub session_idle_minutes: i64,

    /// Hours after sign-in at which a session ends, whatever its activity.
    #[arg(long, env = "DATAMAG_SESSION_MAX_HOURS", default_value_t = crate::auth::DEFAULT_LIFETIME_HOURS,
          value_parser = clap::value_parser!(i64).range(1..=720))]
    pub session_max_hours: i64,

    /// Bearer token `/metrics` asks for (open without it).
    #[arg(long, env = "DATAMAG_METRICS_TOKEN", hide_env_values = true, value_parser = trimmed)]
    pub metrics_token: Option<String>,

    /// Do not run the scheduled jobs in this process (API and dashboard only).
    /// Accepts 1/0, true/false, yes/no, on/off.
    #[arg(
        long,
        env = "DATAMAG_NO_SCHEDULER",
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_value = "false",
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub no_scheduler: bool,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

impl ServeArgs {
    /// The admin token from `--admin-token` or the file `--admin-token-file`, trimmed;
    /// `None` when neither is set or the value is blank.
    pub fn admin_token(&self) -> anyhow::Result<Option<String>> {
        let token = match (&self.admin_token, &self.admin_token_file) {
            (Some(t), _) => t.clone(),
            (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("cannot read the admin token file {}: {e}", path.display())
            })?,
            (None, None) => return Ok(None),
        };
        let token = token.trim();
        Ok((!token.is_empty()).then(|| token.to_string()))
    }

    /// `serve`'s options when no command was given: environment variables and defaults.
    pub fn from_env_only() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            args: ServeArgs,
        }
        Only::parse_from(["datamag360"]).args
    }
}

/// Which stores and sensors to simulate.
#[derive(Debug, Clone, Args)]
pub struct ChainArgs {
    /// CSV file of stores (`store_id,city_store,coef`); default: the 10 original stores.
    #[arg(long, env = "DATAMAG_STORES", requires = "sensors")]
    pub stores: Option<PathBuf>,

    /// CSV file of sensors (`sensor_id,store_id,coef`); default: the 83 original sensors.
    #[arg(long, env = "DATAMAG_SENSORS", requires = "stores")]
    pub sensors: Option<PathBuf>,

    /// Simulate a synthetic chain of this many stores instead (scale runs).
    #[arg(long, env = "DATAMAG_SYNTHETIC_STORES", conflicts_with_all = ["stores", "sensors"])]
    pub synthetic_stores: Option<u32>,
}

impl ChainArgs {
    pub fn load(&self) -> Result<pipeline::Reference, pipeline::ReferenceError> {
        match (&self.stores, &self.sensors, self.synthetic_stores) {
            (_, _, Some(n)) => pipeline::Reference::synthetic(n, 360),
            (Some(stores), Some(sensors), None) => {
                pipeline::Reference::from_csv_files(stores, sensors)
            }
            _ => Ok(pipeline::Reference::embedded()),
        }
    }
}

/// `on`/`off` (or any boolean word) for `DATAMAG_INCIDENTS`.
fn incidents_switch(value: &str) -> Result<pipeline::simulator::incidents::Incidents, String> {
    value.parse()
}

/// Values from variables and files often end with a newline or a stray space: a URL or a
/// secret is used trimmed.
fn trimmed(value: &str) -> Result<String, std::convert::Infallible> {
    Ok(value.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> ServeArgs {
        let mut all = vec!["datamag360", "serve"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all).expect("parses").command {
            Some(Command::Serve(s)) => s,
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn booleans_accept_what_people_write() {
        assert!(!serve(&[]).no_scheduler);
        assert!(serve(&["--no-scheduler"]).no_scheduler);
        for yes in ["1", "true", "yes", "on", "TRUE", "Yes"] {
            assert!(
                serve(&[&format!("--no-scheduler={yes}")]).no_scheduler,
                "{yes}"
            );
        }
        for no in ["0", "false", "no", "off"] {
            assert!(
                !serve(&[&format!("--no-scheduler={no}")]).no_scheduler,
                "{no}"
            );
        }
        assert!(
            Cli::try_parse_from(["datamag360", "serve", "--no-scheduler=maybe"]).is_err(),
            "an unknown word is refused, not read as false"
        );
    }

    #[test]
    fn secrets_and_urls_are_trimmed() {
        let s = serve(&[
            "--admin-token",
            "  0123456789abcdef\n",
            "--database-url",
            "postgres://u@h/db\n",
        ]);
        assert_eq!(
            s.admin_token().expect("token").as_deref(),
            Some("0123456789abcdef")
        );
        assert_eq!(
            s.pipeline.database_url.as_deref(),
            Some("postgres://u@h/db")
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("token");
        std::fs::write(&file, "fedcba9876543210\n").expect("write");
        let s = serve(&["--admin-token-file", &file.to_string_lossy()]);
        assert_eq!(
            s.admin_token().expect("token").as_deref(),
            Some("fedcba9876543210")
        );
        assert_eq!(
            serve(&["--admin-token", " \n"])
                .admin_token()
                .expect("blank"),
            None
        );
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        // Unique argument names in every subcommand (clap checks them only when a
        // subcommand is used, so a clash would otherwise surface at a user's first call).
        Cli::command().debug_assert();
    }

    #[test]
    fn the_help_lists_the_exit_codes() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("Exit codes:"), "{help}");
        assert!(help.contains("75   incomplete"), "{help}");
    }
}
