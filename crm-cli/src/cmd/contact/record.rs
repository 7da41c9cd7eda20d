//! Writing one contact: `contact add`, `edit`, `delete` and `restore`.

use anyhow::Result;
use crm_core::Tx;
use crm_core::dedupe::{self, Kind};
use crm_core::store::contact;

use super::input::{new_from_flags, new_from_json, patch_from_flags, patch_from_json};
use super::show::{full_name, print_contact, warn_unplaced_phones};
use super::{AddArgs, EditArgs};
use crate::confirm::{Deletion, delete_after_asking, needs_terminal_or_yes};
use crate::ctx::Ctx;
use crate::exit;
use crate::input::{check_edit, read_json};
use crate::output::short_id;
use crate::resolve::resolve_contact;

/// `contact add`: from flags or JSON; a likely duplicate is added too, with a warning.
pub(super) async fn add(args: AddArgs, ctx: &Ctx) -> Result<u8> {
    if args.json.is_some() && args.fields.any() {
        return Err(exit::usage(
            "give the contact either as flags or as --json, not both",
        ));
    }
    let json = args.json.as_deref().map(read_json).transpose()?;
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let new = match json {
        Some(obj) => new_from_json(&mut tx, obj).await?,
        None => new_from_flags(&mut tx, args.fields).await?,
    };
    let c = contact::create(&mut tx, new).await?;
    let likely = dedupe::likely_duplicates(&mut tx, Kind::Contact, &[c.id.uuid()], None).await?;
    tx.commit().await?;
    warn_unplaced_phones(ctx, &c);
    for l in &likely {
        ctx.note(format!(
            "warning: this contact is {}",
            l.describe(Kind::Contact)
        ));
    }
    print_contact(ctx.format(), &c)?;
    Ok(exit::OK)
}

/// `contact edit`: the given fields, at the version read.
pub(super) async fn edit(args: EditArgs, ctx: &Ctx) -> Result<u8> {
    let flags_given = args.fields.any() || !args.clear.is_empty();
    check_edit("contact", args.json.is_some(), flags_given, args.at_version)?;
    let json = args.json.as_deref().map(read_json).transpose()?;
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let id = resolve_contact(&mut tx, &args.contact).await?;
    let patch = match json {
        Some(obj) => patch_from_json(&mut tx, obj, args.at_version).await?,
        None => {
            let version = args.at_version.unwrap_or_default();
            patch_from_flags(&mut tx, version, args.fields, &args.clear).await?
        }
    };
    let c = contact::update(&mut tx, id, patch).await?;
    tx.commit().await?;
    warn_unplaced_phones(ctx, &c);
    print_contact(ctx.format(), &c)?;
    Ok(exit::OK)
}

/// `contact delete`: soft, after showing what depends on the contact and asking.
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
    let id = resolve_contact(&mut tx, reference).await?;
    let c = contact::get(&mut tx, id).await?;
    let dependents = crm_core::store::dependents::of_contact(&mut tx, id).await?;
    tx.commit().await?;
    // The confirmed state is the one deleted: a change in between is a conflict.
    let version = at_version.or(if yes { None } else { Some(c.version) });
    let target = format!("contact {} ({})", full_name(&c), short_id(id));
    let asked = Deletion {
        yes,
        dry_run,
        target: &target,
        dependents: &dependents,
    };
    let delete = async |tx: &mut Tx| contact::delete(tx, id, version).await;
    if !delete_after_asking(ctx, &scope, asked, id, delete).await? {
        return Ok(exit::OK);
    }
    ctx.note(format!(
        "contact deleted; `crm contact restore {id}` brings it back"
    ));
    Ok(exit::OK)
}

/// `contact restore`: a deleted contact comes back.
pub(super) async fn restore(reference: &str, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let id = resolve_contact(&mut tx, reference).await?;
    let c = contact::restore(&mut tx, id).await?;
    tx.commit().await?;
    print_contact(ctx.format(), &c)?;
    Ok(exit::OK)
}
