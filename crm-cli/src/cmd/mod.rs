//! One module per command group, each with its arguments and `run`.

pub mod activity;
pub mod analytics;
pub mod audit;
pub mod bench;
pub mod bulk_edit;
pub mod channels;
pub mod company;
pub mod contact;
pub mod db;
pub mod deal;
pub mod dedupe;
pub mod demo;
pub mod events;
pub mod export;
pub mod gdpr;
pub mod generate;
pub mod import;
pub mod init;
pub mod lexware;
pub mod lists;
pub mod man;
pub mod org;
pub mod pipeline;
pub mod remind;
pub mod search;
pub mod user;

use anyhow::Result;
use clap::CommandFactory as _;

use crate::cli::{Cli, Command};
use crate::ctx::Ctx;
use crate::exit;

/// Runs the parsed command; returns the exit code.
pub async fn run(cli: Cli) -> Result<u8> {
    let ctx = Ctx::new(cli.global);
    match cli.command {
        Command::Init(args) => init::run(args, &ctx).await,
        Command::Demo(args) => demo::run(args, &ctx).await,
        Command::Db(c) => db::run(c, &ctx).await,
        Command::Org(c) => org::run(c, &ctx).await,
        Command::Contact(c) => contact::run(c, &ctx).await,
        Command::Company(c) => company::run(c, &ctx).await,
        Command::List(c) => lists::run(c, &ctx).await,
        Command::Deal(c) => deal::run(c, &ctx).await,
        Command::Pipeline(c) => pipeline::run(c, &ctx).await,
        Command::Activity(c) => activity::run(c, &ctx).await,
        Command::Search(a) => search::run(a, &ctx).await,
        Command::Import(a) => import::run(a, &ctx).await,
        Command::Export(a) => export::run(a, &ctx).await,
        Command::Generate(a) => generate::run(a, &ctx).await,
        Command::Bench(a) => bench::run(a, &ctx).await,
        Command::Audit(c) => audit::run(c, &ctx).await,
        Command::Events(c) => events::run(c, &ctx).await,
        Command::Remind(a) => remind::run(a, &ctx).await,
        Command::Gdpr(c) => gdpr::run(c, &ctx).await,
        Command::User(c) => user::run(c, &ctx).await,
        Command::Lexware(c) => lexware::run(c, &ctx).await,
        Command::Completions { shell } => {
            // Generated whole first: clap_complete panics on a write error (a closed pipe).
            let mut cmd = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "crm", &mut script);
            crate::pipe::write_all(&script)?;
            Ok(exit::OK)
        }
        Command::Man(args) => man::run(args, &ctx),
    }
}
