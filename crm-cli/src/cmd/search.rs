//! `crm search`: ranked search across contacts, companies and deals.

use anyhow::Result;
use clap::Args;
use crm_core::search::{Hit, search};

use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for: a name, e-mail, phone number, company or deal title (case, accents
    /// and German spellings do not matter: Müller = Mueller = MÜLLER).
    pub query: String,
    /// At most this many hits.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

impl Row for Hit {
    fn headers() -> Vec<&'static str> {
        vec!["kind", "id", "name", "email", "score"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.kind.clone(),
            self.id.to_string(),
            self.name.clone(),
            output::opt(&self.email),
            format!("{:.2}", self.score),
        ]
    }
}

pub async fn run(args: SearchArgs, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    // Read-only: on the replica when one is configured (--replica-url).
    let mut tx = scope.begin_read().await?;
    let hits = search(&mut tx, &args.query, args.limit).await?;
    tx.commit().await?;
    output::list(ctx.format(), &hits)?;
    Ok(exit::OK)
}
