//! `crm org`: organizations.

use anyhow::Result;
use clap::Subcommand;

use crate::cmd::init::OrgRow;
use crate::ctx::Ctx;
use crate::exit;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// List organizations.
    List,
    /// Show the current organization (--org, or the only one).
    Show,
    /// Create an organization and its first owner: `crm org create --name NAME
    /// --admin-email EMAIL` (like `crm init`; CRM_ORG is never read as the new name).
    Create(OrgCreateArgs),
    /// Change the current organization's settings (admins).
    Edit {
        /// The country national phone numbers are read in when neither the contact nor
        /// its company has an address country: a two-letter code such as DE, AT or CH.
        #[arg(long, value_name = "CC")]
        region: Option<String>,
    },
}

/// `crm org create`: the new organization's name, then what `crm init` takes.
#[derive(Debug, clap::Args)]
pub struct OrgCreateArgs {
    /// The new organization's name.
    #[arg(long)]
    pub name: String,
    #[command(flatten)]
    pub init: crate::cmd::init::InitArgs,
}

pub async fn run(cmd: OrgCommand, ctx: &Ctx) -> Result<u8> {
    match cmd {
        OrgCommand::List => {
            let crm = ctx.crm().await?;
            let rows: Vec<OrgRow> = crm
                .organizations()
                .await?
                .into_iter()
                .map(OrgRow::from)
                .collect();
            output::list(ctx.format(), &rows)?;
            Ok(exit::OK)
        }
        OrgCommand::Show => {
            let crm = ctx.crm().await?;
            let org = ctx.organization(&crm).await?;
            output::one(ctx.format(), &OrgRow::from(org))?;
            Ok(exit::OK)
        }
        OrgCommand::Create(args) => {
            let mut init = args.init;
            init.name = Some(args.name);
            crate::cmd::init::run(init, ctx).await
        }
        OrgCommand::Edit { region } => {
            let Some(region) = region else {
                return Err(exit::usage(
                    "nothing to change: give --region CC (e.g. --region CH)",
                ));
            };
            let (crm, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            crm_core::region::set_default_region(&mut tx, &region).await?;
            tx.commit().await?;
            let org = ctx.organization(&crm).await?;
            output::one(ctx.format(), &OrgRow::from(org))?;
            Ok(exit::OK)
        }
    }
}
