//! Selecting companies: `company list` and `company bulk-edit`.

use anyhow::Result;
use crm_core::bulk::BulkKind;
use crm_core::domain::{DayEnd, Zone};
use crm_core::store::company::{self, Company, CompanyFilter};
use crm_core::{Crm, Error, Organization};

use super::{BulkEditArgs, ListArgs};
use crate::cmd::bulk_edit;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Pager, STREAM_PAGE};
use crate::resolve::{resolve_company, resolve_user};
use crate::time::{opt_time, zone_of};

/// `company list`: one page, or every page streamed as one table.
pub(super) async fn list(args: ListArgs, ctx: &Ctx) -> Result<u8> {
    let (crm, org, scope) = ctx.scope().await?;
    let zone = zone_of(&scope).await?;
    let filter = list_filter(&args, &crm, &org, zone).await?;
    let mut tx = scope.begin().await?;
    let more = Pager::new(args.limit, args.after, args.all)
        .one_header()
        .print(ctx.format(), async |request| {
            company::list(&mut tx, &filter, request).await
        })
        .await
        .map_err(|e| match e.downcast::<Error>() {
            Ok(e) => list_filter_error(e),
            Err(e) => e,
        })?;
    tx.commit().await?;
    output::note_more(ctx, "companies", more);
    Ok(exit::OK)
}

/// The filter of `company list` (and `company bulk-edit`) from its flags.
async fn list_filter(
    args: &ListArgs,
    crm: &Crm,
    org: &Organization,
    zone: Zone,
) -> Result<CompanyFilter> {
    let owner = match &args.owner {
        Some(email) => Some(resolve_user(crm, org.id, email, "--owner").await?),
        None => None,
    };
    Ok(CompanyFilter {
        owner,
        status: args.status,
        tag: args.tag.clone(),
        industry: args.industry.clone(),
        account_type: args.account_type.clone(),
        size: args.size,
        text: args.text.clone(),
        created_after: opt_time(&args.created_after, zone, DayEnd::Start)?,
        created_before: opt_time(&args.created_before, zone, DayEnd::End)?,
        only_deleted: args.deleted,
        ..CompanyFilter::default()
    })
}

/// An unknown industry or account type in a list filter gets a hint where to look.
fn list_filter_error(e: Error) -> anyhow::Error {
    match e {
        Error::NotFound { entity: "industry" } => exit::coded(
            exit::NOT_FOUND,
            "--industry: no such industry; `crm list show industries` shows them",
        ),
        Error::NotFound {
            entity: "account type",
        } => exit::coded(
            exit::NOT_FOUND,
            "--account-type: no such account type; `crm list show account-types` shows them",
        ),
        e => e.into(),
    }
}

/// `company bulk-edit`: the companies named on stdin or matching the filters.
pub(super) async fn bulk_edit(args: BulkEditArgs, ctx: &Ctx) -> Result<u8> {
    let kind = BulkKind::Companies;
    let edit = args.edit.edit(kind)?;
    let (crm, org, scope) = ctx.scope().await?;
    let resolve = async |tx: &mut crm_core::Tx, r: &str| Ok(resolve_company(tx, r).await?.uuid());
    let select = async |tx: &mut crm_core::Tx| {
        let zone = zone_of(&scope).await?;
        let filter = list_filter(&args.filters, &crm, &org, zone).await?;
        let mut ids = Vec::new();
        company::for_each_batch(tx, &filter, STREAM_PAGE, async |page: Vec<Company>| {
            ids.extend(page.iter().map(|r| r.id.uuid()));
            Ok(())
        })
        .await
        .map_err(list_filter_error)?;
        Ok(ids)
    };
    bulk_edit::select_and_run(ctx, &scope, kind, &args.edit, edit, resolve, select).await
}
