//! `crm audit`: read the log and verify every organization's hash chain.

use anyhow::Result;
use clap::Subcommand;
use crm_core::audit::{AuditEntry, AuditFilter, ChainReport};

use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Show audit entries, oldest first.
    Log {
        /// Only this entity type (contact, company, deal, activity, pipeline, ...).
        #[arg(long)]
        entity: Option<String>,
        /// Only this record (UUID).
        #[arg(long)]
        id: Option<uuid::Uuid>,
        /// Only changes by this user (e-mail).
        #[arg(long)]
        actor: Option<String>,
        /// Only entries at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Only entries before this time (RFC 3339).
        #[arg(long)]
        until: Option<chrono::DateTime<chrono::Utc>>,
        /// Only entries after this sequence number.
        #[arg(long)]
        after: Option<i64>,
        /// At most this many entries.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Verify every organization's audit chain; exits 1 naming the first broken entry.
    Verify,
}

impl Row for AuditEntry {
    fn headers() -> Vec<&'static str> {
        vec![
            "seq",
            "at",
            "actor",
            "entity_type",
            "entity_id",
            "action",
            "changes",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let changes = match &self.payload {
            Some(serde_json::Value::Object(m)) => m.keys().cloned().collect::<Vec<_>>().join(", "),
            Some(v) if !v.is_null() => v.to_string(),
            _ if self.redacted => "(redacted)".into(),
            _ => String::new(),
        };
        vec![
            self.seq.to_string(),
            self.at.to_rfc3339(),
            output::opt(&self.actor),
            self.entity_type.clone(),
            output::opt(&self.entity_id),
            self.action.clone(),
            changes,
        ]
    }
}

impl Row for ChainReport {
    fn headers() -> Vec<&'static str> {
        vec!["org", "checked", "intact", "broken_seq", "problem"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.slug.clone(),
            self.checked.to_string(),
            self.intact().to_string(),
            output::opt(&self.broken_seq),
            output::opt(&self.problem),
        ]
    }
}

pub async fn run(cmd: AuditCommand, ctx: &Ctx) -> Result<u8> {
    match cmd {
        AuditCommand::Log {
            entity,
            id,
            actor,
            since,
            until,
            after,
            limit,
        } => {
            let (crm, org, scope) = ctx.scope().await?;
            let actor = match actor {
                Some(email) => Some(crm.user_by_email(org.id, &email).await?.0),
                None => None,
            };
            let filter = AuditFilter {
                entity_type: entity,
                entity_id: id,
                actor,
                since,
                until,
                after_seq: after,
                limit: Some(limit),
            };
            let entries = scope
                .run(async |tx| crm_core::audit::log(tx, &filter).await)
                .await?;
            output::list(ctx.format(), &entries)?;
            Ok(exit::OK)
        }
        AuditCommand::Verify => {
            let crm = ctx.crm().await?;
            let reports = crm.verify_audit_chains().await?;
            let checked: i64 = reports.iter().map(|r| r.checked).sum();
            let broken: Vec<&ChainReport> = reports.iter().filter(|r| !r.intact()).collect();
            match ctx.format() {
                Format::Json | Format::Ndjson => output::json(&serde_json::json!({
                    "intact": broken.is_empty(),
                    "checked": checked,
                    "organizations": reports,
                }))?,
                Format::Csv => output::list(Format::Csv, &reports)?,
                Format::Table => {
                    if broken.is_empty() {
                        output::text(&format!(
                            "audit chains intact: {checked} entries checked in {} organization(s)",
                            reports.len()
                        ))?;
                    } else {
                        output::list(Format::Table, &reports)?;
                    }
                }
            }
            match broken.first() {
                None => Ok(exit::OK),
                Some(b) => {
                    eprintln!(
                        "error: audit chain of organization '{}' is broken at entry {}: {}",
                        b.slug,
                        b.broken_seq.unwrap_or_default(),
                        b.problem.as_deref().unwrap_or("unknown problem")
                    );
                    Ok(exit::ERROR)
                }
            }
        }
    }
}
