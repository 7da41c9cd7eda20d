//! Selecting contacts: `contact list` and `contact bulk-edit`.

use anyhow::Result;
use crm_core::bulk::BulkKind;
use crm_core::domain::{DayEnd, Zone};
use crm_core::store::contact::{self, Contact, ContactFilter};
use crm_core::{Crm, Organization, Tx};

use super::{BulkEditArgs, ListArgs};
use crate::cmd::bulk_edit;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Pager, STREAM_PAGE};
use crate::resolve::{resolve_company_opt, resolve_contact, resolve_user};
use crate::time::{opt_time, zone_of};

/// `contact list`: one page, or every page with `--all`.
pub(super) async fn list(args: ListArgs, ctx: &Ctx) -> Result<u8> {
    let (crm, org, scope) = ctx.scope().await?;
    let zone = zone_of(&scope).await?;
    let mut tx = scope.begin().await?;
    let filter = list_filter(&args, &crm, &org, zone, &mut tx).await?;
    let more = Pager::new(args.limit, args.after, args.all)
        .print(ctx.format(), async |request| {
            contact::list(&mut tx, &filter, request).await
        })
        .await?;
    tx.commit().await?;
    output::note_more(ctx, "contacts", more);
    Ok(exit::OK)
}

/// The filter of `contact list` (and `contact bulk-edit`) from its flags.
async fn list_filter(
    args: &ListArgs,
    crm: &Crm,
    org: &Organization,
    zone: Zone,
    tx: &mut Tx,
) -> Result<ContactFilter> {
    let owner = match &args.owner {
        Some(email) => Some(resolve_user(crm, org.id, email, "--owner").await?),
        None => None,
    };
    let company_id = resolve_company_opt(tx, args.company.as_deref()).await?;
    Ok(ContactFilter {
        owner,
        status: args.status,
        tag: args.tag.clone(),
        company_id,
        created_after: opt_time(&args.created_after, zone, DayEnd::Start)?,
        created_before: opt_time(&args.created_before, zone, DayEnd::End)?,
        source: args.source,
        text: args.text.clone(),
        only_deleted: args.deleted,
        ..ContactFilter::default()
    })
}

/// `contact bulk-edit`: the contacts named on stdin or matching the filters.
pub(super) async fn bulk_edit(args: BulkEditArgs, ctx: &Ctx) -> Result<u8> {
    let kind = BulkKind::Contacts;
    let edit = args.edit.edit(kind)?;
    let (crm, org, scope) = ctx.scope().await?;
    let resolve = async |tx: &mut Tx, r: &str| Ok(resolve_contact(tx, r).await?.uuid());
    let select = async |tx: &mut Tx| {
        let zone = zone_of(&scope).await?;
        let filter = list_filter(&args.filters, &crm, &org, zone, tx).await?;
        let mut ids = Vec::new();
        contact::for_each_batch(tx, &filter, STREAM_PAGE, async |page: Vec<Contact>| {
            ids.extend(page.iter().map(|r| r.id.uuid()));
            Ok(())
        })
        .await?;
        Ok(ids)
    };
    bulk_edit::select_and_run(ctx, &scope, kind, &args.edit, edit, resolve, select).await
}
