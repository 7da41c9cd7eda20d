//! `crm gdpr`: data-protection jobs: subject export, erasure, consent, retention, and the
//! organization-wide export and deletion of a tenant leaving.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use chrono::TimeDelta;
use clap::Subcommand;
use crm_core::Error;
use crm_core::gdpr::{
    self, Consent, ContactWithoutConsent, ErasureReceipt, RetentionSummary, TableExport, consent,
};
use crm_core::store::contact;
use crm_core::store::{Cursor, PageRequest};
use serde::Serialize;

use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};
use crate::resolve::resolve_contact;

#[derive(Debug, Subcommand)]
pub enum GdprCommand {
    /// Save every organization's erasure receipts and keys to FILE (no personal data), to
    /// re-apply them after restoring a backup with other tools.
    SaveErasures {
        /// Where to write them (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Erase again every contact named by an erasure receipt (by id or by the keyed hash of
    /// an e-mail address), in every organization: after restoring an older backup. Runs as
    /// housekeeping by no user, reaching every record whatever anyone's visibility, also in
    /// organizations without an active owner. `crm db restore` does this itself.
    ReapplyErasures {
        /// Receipts and keys saved before the restore (`crm gdpr save-erasures`, or the
        /// `.erasures.json` file `crm db restore` leaves next to the backup).
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Everything held about a person (GDPR Art. 15 / 20) as one JSON document (see
    /// "Subject export format" in the README), or as CSV files.
    Export {
        /// The person: contact id (or at least 4 of its digits) or any of their e-mail
        /// addresses. Soft-deleted and merged records of the same person are included.
        #[arg(long, value_name = "ID|EMAIL")]
        contact: String,
        /// Write the JSON document to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Write one CSV file per section into DIR (then no JSON on stdout unless --out).
        #[arg(long, value_name = "DIR")]
        csv_dir: Option<PathBuf>,
        /// CSV separator of the files in --csv-dir: one character, or `tab` (default `,`;
        /// `;` with --excel).
        #[arg(long, value_name = "C", value_parser = output::parse_delimiter)]
        delimiter: Option<u8>,
    },
    /// Erase a person (GDPR Art. 17) with all their records, in one transaction, and print
    /// the receipt. Asks on a terminal (showing the person and what goes); scripts pass
    /// --yes. Owners and admins only.
    Erase {
        /// The person: contact id (or at least 4 of its digits) or any of their e-mail
        /// addresses.
        #[arg(long, value_name = "ID|EMAIL")]
        contact: String,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Show what would go (records, counts, the e-mail hashes the receipt would hold);
        /// change nothing and make no receipt (no receipt_id, no erased_at).
        #[arg(long)]
        dry_run: bool,
        /// Also erase this contact record (id or at least 4 of its digits), with its merges:
        /// for a deleted record that shares an address with the person and that a dry run
        /// listed as a candidate. Repeatable.
        #[arg(long, value_name = "ID")]
        include: Vec<String>,
    },
    /// Record that a contact grants or revokes consent, with its source.
    Consent {
        /// The contact: id (or at least 4 of its digits) or e-mail address.
        #[arg(long, value_name = "ID|EMAIL")]
        contact: String,
        /// The contact consents.
        #[arg(long, conflicts_with = "revoke", required_unless_present = "revoke")]
        grant: bool,
        /// The contact withdraws consent.
        #[arg(long)]
        revoke: bool,
        /// Where it came from (web form, call on 2026-03-01, ...).
        #[arg(long)]
        source: String,
        /// What it is for.
        #[arg(long, default_value = consent::DEFAULT_PURPOSE)]
        purpose: String,
    },
    /// A contact's consent history, or (--without) the contacts without consent.
    Consents {
        /// Show this contact's history.
        #[arg(long, value_name = "ID|EMAIL", required_unless_present = "without")]
        contact: Option<String>,
        /// List live contacts whose consent to the purpose was never given or is revoked.
        #[arg(long, conflicts_with = "contact")]
        without: bool,
        /// The purpose (for --without).
        #[arg(long, default_value = consent::DEFAULT_PURPOSE)]
        purpose: String,
        /// At most this many contacts (for --without).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
        /// Continue after this cursor (printed under a page that has more).
        #[arg(long, value_name = "CURSOR")]
        after: Option<Cursor>,
    },
    /// Whether an e-mail address belonged to an erased person (keyed hash on a receipt).
    WasErased {
        /// The address.
        email: String,
    },
    /// Erasure receipts, newest first.
    Receipts {
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Purge records soft-deleted longer ago than the retention period (with their
    /// dependents), or set the period with --set-days.
    Retention {
        /// The period: 30d, 12h, 2w, 90m, 45s or a number of days (default: the
        /// organization's).
        #[arg(long, value_name = "PERIOD", value_parser = parse_period)]
        older_than: Option<TimeDelta>,
        /// Only count what would go; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Set the organization's retention period (1 to 3650 days) instead.
        #[arg(long, value_name = "DAYS", conflicts_with_all = ["older_than", "dry_run"])]
        set_days: Option<i32>,
    },
    /// Export the whole organization: one NDJSON file per table into DIR, plus
    /// manifest.json (for a tenant leaving). Owners and admins only.
    OrgExport {
        /// The directory (created; must be empty if it exists).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Delete the organization and everything it holds, for good. Owners only; names what
    /// it holds and asks for the slug on a terminal, scripts pass --yes.
    DeleteOrg {
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Show what would be deleted (companies, contacts, deals with their sums,
        /// activities); change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// A period: `30d`, `12h`, `2w`, `90m`, `45s`, or a plain number of days.
fn parse_period(s: &str) -> std::result::Result<TimeDelta, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, "d"),
    };
    let n: i64 = num
        .parse()
        .map_err(|_| "expected a period like 30d, 12h, 2w or 90m".to_string())?;
    if n <= 0 {
        return Err("the period must be positive".into());
    }
    let d = match unit {
        "d" => TimeDelta::try_days(n),
        "h" => TimeDelta::try_hours(n),
        "w" => TimeDelta::try_weeks(n),
        "m" => TimeDelta::try_minutes(n),
        "s" => TimeDelta::try_seconds(n),
        _ => {
            return Err(
                "the unit must be d (days), h (hours), w (weeks), m (minutes) or s (seconds)"
                    .into(),
            );
        }
    };
    d.ok_or_else(|| "the period is too long".into())
}

/// Names what the reference problem was, with the exit codes of `crm contact`: a malformed
/// or ambiguous reference is a usage error (2), nobody found is 3.
fn person_error(e: Error) -> anyhow::Error {
    match e {
        Error::Validation(f) => exit::usage(format!(
            "contact {f} (`crm contact list` or `crm search` finds it)"
        )),
        Error::NotFound { entity: "contact" } => exit::coded(
            exit::NOT_FOUND,
            "no such person: no contact has this id or e-mail address",
        ),
        e => e.into(),
    }
}

fn has_terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn needs_terminal_or_yes(yes: bool) -> Result<()> {
    if !yes && !has_terminal() {
        return Err(exit::usage(
            "not asking without a terminal: pass --yes to confirm",
        ));
    }
    Ok(())
}

const COUNT_FIELDS: &[&str] = &[
    "contacts",
    "emails",
    "phones",
    "activities",
    "activities_detached",
    "consents",
    "deals_detached",
    "audit_redacted",
    "events_purged",
    "lexware_links",
    "vouchers_redacted",
];

fn counts_of(r: &ErasureReceipt) -> Vec<String> {
    let v = serde_json::to_value(r.counts).unwrap_or_default();
    COUNT_FIELDS
        .iter()
        .map(|k| v.get(*k).map(|n| n.to_string()).unwrap_or_default())
        .collect()
}

impl Row for ErasureReceipt {
    fn headers() -> Vec<&'static str> {
        let mut h = vec![
            "receipt_id",
            "erased_at",
            "actor_id",
            "subject_id",
            "dry_run",
        ];
        h.extend_from_slice(COUNT_FIELDS);
        h.push("email_hashes");
        h
    }
    fn cells(&self) -> Vec<String> {
        let mut c = vec![
            output::opt(&self.receipt_id),
            self.erased_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            output::opt(&self.actor_id),
            self.subject_id.to_string(),
            self.dry_run.to_string(),
        ];
        c.extend(counts_of(self));
        c.push(self.email_hashes.join(" "));
        c
    }
}

impl Row for Consent {
    fn headers() -> Vec<&'static str> {
        vec![
            "id",
            "contact_id",
            "purpose",
            "status",
            "source",
            "recorded_at",
            "actor_id",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.contact_id.to_string(),
            self.purpose.clone(),
            self.status.clone(),
            self.source.clone(),
            self.recorded_at.to_rfc3339(),
            output::opt(&self.actor_id),
        ]
    }
}

impl Row for ContactWithoutConsent {
    fn headers() -> Vec<&'static str> {
        vec!["id", "first_name", "last_name", "email", "status"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.first_name.clone(),
            self.last_name.clone(),
            output::opt(&self.email),
            self.status.clone().unwrap_or_else(|| "never asked".into()),
        ]
    }
}

impl Row for RetentionSummary {
    fn headers() -> Vec<&'static str> {
        vec![
            "cutoff",
            "older_than_secs",
            "contacts",
            "companies",
            "deals",
            "activities",
            "activities_unlinked",
            "audit_redacted",
            "events_purged",
            "dry_run",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.cutoff.to_rfc3339(),
            self.older_than_secs.to_string(),
            self.contacts.to_string(),
            self.companies.to_string(),
            self.deals.to_string(),
            self.activities.to_string(),
            self.activities_unlinked.to_string(),
            self.audit_redacted.to_string(),
            self.events_purged.to_string(),
            self.dry_run.to_string(),
        ]
    }
}

impl Row for TableExport {
    fn headers() -> Vec<&'static str> {
        vec!["table", "rows", "file"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.table.clone(),
            self.rows.to_string(),
            self.file.display().to_string(),
        ]
    }
}

#[derive(Serialize)]
struct WasErased {
    erased: bool,
}

impl Row for WasErased {
    fn headers() -> Vec<&'static str> {
        vec!["erased"]
    }
    fn cells(&self) -> Vec<String> {
        vec![if self.erased { "yes" } else { "no" }.into()]
    }
}

