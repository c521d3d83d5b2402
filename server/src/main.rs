use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use datamag360::cli::{Cli, Command, ServeArgs};
use datamag360::exit::outcome_of;

fn main() -> ExitCode {
    pipeline::memory::limit_malloc_arenas();
    let cli = Cli::parse();
    datamag360::telemetry::init(cli.log_format);
    let result = run(cli);
    let outcome = outcome_of(&result);
    if let Err(e) = &result {
        eprintln!("error: {}", one_line(e));
    }
    ExitCode::from(outcome.code())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::from_env_only()));
    match command {
        Command::Serve(args) => runtime.block_on(datamag360::web::serve(args)),
        Command::Backfill(args) => runtime.block_on(datamag360::commands::backfill(args)),
        Command::Import(args) => runtime.block_on(datamag360::commands::import(args)),
        Command::Status(args) => runtime.block_on(datamag360::commands::status(args)),
        Command::User(args) => runtime.block_on(datamag360::auth::cli::run(args)),
        Command::Alerts(args) => runtime.block_on(datamag360::alerts_cli::run(*args)),
        Command::Healthcheck(args) => runtime.block_on(datamag360::commands::healthcheck(args)),
        Command::Incidents(args) => datamag360::commands::incidents(args),
    }
}

/// The error and its causes on one line ("cannot open the warehouse …: cannot connect to
/// …: Connection refused"), each cause once: library errors often repeat their source's text.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
