//! The voucher cache: `lexware vouchers ...`, and the open amounts that `company show` and
//! `deal show` print.

use anyhow::Result;
use crm_core::Scope;
use crm_core::lexware::{CachedVoucher, links, vouchers};
use serde::Serialize;
use serde_json::json;

use super::VouchersCommand;
use super::client::{connect, lx_error, summary, target};
use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};
use crate::resolve::resolve_deal;

/// `lexware vouchers ...`.
pub(super) async fn run(ctx: &Ctx, scope: &Scope, cmd: VouchersCommand) -> Result<u8> {
    match cmd {
        VouchersCommand::List { target: t, deal } => {
            let t = target(scope, &t.company, &t.contact).await?;
            let mut tx = scope.begin().await?;
            let list = match (t, deal) {
                (_, Some(d)) => {
                    let d = resolve_deal(&mut tx, &d).await?;
                    vouchers::for_deal(&mut tx, d).await?
                }
                (Some(t), None) => match links::find_by_target(&mut tx, t).await? {
                    Some(l) => vouchers::for_contact(&mut tx, l.lexware_id).await?,
                    None => {
                        return Err(exit::coded(
                            exit::NOT_FOUND,
                            format!("the {} is not linked to Lexware", t.kind()),
                        ));
                    }
                },
                (None, None) => vouchers::list(&mut tx).await?,
            };
            tx.commit().await?;
            output::list(ctx.format(), &list)?;
            Ok(exit::OK)
        }
        VouchersCommand::Refresh { target: t, all } => {
            let t = target(scope, &t.company, &t.contact).await?;
            let lx = connect(scope).await?;
            let (stored, failed) = match t {
                Some(t) => {
                    let link = scope
                        .run(async |tx| links::find_by_target(tx, t).await)
                        .await?
                        .ok_or_else(|| {
                            exit::coded(
                                exit::NOT_FOUND,
                                format!("the {} is not linked to Lexware", t.kind()),
                            )
                        })?;
                    (lx.refresh_vouchers(&link, all).await.map_err(lx_error)?, 0)
                }
                None => lx.refresh_all_vouchers(all).await.map_err(lx_error)?,
            };
            summary(
                ctx.format(),
                &json!({ "vouchers": stored, "failed_links": failed }),
            )?;
            Ok(if failed > 0 { exit::ERROR } else { exit::OK })
        }
        VouchersCommand::Link { voucher, deal } => {
            link_voucher(scope, &voucher, &deal, true).await?;
            ctx.note("voucher linked to the deal");
            Ok(exit::OK)
        }
        VouchersCommand::Unlink { voucher, deal } => {
            link_voucher(scope, &voucher, &deal, false).await?;
            ctx.note("voucher unlinked from the deal");
            Ok(exit::OK)
        }
    }
}

/// Links or unlinks a cached voucher and a deal.
async fn link_voucher(scope: &Scope, voucher: &str, deal: &str, link: bool) -> Result<()> {
    let mut tx = scope.begin().await?;
    let d = resolve_deal(&mut tx, deal).await?;
    let v = vouchers::resolve(&mut tx, voucher).await?;
    if link {
        vouchers::link_deal(&mut tx, d, v.id).await?;
    } else {
        vouchers::unlink_deal(&mut tx, d, v.id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One line about open amounts for `company show` / `deal show` tables.
pub fn open_line(o: &vouchers::OpenAmounts) -> String {
    let amounts: Vec<String> = o
        .by_currency
        .iter()
        .map(|(c, a)| format!("{a} {c}"))
        .collect();
    format!(
        "Open in Lexware Office: {} ({} voucher(s){})",
        if amounts.is_empty() {
            "0".to_string()
        } else {
            amounts.join(", ")
        },
        o.vouchers,
        o.fetched_at
            .map(|t| format!(", fetched {}", t.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default()
    )
}

/// Prints `value` as JSON with the open amounts added under `lexware_open_amounts`
/// (`null` for a company not linked to Lexware).
pub fn print_with_open<T: Serialize>(
    format: Format,
    value: &T,
    open: &Option<vouchers::OpenAmounts>,
) -> Result<()> {
    let mut v = serde_json::to_value(value)?;
    if let Some(m) = v.as_object_mut() {
        m.insert("lexware_open_amounts".into(), serde_json::to_value(open)?);
    }
    if format == Format::Ndjson {
        output::text(&serde_json::to_string(&v)?)
    } else {
        output::json(&v)
    }
}

impl Row for CachedVoucher {
    fn headers() -> Vec<&'static str> {
        vec![
            "id",
            "number",
            "type",
            "status",
            "date",
            "total",
            "open",
            "currency",
            "fetched_at",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            output::opt(&self.voucher_number),
            self.voucher_type.clone(),
            output::opt(&self.voucher_status),
            output::opt(&self.voucher_date),
            output::opt(&self.total_amount),
            output::opt(&self.open_amount),
            output::opt(&self.currency),
            self.fetched_at.to_rfc3339(),
        ]
    }
}
