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
    match cli
        .command
        .unwrap_or(Command::Serve(ServeArgs::from_env_only()))
    {
        Command::Serve(args) => runtime.block_on(datamag360::web::serve(args)),
    }
}