#[derive(Serialize)]
struct RetentionDays {
    retention_days: i32,
}

impl Row for RetentionDays {
    fn headers() -> Vec<&'static str> {
        vec!["retention_days"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.retention_days.to_string()]
    }
}

#[derive(Serialize)]
struct Deleted {
    org_id: crm_core::OrgId,
    slug: String,
    deleted_at: chrono::DateTime<chrono::Utc>,
}

impl Row for Deleted {
    fn headers() -> Vec<&'static str> {
        vec!["org_id", "slug", "deleted_at"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.org_id.to_string(),
            self.slug.clone(),
            self.deleted_at.to_rfc3339(),
        ]
    }
}

/// What the confirmation shows: the person (on stderr only) and the counts.
fn show_preview(c: &contact::Contact, others: i64, r: &ErasureReceipt) {
    let name = format!("{} {}", c.first_name, c.last_name)
        .trim()
        .to_string();
    let email = c.email.as_deref().unwrap_or("no e-mail address");
    eprintln!("About to erase {name} <{email}> ({})", c.id);
    if others > 0 {
        eprintln!("  and {others} other record(s) of the same person (soft-deleted or merged)");
    }
    for (k, v) in COUNT_FIELDS.iter().zip(counts_of(r)) {
        eprintln!("  {k:<20} {v}");
    }
}

