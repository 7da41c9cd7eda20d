//! The organization's data: saving and re-applying erasures, retention, the export and
//! the deletion of a tenant leaving.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use chrono::TimeDelta;
use crm_core::gdpr;

use super::rows::{Deleted, RetentionDays};
use crate::cli::Format;
use crate::confirm::needs_terminal_or_yes;
use crate::ctx::Ctx;
use crate::exit;
use crate::output;

/// `SaveErasures`.
pub(super) async fn save_erasures(out: PathBuf, ctx: &Ctx) -> Result<u8> {
    let crm = ctx.crm().await?;
    let saved = crm.save_erasures().await?;
    crm_core::private_file::write(&out, &serde_json::to_vec_pretty(&saved)?)
        .map_err(|e| exit::coded(exit::ERROR, format!("cannot write {}: {e}", out.display())))?;
    let n: usize = saved.organizations.iter().map(|o| o.receipts.len()).sum();
    ctx.note(format!("saved {n} erasure receipt(s) to {}", out.display()));
    Ok(exit::OK)
}

/// `ReapplyErasures`.
pub(super) async fn reapply_erasures(from: Option<PathBuf>, ctx: &Ctx) -> Result<u8> {
    let saved: crm_core::gdpr::reapply::SavedErasures = match &from {
        Some(path) => {
            let text = std::fs::read(path).map_err(|e| {
                exit::coded(
                    exit::NOT_FOUND,
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            serde_json::from_slice(&text).map_err(|_| {
                exit::coded(
                    exit::VALIDATION,
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
    Ok(exit::OK)
}

/// `Retention`.
pub(super) async fn retention(
    older_than: Option<TimeDelta>,
    dry_run: bool,
    set_days: Option<i32>,
    ctx: &Ctx,
) -> Result<u8> {
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

/// `OrgExport`.
pub(super) async fn org_export(out: PathBuf, ctx: &Ctx) -> Result<u8> {
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

/// `DeleteOrg`.
pub(super) async fn delete_org(yes: bool, dry_run: bool, ctx: &Ctx) -> Result<u8> {
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
            .map_err(|e| exit::coded(exit::ERROR, format!("cannot ask for confirmation: {e}")))?;
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
