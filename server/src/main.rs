use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use datamag360::cli::{Cli, Command, ServeArgs};
use datamag360::exit::outcome_of;

fn main() -> ExitCode {
    let cli = Cli::parse();
    datamag360::telemetry::init(cli.log_format);
    let result = run(cli);
    let outcome = outcome_of(&result);
    if let Err(e) = &result {
        // The whole chain on one line: "cannot open the warehouse …: … connection refused".
        eprintln!("error: {e:#}");
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
        Command::Healthcheck(args) => runtime.block_on(datamag360::commands::healthcheck(args)),
    }
}
