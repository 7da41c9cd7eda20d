//! One person's data: `gdpr export`, `erase`, `consent`, `consents`, `was-erased` and
//! `receipts`.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use crm_core::Error;
use crm_core::gdpr::{self, ErasureReceipt, consent};
use crm_core::store::contact;
use crm_core::store::{Cursor, PageRequest};

use super::rows::{COUNT_FIELDS, WasErased, counts_of};
use crate::confirm::{confirm, needs_terminal_or_yes};
use crate::ctx::Ctx;
use crate::exit;
use crate::output;
use crate::resolve::resolve_contact;

/// `Export`.
pub(super) async fn export(
    reference: String,
    out: Option<PathBuf>,
    csv_dir: Option<PathBuf>,
    delimiter: Option<u8>,
    ctx: &Ctx,
) -> Result<u8> {
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

/// `Erase`.
pub(super) async fn erase(
    reference: String,
    yes: bool,
    dry_run: bool,
    include: Vec<String>,
    ctx: &Ctx,
) -> Result<u8> {
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
        let prompt = "Erase this person for good? This cannot be undone.";
        if !confirm(false, prompt.into())? {
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

/// `Consent`.
pub(super) async fn consent(
    reference: String,
    grant: bool,
    source: String,
    purpose: String,
    ctx: &Ctx,
) -> Result<u8> {
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

/// `Consents`.
pub(super) async fn consents(
    reference: Option<String>,
    purpose: String,
    limit: u32,
    after: Option<Cursor>,
    ctx: &Ctx,
) -> Result<u8> {
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
                consent::without_consent(&mut tx, &purpose, PageRequest { limit, after }).await?;
            tx.commit().await?;
            output::list(ctx.format(), &page.items)?;
            if let Some(next) = page.next {
                ctx.note(format!("more: --after {next}"));
            }
        }
    }
    Ok(exit::OK)
}

/// `WasErased`.
pub(super) async fn was_erased(email: String, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let erased = scope
        .run(async |tx| gdpr::was_erased(tx, &email).await)
        .await?;
    output::one(ctx.format(), &WasErased { erased })?;
    Ok(exit::OK)
}

/// `Receipts`.
pub(super) async fn receipts(limit: u32, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let r = scope
        .run(async |tx| gdpr::receipts(tx, limit).await)
        .await?;
    output::list(ctx.format(), &r)?;
    Ok(exit::OK)
}

/// Names what the reference problem was, with the exit codes of `crm contact`: a malformed
/// or ambiguous reference is a usage error (2), nobody found is 3.
pub(super) fn person_error(e: Error) -> anyhow::Error {
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
