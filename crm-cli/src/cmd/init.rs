//! `crm init`: create an organization and its first owner.

use std::io::{IsTerminal as _, Read as _};

use anyhow::{Context as _, Result};
use clap::Args;
use crm_core::{NewOrganization, Organization};
use serde::Serialize;

use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};

/// Creates an organization and its first owner. `--org NAME` is the new organization's name
/// here (not the slug of an existing one, as for every other command); the environment's
/// CRM_ORG is never read as a new name.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The organization's name (`crm init`: the global `--org NAME` typed on the command
    /// line; `crm org create`: `--name`).
    #[arg(skip)]
    pub name: Option<String>,
    /// Short name for --org / CRM_ORG (default: derived from the name).
    #[arg(long)]
    pub slug: Option<String>,
    /// The first owner's e-mail address.
    #[arg(long)]
    pub admin_email: String,
    /// The owner's first name.
    #[arg(long, default_value = "")]
    pub admin_first_name: String,
    /// The owner's last name.
    #[arg(long, default_value = "")]
    pub admin_last_name: String,
    /// Read the owner's password from stdin (first line) instead of asking.
    #[arg(long)]
    pub password_stdin: bool,
    /// Create the owner without a password (library and CLI use only, no login).
    #[arg(long, conflicts_with = "password_stdin")]
    pub no_password: bool,
}

#[derive(Serialize)]
pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub retention_days: i32,
    /// The country national phone numbers are read in when a contact and its company have
    /// no address country (`crm org edit --region`).
    pub region: String,
    pub created_at: String,
}

impl From<Organization> for OrgRow {
    fn from(o: Organization) -> Self {
        Self {
            id: o.id.to_string(),
            name: o.name,
            slug: o.slug,
            retention_days: o.retention_days,
            region: o.default_region,
            created_at: o.created_at.to_rfc3339(),
        }
    }
}

impl Row for OrgRow {
    fn headers() -> Vec<&'static str> {
        vec![
            "id",
            "name",
            "slug",
            "retention_days",
            "region",
            "created_at",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.name.clone(),
            self.slug.clone(),
            self.retention_days.to_string(),
            self.region.clone(),
            self.created_at.clone(),
        ]
    }
}

pub async fn run(args: InitArgs, ctx: &Ctx) -> Result<u8> {
    // The global --org names an organization to use; here, typed on the command line, it is
    // the name to create. CRM_ORG (an existing organization's slug) is never a new name.
    let typed_org = ctx.global.org.clone().filter(|_| ctx.global.org_typed);
    let name = match args.name.clone().or(typed_org) {
        Some(n) if !n.trim().is_empty() => n,
        _ => {
            return Err(exit::usage(
                "--org NAME is required: the name of the organization to create \
                 (`crm org create --name NAME`; CRM_ORG is not read as a new name)",
            ));
        }
    };
    let password = if args.no_password {
        None
    } else if args.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from stdin")?;
        Some(s.lines().next().unwrap_or_default().to_string())
    } else if std::io::stdin().is_terminal() {
        let p = dialoguer::Password::new()
            .with_prompt("Password for the owner")
            .with_confirmation("Repeat it", "the passwords differ")
            .interact()
            .context("reading the password")?;
        Some(p)
    } else {
        return Err(exit::usage(
            "no terminal to ask for a password: use --password-stdin or --no-password",
        ));
    };
    let hash = match password {
        Some(p) => {
            Some(tokio::task::spawn_blocking(move || crm_core::auth::password::hash(&p)).await??)
        }
        None => None,
    };
    let crm = ctx.crm().await?;
    let created = crm
        .create_organization(NewOrganization {
            name,
            slug: args.slug,
            owner_email: args.admin_email,
            owner_first_name: args.admin_first_name,
            owner_last_name: args.admin_last_name,
            owner_password_hash: hash,
        })
        .await?;
    ctx.note(format!(
        "created organization '{}' with its owner; use --org {} when there are several",
        created.organization.slug, created.organization.slug
    ));
    output::one(ctx.format(), &OrgRow::from(created.organization))?;
    Ok(exit::OK)
}
