//! Company-to-company relationships: `company relate`, `unrelate` and `relationships`.

use anyhow::Result;
use crm_core::Error;
use crm_core::store::company;
use crm_core::store::dependents::Dependents;
use serde_json::json;

use crate::confirm::{before_destroying, needs_terminal_or_yes};
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, receipt};
use crate::resolve::resolve_company;

/// `company relate`: FROM is TYPE of TO.
pub(super) async fn relate(
    from: &str,
    to: &str,
    kind: &str,
    note: Option<String>,
    ctx: &Ctx,
) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let from = resolve_company(&mut tx, from).await?;
    let to = resolve_company(&mut tx, to).await?;
    let rel = company::relate(&mut tx, from, to, kind, note).await?;
    tx.commit().await?;
    output::one(ctx.format(), &rel)?;
    Ok(exit::OK)
}

/// `company unrelate`: removes a relationship after asking; `--dry-run` removes it in a
/// transaction that is rolled back, to show that it could be.
pub(super) async fn unrelate(
    relationship: uuid::Uuid,
    yes: bool,
    dry_run: bool,
    ctx: &Ctx,
) -> Result<u8> {
    needs_terminal_or_yes(yes || dry_run)?;
    let (_, _, scope) = ctx.scope().await?;
    let target = format!("relationship {relationship}");
    let nothing = Dependents::default();
    if !dry_run && !before_destroying(ctx, yes, false, "remove", &target, &nothing)? {
        return Ok(exit::OK);
    }
    let mut tx = scope.begin().await?;
    let removed = company::unrelate(&mut tx, relationship).await;
    if removed.is_ok() && dry_run {
        tx.rollback().await?;
        before_destroying(ctx, yes, true, "remove", &target, &nothing)?;
        return Ok(exit::OK);
    }
    let removed = match removed {
        Ok(()) => tx.commit().await,
        Err(e) => Err(e),
    };
    match removed {
        Err(Error::NotFound { .. }) => {
            return Err(exit::coded(
                exit::NOT_FOUND,
                "relationship not found; `crm company relationships COMPANY` shows the ids",
            ));
        }
        other => other?,
    }
    receipt(
        ctx.format(),
        &json!({ "id": relationship, "removed": true }),
    )?;
    ctx.note("relationship removed");
    Ok(exit::OK)
}

/// `company relationships`: both directions, seen from the company.
pub(super) async fn relationships(reference: &str, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let id = resolve_company(&mut tx, reference).await?;
    let rels = company::relationships(&mut tx, id).await?;
    tx.commit().await?;
    output::list(ctx.format(), &rels)?;
    Ok(exit::OK)
}
