//! `datamag360 user add|list|set|disable|enable|token`: accounts from the command line,
//! for scripted deploys. Passwords come from a file or standard input, never from the
//! command line (it shows in `ps` and shell history).

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use pipeline::access::Role;
use pipeline::warehouse::accounts::AccountChange;
use pipeline::Reference;

use pipeline::secret;

use crate::cli::PipelineArgs;
use pipeline::password;

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account.
    Add(AddArgs),
    /// List the accounts.
    List(ListArgs),
    /// Change an account's role, stores or password.
    Set(SetArgs),
    /// Disable an account (its sessions and tokens stop working at once).
    Disable(NameArgs),
    /// Enable a disabled account.
    Enable(NameArgs),
    /// Create a personal token for tools (Excel, Power BI): printed once, stored hashed.
    Token(TokenArgs),
}

/// Where the new password comes from.
#[derive(Debug, Clone, Args)]
pub struct PasswordSource {
    /// Read the password from this file (first line; a mounted secret).
    #[arg(long, value_name = "FILE", conflicts_with = "password_stdin")]
    pub password_file: Option<PathBuf>,

    /// Read the password from standard input (first line).
    #[arg(long)]
    pub password_stdin: bool,
}

impl PasswordSource {
    fn read(&self) -> anyhow::Result<Option<String>> {
        let text = match (&self.password_file, self.password_stdin) {
            (Some(path), _) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the password file {}", path.display()))?,
            (None, true) => {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("cannot read the password from standard input")?;
                s
            }
            (None, false) => return Ok(None),
        };
        let line = text.lines().next().unwrap_or("").to_string();
        password::check_policy(&line)?;
        Ok(Some(line))
    }
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The username (sign-in is case-insensitive).
    pub name: String,

    /// admin (everything), analyst (every store's figures) or manager (listed stores).
    #[arg(long, value_parser = parse_role)]
    pub role: Role,

    /// A manager's stores: ids or names, comma-separated (`1,3` or `Paris,Lyon`).
    #[arg(long, value_name = "STORES", default_value = "")]
    pub manages: String,

    #[command(flatten)]
    pub password: PasswordSource,

    /// No password: the account signs in only through single sign-on.
    #[arg(long, conflicts_with_all = ["password_file", "password_stdin"])]
    pub no_password: bool,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    pub name: String,

    #[arg(long, value_parser = parse_role)]
    pub role: Option<Role>,

    /// The manager's stores, replacing the current list (`""` for none).
    #[arg(long, value_name = "STORES")]
    pub manages: Option<String>,

    #[command(flatten)]
    pub password: PasswordSource,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

#[derive(Debug, Args)]
pub struct NameArgs {
    pub name: String,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The account the token acts as (same stores, same role).
    pub name: String,

    /// What the token is for (shown in the account's token list).
    #[arg(long = "label", default_value = "tool")]
    pub label: String,

