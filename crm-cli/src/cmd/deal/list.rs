//! Selecting deals: `deal list` (and `--stuck`) and `deal bulk-edit`.

use anyhow::Result;
use crm_core::StageId;
use crm_core::auth::zone;
use crm_core::bulk::BulkKind;
use crm_core::store::deal::{self, Deal, DealFilter};
use crm_core::{Crm, Organization, Tx};

use super::{BulkEditArgs, ListArgs};
use crate::cmd::bulk_edit;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Pager, STREAM_PAGE};
use crate::resolve::{
    resolve_company_opt, resolve_contact_opt, resolve_deal, resolve_pipeline, resolve_user,
    stage_in,
};
use crate::time::opt_date;

/// `deal list`: one page, or every page with `--all`; `--stuck` lists the stuck deals.
pub(super) async fn list(args: ListArgs, ctx: &Ctx) -> Result<u8> {
    if let Some(days) = args.stuck {
        return crate::cmd::analytics::stuck(ctx, args.pipeline.as_deref(), days).await;
    }
    let (crm, org, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let filter = list_filter(&args, &crm, &org, &mut tx).await?;
    let more = Pager::new(args.limit, args.after, args.all)
        .print(ctx.format(), async |request| {
            deal::list(&mut tx, &filter, request).await
        })
        .await?;
    tx.commit().await?;
    output::note_more(ctx, "deals", more);
    Ok(exit::OK)
}

/// The filter of `deal list` (and `deal bulk-edit`) from its flags.
async fn list_filter(
    args: &ListArgs,
    crm: &Crm,
    org: &Organization,
    tx: &mut Tx,
) -> Result<DealFilter> {
    let owner = match &args.owner {
        Some(email) => Some(resolve_user(crm, org.id, email, "--owner").await?),
        None => None,
    };
    let (pipeline_id, stage) = pipeline_and_stage(args, tx).await?;
    let contact_id = resolve_contact_opt(tx, args.contact.as_deref()).await?;
    let company_id = resolve_company_opt(tx, args.company.as_deref()).await?;
    Ok(DealFilter {
        pipeline: pipeline_id,
        stage,
        status: args.status,
        owner,
        company_id,
        contact_id,
        expected_close_from: opt_date(&args.close_from, zone::acting(tx).await?)?,
        expected_close_to: opt_date(&args.close_to, zone::acting(tx).await?)?,
        text: args.text.clone(),
        ..DealFilter::default()
    })
}

/// The pipeline and stage a list is limited to: a stage id alone needs no pipeline; a stage
/// name is looked up in --pipeline, else in the default pipeline.
async fn pipeline_and_stage(
    args: &ListArgs,
    tx: &mut Tx,
) -> Result<(Option<crm_core::PipelineId>, Option<StageId>)> {
    let (p, s) = (&args.pipeline, &args.stage);
    if p.is_none() && s.is_none() {
        return Ok((None, None));
    }
    let by_id = s.as_deref().and_then(|s| s.trim().parse::<StageId>().ok());
    if let (None, Some(id)) = (p, by_id) {
        return Ok((None, Some(id)));
    }
    let p = resolve_pipeline(tx, p.as_deref()).await?;
    let stage = match s {
        Some(s) => Some(stage_in(&p, s)?),
        None => None,
    };
    Ok((Some(p.id), stage))
}

/// `deal bulk-edit`: the deals named on stdin or matching the filters.
pub(super) async fn bulk_edit(args: BulkEditArgs, ctx: &Ctx) -> Result<u8> {
    let kind = BulkKind::Deals;
    let edit = args.edit.edit(kind)?;
    let (crm, org, scope) = ctx.scope().await?;
    let resolve = async |tx: &mut Tx, r: &str| Ok(resolve_deal(tx, r).await?.uuid());
    let select = async |tx: &mut Tx| {
        let filter = list_filter(&args.filters, &crm, &org, tx).await?;
        let mut ids = Vec::new();
        deal::for_each_batch(tx, &filter, STREAM_PAGE, async |page: Vec<Deal>| {
            ids.extend(page.iter().map(|r| r.id.uuid()));
            Ok(())
        })
        .await?;
        Ok(ids)
    };
    bulk_edit::select_and_run(ctx, &scope, kind, &args.edit, edit, resolve, select).await
}
