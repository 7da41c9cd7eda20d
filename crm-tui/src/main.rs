//! `crm-tui`: the terminal console. Opens the same database as `crm`, chooses the
//! organization and the acting user (or logs in), then runs the console.

mod login;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use chrono::Local;
use clap::Parser;
use crm_core::frontend::{self, ActorChoice, Options, SetupError};
use crm_core::{Crm, Organization};
use crm_tui::app::{App, Identity};
use crm_tui::command::Command;
use tokio::sync::mpsc::unbounded_channel;

/// The terminal console of the CRM: pipeline board, deals, contacts, search, due activities.
///
/// Keys: `?` shows them all, the footer those of the current view.
#[derive(Debug, Parser)]
#[command(name = "crm-tui", version)]
struct Args {
    /// PostgreSQL URL; without it, the local cluster in CRM_HOME (as `crm` uses).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Organization slug; a picker when there are several.
    #[arg(long, env = "CRM_ORG")]
    org: Option<String>,
    /// Act as the user with this e-mail address; without it, log in with e-mail and password.
    #[arg(long = "as", env = "CRM_USER")]
    as_user: Option<String>,
    /// Labels and money in German (default: from LANG).
    #[arg(long)]
    german: bool,
    /// Measure frame time, start-to-board and search latency instead of running.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(start(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// The organization: by slug, the only one, or picked from a numbered list.
async fn organization(crm: &Crm, slug: Option<&str>) -> Result<Organization> {
    match frontend::choose_organization(crm, slug).await {
        Ok(org) => Ok(org),
        Err(SetupError::SeveralOrganizations { mut organizations }) => {
            let names: Vec<String> = organizations
                .iter()
                .map(|o| format!("{} ({})", o.name, o.slug))
                .collect();
            let i = login::pick("Organization", &names)?;
            Ok(organizations.remove(i))
        }
        Err(e) => Err(e.into()),
    }
}

async fn start(args: Args) -> Result<()> {
    let started = std::time::Instant::now();
    if args.bench {
        return crm_tui::bench::run(args.database_url.as_deref(), args.org.as_deref()).await;
    }
    if !std::io::stdout().is_terminal() {
        bail!("crm-tui needs a terminal; use `crm` for scripts");
    }
    // The set-up shared with `crm`: database (pending migrations refused), organization,
    // actor.
    let options = Options {
        database_url: args.database_url.clone(),
        organization: args.org.clone(),
        ..Options::default()
    };
    let crm = frontend::open_database(&options).await?;
    let org = organization(&crm, args.org.as_deref()).await?;
    let (choice, email) = match &args.as_user {
        Some(email) => (ActorChoice::Email(email.clone()), email.clone()),
        None => {
            let (token, email) = login::login(&crm, org.id).await?;
            (ActorChoice::Session(token), email)
        }
    };
    let actor = frontend::choose_actor(&crm, &org, &choice).await?;
    let (actor, role) = (actor.id, actor.role);
    let scope = crm.scope(org.id, actor);
    let lang = std::env::var("LANG").unwrap_or_default();
    let mut app = App::new(
        Identity {
            org: org.name.clone(),
            user: email,
            role: role.to_string(),
            id: Some(actor),
        },
        Local::now().date_naive(),
    );
    // Times are shown and read in the user's zone (user, else organization, else machine).
    app.zone = scope
        .run(async |tx| crm_core::auth::zone::acting(tx).await)
        .await
        .unwrap_or_default();
    app.today = app.zone.date_of(chrono::Utc::now());
    app.color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    app.german = args.german || lang.starts_with("de");
    app.board.loading = true;
    let first = vec![Command::LoadBoard(None), Command::LoadLostReasons];

    let (tx, rx) = unbounded_channel();
    // Terminal events are read on a thread of their own: reading blocks.
    std::thread::spawn(move || {
        while let Ok(ev) = crossterm::event::read() {
            if tx.send(ev).is_err() {
                break;
            }
        }
    });
    // `init` enters the alternate screen and raw mode and installs a panic hook that
    // restores the terminal before the panic message is printed.
    let mut terminal = ratatui::init();
    if std::env::var_os("CRM_TUI_TIMING").is_some() {
        eprintln!("set-up took {:?}", started.elapsed());
    }
    let result = crm_tui::run(&mut terminal, &mut app, &scope, rx, first, true).await;
    ratatui::restore();
    result.context("terminal")?;
    Ok(())
}
