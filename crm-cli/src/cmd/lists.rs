//! `crm list`: the admin-configurable lists (industries, account types, relationship
//! types, lost reasons). Entries have a stable key that records and scripts use, an English
//! and a German label, and an active flag. Changing them needs the admin or owner role.

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use crm_core::Error;
use crm_core::store::list::{self, ListEntry, ListKind};

use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Industries of companies.
    #[value(alias = "industry")]
    Industries,
    /// Account types of companies (prospect, customer, ...).
    #[value(
        alias = "account-type",
        alias = "account_types",
        alias = "account_type"
    )]
    AccountTypes,
    /// Types of company-to-company relationships (parent_of, ...).
    #[value(
        alias = "relationship-type",
        alias = "relationship_types",
        alias = "relationship_type"
    )]
    RelationshipTypes,
    /// Why deals were lost.
    #[value(alias = "lost-reason", alias = "lost_reasons", alias = "lost_reason")]
    LostReasons,
}

impl Kind {
    fn list(self) -> ListKind {
        match self {
            Kind::Industries => ListKind::Industry,
            Kind::AccountTypes => ListKind::AccountType,
            Kind::RelationshipTypes => ListKind::RelationshipType,
            Kind::LostReasons => ListKind::LostReason,
        }
    }

    /// The name as typed on the command line.
    fn arg(self) -> &'static str {
        match self {
            Kind::Industries => "industries",
            Kind::AccountTypes => "account-types",
            Kind::RelationshipTypes => "relationship-types",
            Kind::LostReasons => "lost-reasons",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// Show a list's entries in order, deactivated ones included.
    ///
    /// JSON: an array of `{id, key, label_en, label_de, position, active}`.
    Show {
        /// industries, account-types, relationship-types or lost-reasons.
        #[arg(value_enum)]
        kind: Kind,
    },
    /// Add an entry at the end of a list.
    Add {
        /// industries, account-types, relationship-types or lost-reasons.
        #[arg(value_enum)]
        kind: Kind,
        /// The stable key records and scripts use: 1 to 64 of a-z, 0-9 and _.
        #[arg(long)]
        key: String,
        /// English label.
        #[arg(long = "en", value_name = "LABEL")]
        label_en: String,
        /// German label (default: the English one).
        #[arg(long = "de", value_name = "LABEL")]
        label_de: Option<String>,
    },
    /// Change an entry's labels; its key stays. A label not given stays as it is.
    Rename {
        /// industries, account-types, relationship-types or lost-reasons.
        #[arg(value_enum)]
        kind: Kind,
        /// The entry: its key (or a label).
        key: String,
        /// New English label.
        #[arg(
            long = "en",
            value_name = "LABEL",
            required_unless_present = "label_de"
        )]
        label_en: Option<String>,
        /// New German label.
        #[arg(long = "de", value_name = "LABEL")]
        label_de: Option<String>,
    },
    /// Deactivate an entry: records keep it, new records cannot choose it.
    Deactivate {
        /// industries, account-types, relationship-types or lost-reasons.
        #[arg(value_enum)]
        kind: Kind,
        /// The entry: its key (or a label).
        key: String,
    },
    /// Activate a deactivated entry again.
    Activate {
        /// industries, account-types, relationship-types or lost-reasons.
        #[arg(value_enum)]
        kind: Kind,
        /// The entry: its key (or a label).
        key: String,
    },
    /// Remove an entry no record uses; one in use is refused (exit 4): deactivate it
    /// instead. Asks on a terminal; scripts pass --yes.
    Remove {
        /// industries, account-types, relationship-types or lost-reasons.
        #[arg(value_enum)]
        kind: Kind,
        /// The entry: its key (or a label).
        key: String,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Check that it can be removed (exit 4 when in use), change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

impl Row for ListEntry {
    fn headers() -> Vec<&'static str> {
        vec!["key", "english", "german", "position", "active"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.key.clone(),
            self.label_en.clone(),
            self.label_de.clone(),
            self.position.to_string(),
            if self.active { "yes" } else { "no" }.to_string(),
        ]
    }
}

/// The entry named by key or label, with a hint when there is none.
async fn find(tx: &mut crm_core::Tx, kind: Kind, key: &str) -> Result<ListEntry> {
    match list::find(tx, kind.list(), key).await {
        Ok(e) => Ok(e),
        Err(Error::NotFound { entity }) => Err(exit::coded(
            exit::NOT_FOUND,
            format!(
                "{entity} not found; `crm list show {}` shows the keys",
                kind.arg()
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn run(cmd: ListCommand, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    match cmd {
        ListCommand::Show { kind } => {
            let entries = list::list(&mut tx, kind.list()).await?;
            tx.commit().await?;
            output::list(ctx.format(), &entries)?;
        }
        ListCommand::Add {
            kind,
            key,
            label_en,
            label_de,
        } => {
            let entry = list::add(
                &mut tx,
                kind.list(),
                &key,
                &label_en,
                label_de.as_deref().unwrap_or(""),
            )
            .await?;
            tx.commit().await?;
            output::one(ctx.format(), &entry)?;
        }
        ListCommand::Rename {
            kind,
            key,
            label_en,
            label_de,
        } => {
            let current = find(&mut tx, kind, &key).await?;
            let en = label_en.unwrap_or(current.label_en);
            let de = label_de.unwrap_or(current.label_de);
            let entry = list::rename(&mut tx, kind.list(), current.id, &en, &de).await?;
            tx.commit().await?;
            output::one(ctx.format(), &entry)?;
        }
        ListCommand::Deactivate { kind, key } => {
            let current = find(&mut tx, kind, &key).await?;
            let entry = list::set_active(&mut tx, kind.list(), current.id, false).await?;
            tx.commit().await?;
            output::one(ctx.format(), &entry)?;
        }
        ListCommand::Activate { kind, key } => {
            let current = find(&mut tx, kind, &key).await?;
            let entry = list::set_active(&mut tx, kind.list(), current.id, true).await?;
            tx.commit().await?;
            output::one(ctx.format(), &entry)?;
        }
        ListCommand::Remove {
            kind,
            key,
            yes,
            dry_run,
        } => {
            crate::confirm::needs_terminal_or_yes(yes || dry_run)?;
            let current = find(&mut tx, kind, &key).await?;
            let target = format!("'{}' from the {} list", current.key, kind.list().plural());
            let nothing = crm_core::store::dependents::Dependents::default();
            list::remove(&mut tx, kind.list(), current.id).await?;
            if dry_run {
                tx.rollback().await?;
                crate::confirm::before_destroying(ctx, yes, true, "remove", &target, &nothing)?;
                return Ok(exit::OK);
            }
            if !crate::confirm::before_destroying(ctx, yes, false, "remove", &target, &nothing)? {
                tx.rollback().await?;
                return Ok(exit::OK);
            }
            tx.commit().await?;
            if matches!(
                ctx.format(),
                crate::cli::Format::Json | crate::cli::Format::Ndjson
            ) {
                output::json(&serde_json::json!({ "key": current.key, "removed": true }))?;
            }
            ctx.note(format!(
                "removed '{}' from the {} list",
                current.key,
                kind.list().plural()
            ));
        }
    }
    Ok(exit::OK)
}
