//! `crm gdpr`: data-protection jobs: subject export, erasure, consent, retention, and the
//! organization-wide export and deletion of a tenant leaving.

mod org;
mod person;
mod rows;

use std::path::PathBuf;

use anyhow::Result;
use chrono::TimeDelta;
use clap::Subcommand;
use crm_core::gdpr::consent;
use crm_core::store::Cursor;

use crate::ctx::Ctx;
use crate::output;

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

/// Runs one `crm gdpr` subcommand.
pub async fn run(cmd: GdprCommand, ctx: &Ctx) -> Result<u8> {
    match cmd {
        GdprCommand::SaveErasures { out } => org::save_erasures(out, ctx).await,
        GdprCommand::ReapplyErasures { from } => org::reapply_erasures(from, ctx).await,
        GdprCommand::Export {
            contact: reference,
            out,
            csv_dir,
            delimiter,
        } => person::export(reference, out, csv_dir, delimiter, ctx).await,
        GdprCommand::Erase {
            contact: reference,
            yes,
            dry_run,
            include,
        } => person::erase(reference, yes, dry_run, include, ctx).await,
        GdprCommand::Consent {
            contact: reference,
            grant,
            revoke: _,
            source,
            purpose,
        } => person::consent(reference, grant, source, purpose, ctx).await,
        GdprCommand::Consents {
            contact: reference,
            without: _,
            purpose,
            limit,
            after,
        } => person::consents(reference, purpose, limit, after, ctx).await,
        GdprCommand::WasErased { email } => person::was_erased(email, ctx).await,
        GdprCommand::Receipts { limit } => person::receipts(limit, ctx).await,
        GdprCommand::Retention {
            older_than,
            dry_run,
            set_days,
        } => org::retention(older_than, dry_run, set_days, ctx).await,
        GdprCommand::OrgExport { out } => org::org_export(out, ctx).await,
        GdprCommand::DeleteOrg { yes, dry_run } => org::delete_org(yes, dry_run, ctx).await,
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