    /// Days until it expires.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=730))]
    pub days: u32,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::from_code(s).ok_or_else(|| format!("unknown role {s:?}: admin, analyst or manager"))
}

/// `1,3` or `Paris,Lyon` → store ids, each checked against the chain.
pub fn parse_stores(text: &str, reference: &Reference) -> anyhow::Result<Vec<u32>> {
    let mut ids = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let store = match item.parse::<u32>() {
            Ok(id) => reference.store(id),
            Err(_) => reference.store_by_city(item),
        };
        match store {
            Some(s) => ids.push(s.store_id),
            None => bail!("unknown store {item:?}: give a store id or its city_store name"),
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

pub(crate) async fn open(args: &PipelineArgs) -> anyhow::Result<(pipeline::Warehouse, Reference)> {
    let reference = args
        .chain
        .load()
        .context("cannot load the stores and sensors")?;
    let warehouse = match &args.database_url {
        Some(url) => pipeline::Warehouse::connect(url).await,
        None => pipeline::Warehouse::open_in_dir(&args.data_dir).await,
    }
    .context("cannot open the warehouse")?;
    Ok((warehouse, reference))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Runs one `user` command.
pub async fn run(args: UserArgs) -> anyhow::Result<()> {
    match args.command {
        UserCommand::Add(a) => {
            let (w, reference) = open(&a.pipeline).await?;
            let stores = parse_stores(&a.manages, &reference)?;
            if a.role == Role::Manager && stores.is_empty() {
                tracing::warn!("a manager without stores sees no figure: add --manages");
            }
            let phc = match a.password.read()? {
                Some(p) => Some(password::hash(p).await?),
                None if a.no_password => None,
                None => bail!(
                    "give the password with --password-file FILE or --password-stdin \
                     (or --no-password for a single sign-on account)"
                ),
            };
            w.create_account(&a.name, phc.as_deref(), a.role, &stores, now())
                .await?;
            w.audit(
                now(),
                "cli",
                "",
                "user added",
                &format!("{} ({})", a.name, a.role.code()),
            )
            .await?;
            println!("account {} created ({})", a.name, a.role.code());
            w.close().await;
        }
        UserCommand::List(a) => {
            let (w, _) = open(&a.pipeline).await?;
            let accounts = w.accounts().await?;
            if accounts.is_empty() {
                println!("no account yet");
            }
            for u in accounts {
                println!(
                    "{:<24} {:<8} {:<9} stores={}",
                    u.username,
                    u.role.code(),
                    if u.disabled { "disabled" } else { "active" },
                    if u.role.sees_every_store() {
                        "all".to_string()
                    } else {
                        u.stores
                            .iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(",")
                    }
                );
            }
            w.close().await;
        }
        UserCommand::Set(a) => {
            let (w, reference) = open(&a.pipeline).await?;
            let stores = a
                .manages
                .as_deref()
                .map(|s| parse_stores(s, &reference))
                .transpose()?;
            let password_hash = match a.password.read()? {
                Some(p) => Some(Some(password::hash(p).await?)),
                None => None,
            };
            let change = AccountChange {
                role: a.role,
                stores,
                disabled: None,
                password_hash,
            };
            let u = w.update_account(&a.name, &change).await?;
            w.audit(now(), "cli", "", "user changed", &u.username)
                .await?;
            println!("account {} updated ({})", u.username, u.role.code());
            w.close().await;
        }
        UserCommand::Disable(a) => set_disabled(a, true).await?,
        UserCommand::Enable(a) => set_disabled(a, false).await?,
        UserCommand::Token(a) => {
            let (w, _) = open(&a.pipeline).await?;
            let Some(account) = w.account_named(&a.name).await? else {
                bail!("no account named {:?}", a.name);
            };
            let token = secret::new_token()?;
            let expires = now() + i64::from(a.days) * 86_400;
            w.create_token(
                account.id,
                &a.label,
                &secret::digest(&token),
                now(),
                expires,
            )
            .await?;
            w.audit(
                now(),
                "cli",
                "",
                "token created",
                &format!("{} ({})", account.username, a.label),
            )
            .await?;
            eprintln!(
                "token for {} ({}), valid {} days; it is shown only now:",
                account.username, a.label, a.days
            );
            println!("{token}");
            w.close().await;
        }
    }
    Ok(())
}

async fn set_disabled(a: NameArgs, disabled: bool) -> anyhow::Result<()> {
    let (w, _) = open(&a.pipeline).await?;
    let change = AccountChange {
        disabled: Some(disabled),
        ..AccountChange::default()
    };
    let u = w.update_account(&a.name, &change).await?;
    let action = if disabled {
        "user disabled"
    } else {
        "user enabled"
    };
    w.audit(now(), "cli", "", action, &u.username).await?;
    println!(
        "account {} {}",
        u.username,
        if disabled { "disabled" } else { "enabled" }
    );
    w.close().await;
    Ok(())
}
