use anyhow::Context;
use clap::Parser;

use datamag360::cli::{Cli, Command, ServeArgs};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    datamag360::telemetry::init(cli.log_format);
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
