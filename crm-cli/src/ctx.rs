//! What every command needs: the database, the organization and the acting user, and the
//! output format, resolved from the global options.

use std::io::IsTerminal as _;

use anyhow::{Context as _, Result};
use crm_core::{Crm, LocalCluster, Organization, Scope};

use crate::cli::{Format, Global};
use crate::exit;

pub struct Ctx {
    pub global: Global,
}

impl Ctx {
    pub fn new(global: Global) -> Self {
        Self { global }
    }

    /// The output format: as asked, else table on a terminal and JSON when piped.
    pub fn format(&self) -> Format {
        self.global
            .format
            .unwrap_or(if std::io::stdout().is_terminal() {
                Format::Table
            } else {
                Format::Json
            })
    }

    /// Progress and notes on stderr, unless --quiet.
    pub fn note(&self, msg: impl std::fmt::Display) {
        if !self.global.quiet {
            eprintln!("{msg}");
        }
    }

    /// Connects: to --database-url when given (which must be migrated), else to the local
    /// cluster (created, started and migrated as needed).
    pub async fn crm(&self) -> Result<Crm> {
        match self
            .global
            .database_url
            .as_deref()
            .filter(|u| !u.is_empty())
        {
            Some(url) => {
                let crm = Crm::connect(url).await?;
                let pending = crm
                    .migration_status()
                    .await?
                    .iter()
                    .filter(|m| m.applied_at.is_none())
                    .count();
                if pending > 0 {
                    return Err(exit::coded(
                        exit::UNAVAILABLE,
                        format!(
                            "the database has {pending} pending migration(s); run `crm db migrate` first"
                        ),
                    ));
                }
                Ok(crm)
            }
            None => {
                let home = LocalCluster::default_home();
                Ok(Crm::open_local(&home)
                    .await
                    .with_context(|| format!("local cluster in {}", home.display()))?)
            }
        }
    }

    /// The organization: --org / CRM_ORG, else the only one.
    pub async fn organization(&self, crm: &Crm) -> Result<Organization> {
        match &self.global.org {
            Some(slug) => crm.organization_by_slug(slug).await.map_err(|e| match e {
                crm_core::Error::NotFound { .. } => exit::coded(
                    exit::NOT_FOUND,
                    format!("no organization with slug '{slug}'; `crm org list` shows them"),
                ),
                e => e.into(),
            }),
            None => {
                let mut orgs = crm.organizations().await?;
                match orgs.len() {
                    1 => Ok(orgs.remove(0)),
                    0 => Err(exit::coded(
                        exit::NOT_FOUND,
                        "there is no organization yet; create one with `crm init --org NAME --admin-email EMAIL` or `crm demo`",
                    )),
                    n => Err(exit::usage(format!(
                        "there are {n} organizations; choose one with --org SLUG or CRM_ORG (`crm org list` shows them)"
                    ))),
                }
            }
        }
    }

    /// The scope: organization and acting user (--as / CRM_USER, else the first owner).
    pub async fn scope(&self) -> Result<(Crm, Organization, Scope)> {
        let crm = self.crm().await?;
        let org = self.organization(&crm).await?;
        let actor = match &self.global.as_user {
            Some(email) => match crm.user_by_email(org.id, email).await {
                Ok((id, _)) => id,
                Err(crm_core::Error::NotFound { .. }) => {
                    return Err(exit::coded(
                        exit::NOT_FOUND,
                        format!(
                            "no user with that e-mail in organization '{}' (--as / CRM_USER)",
                            org.slug
                        ),
                    ));
                }
                Err(e) => return Err(e.into()),
            },
            None => crm.first_owner(org.id).await?,
        };
        let scope = crm.scope(org.id, actor);
        Ok((crm, org, scope))
    }
}
