//! `crm-tui`: the terminal front-end for sales power users. This first version shows the
//! default pipeline as a board summary (stages with their open deals, value and weighted
//! value) and refreshes it on demand.

mod app;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use crm_core::{Crm, LocalCluster};
use ratatui::crossterm::event::{self, Event, KeyEventKind};

use app::{Action, App};

fn main() -> ExitCode {
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
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn run() -> Result<()> {
    if !std::io::stdout().is_terminal() {
        anyhow::bail!("crm-tui needs a terminal; use `crm` for scripts");
    }
    let crm = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => Crm::connect(&url).await?,
        None => Crm::open_local(&LocalCluster::default_home())
            .await
            .context("local cluster")?,
    };
    let orgs = crm.organizations().await?;
    let org = match std::env::var("CRM_ORG").ok() {
        Some(slug) => crm.organization_by_slug(&slug).await?,
        None if orgs.len() == 1 => orgs.into_iter().next().context("no organization")?,
        None => anyhow::bail!("set CRM_ORG to one of the organizations (`crm org list`)"),
    };
    let actor = match std::env::var("CRM_USER").ok() {
        Some(email) => crm.user_by_email(org.id, &email).await?.0,
        None => crm.first_owner(org.id).await?,
    };
    let scope = crm.scope(org.id, actor);
    let mut app = App::new(org.name.clone());
    app.load(&scope).await;

    let mut terminal = ratatui::init();
    let result = loop {
        if let Err(e) = terminal.draw(|f| app.draw(f)) {
            break Err(e.into());
        }
        let ev = match tokio::task::spawn_blocking(event::read).await {
            Ok(Ok(ev)) => ev,
            Ok(Err(e)) => break Err(e.into()),
            Err(e) => break Err(e.into()),
        };
        if let Event::Key(key) = ev {
            // crossterm also reports releases and repeats: act on presses only.
            if key.kind != KeyEventKind::Press {
                continue;
            }
            match app.handle_key(key) {
                Action::Quit => break Ok(()),
                Action::Refresh => app.load(&scope).await,
                Action::None => {}
            }
        }
    };
    ratatui::restore();
    result
}
