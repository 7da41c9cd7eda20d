//! A deal's way through its pipeline: `deal move`, `win`, `lose` and `reopen`.

use anyhow::Result;
use crm_core::store::deal::{self, Deal};
use crm_core::store::list::{self as lists, ListKind};
use crm_core::{DealId, Error, Tx};

use super::show::print_deal;
use crate::ctx::Ctx;
use crate::exit;
use crate::resolve::resolve_deal;

/// Resolves the deal, changes it with `change` in one transaction and prints the result.
async fn change(
    reference: &str,
    ctx: &Ctx,
    change: impl AsyncFnOnce(&mut Tx, DealId) -> Result<Deal>,
) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let id = resolve_deal(&mut tx, reference).await?;
    let d = change(&mut tx, id).await?;
    tx.commit().await?;
    print_deal(ctx.format(), &d, None)?;
    Ok(exit::OK)
}

/// `deal move`: to a stage of its pipeline, or of another.
pub(super) async fn move_to(
    reference: &str,
    stage: &str,
    at_version: Option<i32>,
    ctx: &Ctx,
) -> Result<u8> {
    change(reference, ctx, async |tx, id| {
        Ok(deal::move_to_stage(tx, id, stage, at_version).await?)
    })
    .await
}

/// `deal win`.
pub(super) async fn win(reference: &str, at_version: Option<i32>, ctx: &Ctx) -> Result<u8> {
    change(reference, ctx, async |tx, id| {
        Ok(deal::win(tx, id, at_version).await?)
    })
    .await
}

/// `deal lose`: an unknown reason is refused listing the active ones.
pub(super) async fn lose(
    reference: &str,
    reason: &str,
    note: Option<String>,
    at_version: Option<i32>,
    ctx: &Ctx,
) -> Result<u8> {
    change(reference, ctx, async |tx, id| {
        match deal::lose(tx, id, reason, note, at_version).await {
            Ok(d) => Ok(d),
            Err(Error::Validation(e)) if e.0.iter().any(|f| f.field == "lost_reason") => {
                let keys: Vec<String> = lists::list(tx, ListKind::LostReason)
                    .await?
                    .into_iter()
                    .filter(|r| r.active)
                    .map(|r| r.key)
                    .collect();
                Err(exit::coded(
                    exit::VALIDATION,
                    format!(
                        "invalid input: {e}; --reason takes one of: {}",
                        keys.join(", ")
                    ),
                ))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// `deal reopen`.
pub(super) async fn reopen(reference: &str, ctx: &Ctx) -> Result<u8> {
    change(reference, ctx, async |tx, id| {
        Ok(deal::reopen(tx, id).await?)
    })
    .await
}
