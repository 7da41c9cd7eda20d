//! Writing one deal: `deal add`, `edit` and `delete`.

use std::io::IsTerminal as _;

use anyhow::Result;
use crm_core::Tx;
use crm_core::store::deal;

use super::input::{new_from_flags, new_from_json, owners_from, patch_from_flags, patch_from_json};
use super::show::print_deal;
use super::{AddArgs, EditArgs};
use crate::confirm::{Deletion, delete_after_asking};
use crate::ctx::Ctx;
use crate::exit;
use crate::input::{check_edit, read_json};
use crate::output::short_id;
use crate::resolve::resolve_deal;

/// `deal add`: from flags or JSON.
pub(super) async fn add(args: AddArgs, ctx: &Ctx) -> Result<u8> {
    if args.json.is_some() && (args.fields.any() || args.pipeline.is_some() || args.stage.is_some())
    {
        return Err(exit::usage(
            "give the deal either as flags or as --json, not both",
        ));
    }
    let json = args.json.as_deref().map(read_json).transpose()?;
    let (crm, org, scope) = ctx.scope().await?;
    let owners = owners_from(&crm, org.id, &args.fields.owners).await?;
    let mut tx = scope.begin().await?;
    let new = match json {
        Some(obj) => new_from_json(&mut tx, obj).await?,
        None => new_from_flags(&mut tx, args, owners).await?,
    };
    let d = deal::create(&mut tx, new).await?;
    tx.commit().await?;
    print_deal(ctx.format(), &d, None)?;
    Ok(exit::OK)
}

/// `deal edit`: the given fields, at the version read.
pub(super) async fn edit(args: EditArgs, ctx: &Ctx) -> Result<u8> {
    let flags_given = args.fields.any() || !args.clear.is_empty();
    check_edit("deal", args.json.is_some(), flags_given, args.at_version)?;
    let json = args.json.as_deref().map(read_json).transpose()?;
    let (crm, org, scope) = ctx.scope().await?;
    let owners = owners_from(&crm, org.id, &args.fields.owners).await?;
    let mut tx = scope.begin().await?;
    let id = resolve_deal(&mut tx, &args.deal).await?;
    let patch = match json {
        Some(obj) => patch_from_json(&mut tx, obj, args.at_version).await?,
        None => {
            let version = args.at_version.unwrap_or_default();
            patch_from_flags(&mut tx, version, args.fields, &args.clear, owners).await?
        }
    };
    let d = deal::update(&mut tx, id, patch).await?;
    tx.commit().await?;
    print_deal(ctx.format(), &d, None)?;
    Ok(exit::OK)
}

/// `deal delete`: soft, after showing its value and what depends on it and asking.
pub(super) async fn delete(reference: &str, yes: bool, dry_run: bool, ctx: &Ctx) -> Result<u8> {
    if !yes && !dry_run && !std::io::stdin().is_terminal() {
        return Err(exit::usage(
            "not asking without a terminal: pass --yes to confirm (or --dry-run)",
        ));
    }
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let id = resolve_deal(&mut tx, reference).await?;
    let d = deal::get(&mut tx, id).await?;
    let dependents = crm_core::store::dependents::of_deal(&mut tx, id).await?;
    tx.commit().await?;
    let target = format!(
        "{} deal '{}' ({} {}, {})",
        d.status,
        d.title,
        crm_core::store::dependents::grouped(d.value),
        d.currency,
        short_id(id)
    );
    let asked = Deletion {
        yes,
        dry_run,
        target: &target,
        dependents: &dependents,
    };
    let delete = async |tx: &mut Tx| deal::delete(tx, id).await;
    if !delete_after_asking(ctx, &scope, asked, id, delete).await? {
        return Ok(exit::OK);
    }
    ctx.note("deal deleted");
    Ok(exit::OK)
}
