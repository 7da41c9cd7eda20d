//! Writing one company: `company add`, `edit`, `delete` and `restore`.

use anyhow::Result;
use crm_core::Tx;
use crm_core::dedupe::{self, Kind};
use crm_core::store::company;

use super::input::{new_from_flags, new_from_json, patch_from_flags, patch_from_json};
use super::show::{load_shown, print_company};
use super::{AddArgs, EditArgs};
use crate::confirm::{Deletion, delete_after_asking, needs_terminal_or_yes};
use crate::ctx::Ctx;
use crate::exit;
use crate::input::{check_edit, read_json};
use crate::output::short_id;
use crate::resolve::resolve_company;

/// `company add`: from flags or JSON; a likely duplicate is added too, with a warning.
pub(super) async fn add(args: AddArgs, ctx: &Ctx) -> Result<u8> {
    if args.json.is_some() && args.fields.any() {
        return Err(exit::usage(
            "give the company either as flags or as --json, not both",
        ));
    }
    let new = match args.json.as_deref() {
        Some(source) => new_from_json(read_json(source)?)?,
        None => new_from_flags(args.fields)?,
    };
    let (_, _, scope) = ctx.scope().await?;
    let (c, likely) = scope
        .run(async |tx| {
            let c = company::create(tx, new).await?;
            let likely = dedupe::likely_duplicates(tx, Kind::Company, &[c.id.uuid()], None).await?;
            Ok((c, likely))
        })
        .await?;
    for l in &likely {
        ctx.note(format!(
            "warning: this company is {}",
            l.describe(Kind::Company)
        ));
    }
    print_company(ctx.format(), &c, &[])?;
    Ok(exit::OK)
}

/// `company edit`: the given fields, at the version read.
pub(super) async fn edit(args: EditArgs, ctx: &Ctx) -> Result<u8> {
    let flags_given = args.fields.any() || !args.clear.is_empty();
    check_edit("company", args.json.is_some(), flags_given, args.at_version)?;
    let patch = match (args.json.as_deref(), args.at_version) {
        (Some(source), version) => patch_from_json(read_json(source)?, version)?,
        (None, version) => patch_from_flags(version.unwrap_or_default(), args.fields, &args.clear)?,
    };
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let id = resolve_company(&mut tx, &args.company).await?;
    company::update(&mut tx, id, patch).await?;
    let (c, rels) = load_shown(&mut tx, id).await?;
    tx.commit().await?;
    print_company(ctx.format(), &c, &rels)?;
    Ok(exit::OK)
}

/// `company delete`: soft, after showing what depends on the company and asking.
pub(super) async fn delete(
    reference: &str,
    at_version: Option<i32>,
    yes: bool,
    dry_run: bool,
    ctx: &Ctx,
) -> Result<u8> {
    needs_terminal_or_yes(yes || dry_run)?;
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let id = resolve_company(&mut tx, reference).await?;
    let c = company::get(&mut tx, id).await?;
    let dependents = crm_core::store::dependents::of_company(&mut tx, id).await?;
    tx.commit().await?;
    // The confirmed state is the one deleted: a change in between is a conflict.
    let version = at_version.or(if yes { None } else { Some(c.version) });
    let target = format!("company {} ({})", c.name, short_id(id));
    let asked = Deletion {
        yes,
        dry_run,
        target: &target,
        dependents: &dependents,
    };
    let delete = async |tx: &mut Tx| company::delete(tx, id, version).await;
    if !delete_after_asking(ctx, &scope, asked, id, delete).await? {
        return Ok(exit::OK);
    }
    ctx.note(format!(
        "company deleted; `crm company restore {id}` brings it back"
    ));
    Ok(exit::OK)
}

/// `company restore`: a deleted company comes back.
pub(super) async fn restore(reference: &str, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let id = resolve_company(&mut tx, reference).await?;
    company::restore(&mut tx, id).await?;
    let (c, rels) = load_shown(&mut tx, id).await?;
    tx.commit().await?;
    print_company(ctx.format(), &c, &rels)?;
    Ok(exit::OK)
}
