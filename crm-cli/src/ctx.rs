//! What every command needs: the database, the organization and the acting user, and the
//! output format, resolved from the global options.

use std::io::IsTerminal as _;

use anyhow::Result;
use crm_core::frontend::{self, ActorChoice, SetupError};
use crm_core::{Crm, Organization, Scope};

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
        use crate::cli::FormatArg;
        match self.global.format {
            Some(FormatArg::Json) => Format::Json,
            Some(FormatArg::Ndjson) => Format::Ndjson,
            Some(FormatArg::Csv) => Format::Csv,
            Some(FormatArg::Table | FormatArg::Vcard) => Format::Table,
            None if std::io::stdout().is_terminal() => Format::Table,
            None => Format::Json,
        }
    }

    /// What `-v` shows on stderr: the database, organization, actor and timings.
    pub fn verbose(&self, msg: impl std::fmt::Display) {
        if self.global.verbose {
            eprintln!("crm: {msg}");
        }
    }

    /// The database as `-v` names it: the server without its password, or the local
    /// cluster's folder.
    fn database_label(&self) -> String {
        match &self.global.database_url {
            Some(url) => redact_url(url),
            None => format!(
                "local cluster in {}",
                crm_core::local::LocalCluster::default_home().display()
            ),
        }
    }

    /// Progress and notes on stderr, unless --quiet.
    pub fn note(&self, msg: impl std::fmt::Display) {
        if !self.global.quiet {
            eprintln!("{msg}");
        }
    }

    /// The set-up options of crm-core's shared front-end set-up, from the global options.
    fn setup_options(&self) -> frontend::Options {
        frontend::Options {
            database_url: self.global.database_url.clone(),
            home: None,
            organization: self.global.org.clone(),
            actor: match &self.global.as_user {
                Some(email) => ActorChoice::Email(email.clone()),
                None => ActorChoice::FirstOwner,
            },
        }
    }

    /// Connects: to --database-url when given (which must be migrated), else to the local
    /// cluster (created, started and migrated as needed).
    pub async fn crm(&self) -> Result<Crm> {
        let started = std::time::Instant::now();
        let crm = frontend::open_database(&self.setup_options())
            .await
            .map_err(setup_error)?;
        self.verbose(format_args!(
            "database: {} (ready in {} ms)",
            self.database_label(),
            started.elapsed().as_millis()
        ));
        Ok(self.with_replica(crm).await)
    }

    /// `crm` reading from --replica-url / CRM_REPLICA_URL when one is given; an unreachable
    /// replica is a warning, never an error (the primary serves the reads). The library's
    /// warnings go to stderr unless --quiet.
    pub async fn with_replica(&self, crm: Crm) -> Crm {
        let Some(url) = self.global.replica_url.as_deref().filter(|u| !u.is_empty()) else {
            return crm;
        };
        let quiet = self.global.quiet;
        crm.on_warning(std::sync::Arc::new(move |w: &str| {
            if !quiet {
                eprintln!("warning: {w}");
            }
        }));
        match crm.clone().with_read_replica(url).await {
            Ok(with) => with,
            Err(e) => {
                self.note(format!("warning: {e}; reading from the primary"));
                crm
            }
        }
    }

    /// The organization: --org / CRM_ORG, else the only one.
    pub async fn organization(&self, crm: &Crm) -> Result<Organization> {
        let org = frontend::choose_organization(crm, self.global.org.as_deref())
            .await
            .map_err(setup_error)?;
        self.verbose(format_args!("organization: {} ({})", org.slug, org.id));
        Ok(org)
    }

    /// The scope: organization and acting user (--as / CRM_USER, else the first owner).
    pub async fn scope(&self) -> Result<(Crm, Organization, Scope)> {
        let crm = self.crm().await?;
        let org = self.organization(&crm).await?;
        let actor = frontend::choose_actor(&crm, &org, &self.setup_options().actor)
            .await
            .map_err(setup_error)?;
        self.verbose(format_args!(
            "actor: user {} ({}, {})",
            actor.id,
            actor.role.as_str(),
            if self.global.as_user.is_some() {
                "--as / CRM_USER"
            } else {
                "the organization's first owner"
            }
        ));
        let scope = crm.scope(org.id, actor.id);
        Ok((crm, org, scope))
    }
}

/// The set-up's errors with the CLI's exit codes and flag names.
fn setup_error(e: SetupError) -> anyhow::Error {
    match e {
        SetupError::PendingMigrations { .. } => exit::coded(exit::UNAVAILABLE, e.to_string()),
        SetupError::NoOrganization | SetupError::UnknownOrganization { .. } => {
            exit::coded(exit::NOT_FOUND, e.to_string())
        }
        SetupError::SeveralOrganizations { organizations } => exit::usage(format!(
            "there are {} organizations; choose one with --org SLUG or CRM_ORG (`crm org list` shows them)",
            organizations.len()
        )),
        SetupError::UnknownUser { .. } => {
            exit::coded(exit::NOT_FOUND, format!("{e} (--as / CRM_USER)"))
        }
        SetupError::Core(e) => e.into(),
        e => e.into(),
    }
}

/// A database URL without its password (`postgres://crm:***@host/db`).
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "a database server (--database-url)".into();
    };
    match rest.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            let hidden = if user_info.contains(':') { ":***" } else { "" };
            let host = host.split('?').next().unwrap_or_default();
            format!("{scheme}://{user}{hidden}@{host}")
        }
        None => format!("{scheme}://{}", rest.split('?').next().unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_password_never_shows() {
        assert_eq!(
            super::redact_url("postgres://crm:geheim@db.example:5432/crm?sslmode=require"),
            "postgres://crm:***@db.example:5432/crm"
        );
        assert_eq!(
            super::redact_url("postgres:///crm?host=/tmp"),
            "postgres:///crm"
        );
    }
}
