//! One record at a time: `lexware search`, `link`, `unlink`, `import` and `push`.

use anyhow::Result;
use crm_core::Scope;
use crm_core::lexware::links;
use crm_lexware::sync::Found;
use uuid::Uuid;

use super::client::{connect, connect_as_user, lx_error, summary, target};
use super::{OptTarget, Target};
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};

/// `lexware search`: contacts in Lexware Office, with the CRM record each is linked to.
pub(super) async fn search(ctx: &Ctx, scope: &Scope, query: &str) -> Result<u8> {
    let lx = connect(scope).await?;
    let found = lx.search(query).await.map_err(lx_error)?;
    output::list(ctx.format(), &found)?;
    Ok(exit::OK)
}

/// `lexware link`: a CRM record and a Lexware contact; exit 4 when they disagree.
pub(super) async fn link(ctx: &Ctx, scope: &Scope, t: Target, lexware_id: Uuid) -> Result<u8> {
    let Some(t) = target(scope, &t.company, &t.contact).await? else {
        return Err(exit::usage(
            "name the CRM record with --company or --contact",
        ));
    };
    let lx = connect_as_user(scope).await?;
    let report = lx.link(t, lexware_id).await.map_err(lx_error)?;
    summary(ctx.format(), &report)?;
    Ok(if report.conflicts.is_empty() {
        exit::OK
    } else {
        exit::CONFLICT
    })
}

/// `lexware unlink`: removes the link only, nothing in either system.
pub(super) async fn unlink(
    ctx: &Ctx,
    scope: &Scope,
    t: OptTarget,
    lexware_id: Option<Uuid>,
) -> Result<u8> {
    let t = target(scope, &t.company, &t.contact).await?;
    let link = scope
        .run(async |tx| match (t, lexware_id) {
            (Some(t), _) => links::find_by_target(tx, t).await,
            (None, Some(l)) => links::find_by_lexware(tx, l).await,
            (None, None) => Err(crm_core::Error::invalid(
                "link",
                "name it with --company, --contact or --lexware-id",
            )),
        })
        .await?
        .ok_or_else(|| exit::coded(exit::NOT_FOUND, "no such Lexware link"))?;
    let id = link.id;
    scope.run(async |tx| links::delete(tx, id).await).await?;
    ctx.note("unlinked (nothing was deleted in Lexware Office or in the CRM)");
    Ok(exit::OK)
}

/// `lexware import`: a Lexware contact into the CRM.
pub(super) async fn import(ctx: &Ctx, scope: &Scope, lexware_id: Uuid) -> Result<u8> {
    let lx = connect_as_user(scope).await?;
    let report = lx.import(lexware_id).await.map_err(lx_error)?;
    summary(ctx.format(), &report)?;
    Ok(exit::OK)
}

/// `lexware push`: a CRM record to Lexware Office; exit 4 when it cannot be updated there.
pub(super) async fn push(ctx: &Ctx, scope: &Scope, t: Target) -> Result<u8> {
    let Some(t) = target(scope, &t.company, &t.contact).await? else {
        return Err(exit::usage(
            "name the CRM record with --company or --contact",
        ));
    };
    let lx = connect_as_user(scope).await?;
    let report = lx.push(t).await.map_err(lx_error)?;
    summary(ctx.format(), &report)?;
    Ok(if report.not_updatable.is_some() {
        exit::CONFLICT
    } else {
        exit::OK
    })
}

impl Row for Found {
    fn headers() -> Vec<&'static str> {
        vec!["id", "kind", "name", "email", "customer_number", "linked"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.kind.to_string(),
            self.name.clone(),
            output::opt(&self.email),
            output::opt(&self.customer_number),
            self.linked
                .map(|t| format!("{} {}", t.kind(), t.uuid()))
                .unwrap_or_default(),
        ]
    }
}