pub async fn run(cmd: GdprCommand, ctx: &Ctx) -> Result<u8> {
    match cmd {
        GdprCommand::SaveErasures { out } => {
            let crm = ctx.crm().await?;
            let saved = crm.save_erasures().await?;
            crm_core::private_file::write(&out, &serde_json::to_vec_pretty(&saved)?).map_err(
                |e| {
                    crate::exit::coded(
                        crate::exit::ERROR,
                        format!("cannot write {}: {e}", out.display()),
                    )
                },
            )?;
            let n: usize = saved.organizations.iter().map(|o| o.receipts.len()).sum();
            ctx.note(format!("saved {n} erasure receipt(s) to {}", out.display()));
            Ok(crate::exit::OK)
        }
        GdprCommand::ReapplyErasures { from } => {
            let saved: crm_core::gdpr::reapply::SavedErasures = match &from {
                Some(path) => {
                    let text = std::fs::read(path).map_err(|e| {
                        crate::exit::coded(
                            crate::exit::NOT_FOUND,
                            format!("cannot read {}: {e}", path.display()),
                        )
                    })?;
                    serde_json::from_slice(&text).map_err(|_| {
                        crate::exit::coded(
                            crate::exit::VALIDATION,
                            format!("{} is not a saved erasures file", path.display()),
                        )
                    })?
                }
                None => Default::default(),
            };
            let crm = ctx.crm().await?;
            let done = crm.reapply_erasures(&saved).await?;
            let rows: Vec<serde_json::Value> = done
                .iter()
                .map(|(org, s)| {
                    serde_json::json!({"org_id": org, "receipts_restored": s.receipts_restored,
                    "receipts_checked": s.receipts_checked, "contacts_erased": s.contacts_erased})
                })
                .collect();
            let erased: u64 = done.iter().map(|(_, s)| s.contacts_erased).sum();
            ctx.note(format!("{erased} contact(s) erased again"));
            output::json(&rows)?;
            Ok(crate::exit::OK)
        }
        GdprCommand::Export {
            contact: reference,
            out,
            csv_dir,
            delimiter,
        } => {
            let (_, _, scope) = ctx.scope().await?;
            let doc = scope
                .run(async |tx| gdpr::subject_export(tx, &reference).await)
                .await
                .map_err(person_error)?;
            if let Some(dir) = &csv_dir {
                let files = gdpr::write_csv_bundle(
                    &doc,
                    dir,
                    match delimiter {
                        Some(d) => output::csv_options().with_delimiter(d),
                        None => output::csv_options(),
                    },
                )?;
                ctx.note(format!(
                    "{} CSV files written to {}",
                    files.len(),
                    dir.display()
                ));
            }
            match &out {
                Some(path) => {
                    let mut f = std::io::BufWriter::new(
                        crm_core::private_file::create(path)
                            .with_context(|| format!("cannot write {}", path.display()))?,
                    );
                    serde_json::to_writer_pretty(&mut f, &doc)?;
                    writeln!(f)?;
                    f.flush()?;
                    ctx.note(format!("subject export written to {}", path.display()));
                }
                None if csv_dir.is_none() => output::json(&doc)?,
                None => {}
            }
            Ok(exit::OK)
        }
        GdprCommand::Erase {
            contact: reference,
            yes,
            dry_run,
            include,
        } => {
            if !dry_run {
                needs_terminal_or_yes(yes)?;
            }
            let (_, _, scope) = ctx.scope().await?;
            let erase = async |tx: &mut crm_core::Tx, dry: bool| {
                let mut ids = Vec::new();
                for r in &include {
                    ids.push(contact::resolve(tx, r).await?);
                }
                gdpr::erase_including(tx, &reference, &ids, dry).await
            };
            let note_candidates = |r: &gdpr::ErasureReceipt| {
                if !r.candidates.is_empty() {
                    let ids: Vec<String> = r.candidates.iter().map(|c| c.to_string()).collect();
                    ctx.note(format!(
                        "{} deleted record(s) share an address with this person and are not \
                         erased; if they are the same person, add --include for each: {}",
                        ids.len(),
                        ids.join(" ")
                    ));
                }
            };
            if dry_run {
                let r = scope
                    .run(async |tx| erase(tx, true).await)
                    .await
                    .map_err(person_error)?;
                output::one(ctx.format(), &r)?;
                note_candidates(&r);
                ctx.note(format!(
                    "dry run: nothing was erased and no receipt was made; an erasure would \
                     remove {} contact record(s)",
                    r.counts.contacts
                ));
                return Ok(exit::OK);
            }
            if !yes {
                let (preview, person) = scope
                    .run(async |tx| {
                        let r = erase(tx, true).await?;
                        let c = contact::get_including_deleted(tx, r.subject_id).await?;
                        Ok((r, c))
                    })
                    .await
                    .map_err(person_error)?;
                show_preview(&person, preview.counts.contacts - 1, &preview);
                let ok = dialoguer::Confirm::new()
                    .with_prompt("Erase this person for good? This cannot be undone.")
                    .default(false)
                    .interact()
                    .map_err(|e| {
                        exit::coded(exit::ERROR, format!("cannot ask for confirmation: {e}"))
                    })?;
                if !ok {
                    ctx.note("nothing erased");
                    return Ok(exit::OK);
                }
            }
            let r = scope
                .run(async |tx| erase(tx, false).await)
                .await
                .map_err(person_error)?;
            output::one(ctx.format(), &r)?;
            note_candidates(&r);
            ctx.note(format!(
                "erased {} record(s); receipt {}",
                r.counts.contacts,
                output::opt(&r.receipt_id)
            ));
            Ok(exit::OK)
        }
        GdprCommand::Consent {
            contact: reference,
            grant,
            revoke: _,
            source,
            purpose,
        } => {
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_contact(&mut tx, &reference).await?;
            let c = if grant {
                consent::grant(&mut tx, id, &purpose, &source).await?
            } else {
                consent::revoke(&mut tx, id, &purpose, &source).await?
            };
            tx.commit().await?;
            output::one(ctx.format(), &c)?;
            Ok(exit::OK)
        }
        GdprCommand::Consents {
            contact: reference,
            without: _,
            purpose,
            limit,
            after,
        } => {
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            match reference {
                Some(reference) => {
                    let id = resolve_contact(&mut tx, &reference).await?;
                    let h = consent::history(&mut tx, id).await?;
                    tx.commit().await?;
                    output::list(ctx.format(), &h)?;
                }
                None => {
                    let page =
                        consent::without_consent(&mut tx, &purpose, PageRequest { limit, after })
                            .await?;
                    tx.commit().await?;
                    output::list(ctx.format(), &page.items)?;
                    if let Some(next) = page.next {
                        ctx.note(format!("more: --after {next}"));
                    }
                }
            }
            Ok(exit::OK)
        }
        GdprCommand::WasErased { email } => {
            let (_, _, scope) = ctx.scope().await?;
            let erased = scope
                .run(async |tx| gdpr::was_erased(tx, &email).await)
                .await?;
            output::one(ctx.format(), &WasErased { erased })?;
            Ok(exit::OK)
        }
        GdprCommand::Receipts { limit } => {
            let (_, _, scope) = ctx.scope().await?;
            let r = scope
                .run(async |tx| gdpr::receipts(tx, limit).await)
                .await?;
            output::list(ctx.format(), &r)?;
            Ok(exit::OK)
        }
        GdprCommand::Retention {
            older_than,
            dry_run,
            set_days,
        } => {
            let (_, _, scope) = ctx.scope().await?;
            if let Some(days) = set_days {
                let retention_days = scope
                    .run(async |tx| gdpr::set_retention_days(tx, days).await)
                    .await?;
                output::one(ctx.format(), &RetentionDays { retention_days })?;
                return Ok(exit::OK);
            }
            let s = scope
                .run(async |tx| gdpr::retention(tx, older_than, dry_run).await)
                .await?;
            output::one(ctx.format(), &s)?;
            Ok(exit::OK)
        }
        GdprCommand::OrgExport { out } => {
            if out.exists()
                && std::fs::read_dir(&out)
                    .with_context(|| format!("cannot read {}", out.display()))?
                    .next()
                    .is_some()
            {
                return Err(exit::usage(format!(
                    "{} exists and is not empty; name a new or empty directory",
                    out.display()
                )));
            }
            let (_, _, scope) = ctx.scope().await?;
            let export = scope
                .run(async |tx| gdpr::org_export(tx, &out).await)
                .await?;
            match ctx.format() {
                Format::Json | Format::Ndjson => output::json(&export)?,
                f => output::list(f, &export.tables)?,
            }
            ctx.note(format!(
                "organization '{}' exported to {}",
                export.slug,
                out.display()
            ));
            Ok(exit::OK)
        }
        GdprCommand::DeleteOrg { yes, dry_run } => {
            needs_terminal_or_yes(yes || dry_run)?;
            let (_, org, scope) = ctx.scope().await?;
            let holds = scope
                .run(async |tx| crm_core::store::dependents::of_organization(tx).await)
                .await?;
            let target = format!("organization '{}' ({})", org.slug, org.name);
            if dry_run {
                crate::confirm::before_destroying(ctx, yes, true, "delete", &target, &holds)?;
                return Ok(exit::OK);
            }
            if yes {
                ctx.note(format!("Deleting {target}. It has {holds}."));
            } else {
                eprintln!(
                    "This deletes organization '{}' ({}) with all its records ({holds}), users, \
                     audit log and receipts, for good.",
                    org.slug, org.name
                );
                let typed: String = dialoguer::Input::new()
                    .with_prompt("Type the organization's slug to confirm")
                    .allow_empty(true)
                    .interact_text()
                    .map_err(|e| {
                        exit::coded(exit::ERROR, format!("cannot ask for confirmation: {e}"))
                    })?;
                if typed.trim() != org.slug {
                    ctx.note("nothing deleted");
                    return Ok(exit::OK);
                }
            }
            let d = scope
                .run(async |tx| gdpr::delete_organization(tx).await)
                .await?;
            output::one(
                ctx.format(),
                &Deleted {
                    org_id: d.org_id,
                    slug: d.slug,
                    deleted_at: d.deleted_at,
                },
            )?;
            ctx.note("organization deleted");
            Ok(exit::OK)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert_eq!(parse_period("30d"), Ok(TimeDelta::days(30)));
        assert_eq!(parse_period("30"), Ok(TimeDelta::days(30)));
        assert_eq!(parse_period("12h"), Ok(TimeDelta::hours(12)));
        assert_eq!(parse_period("2w"), Ok(TimeDelta::weeks(2)));
        assert_eq!(parse_period("90m"), Ok(TimeDelta::minutes(90)));
        assert_eq!(parse_period("45s"), Ok(TimeDelta::seconds(45)));
        assert!(parse_period("0d").is_err());
        assert!(parse_period("30x").is_err());
        assert!(parse_period("d").is_err());
        assert!(parse_period("-3d").is_err());
    }
}
