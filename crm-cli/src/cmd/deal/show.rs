//! Printing deals: `deal show`, the table, JSON and CSV forms of one deal and of the list.

use std::io::Write;

use anyhow::Result;
use crm_core::store::deal::{self, Deal, StageChange};
use serde::Serialize;

use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Listed, Row, local_time, opt, print_json, short_id, time, write_table};
use crate::resolve::resolve_deal;

/// `deal show`: one deal with its stage history and, on a table, its open Lexware amounts.
pub(super) async fn show(reference: &str, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let id = resolve_deal(&mut tx, reference).await?;
    let d = deal::get(&mut tx, id).await?;
    let history = deal::stage_history(&mut tx, id).await?;
    let open = crm_core::lexware::vouchers::open_for_deal(&mut tx, id).await?;
    tx.commit().await?;
    match ctx.format() {
        f @ (Format::Json | Format::Ndjson) => {
            let detail = DealDetail {
                deal: &d,
                stage_history: &history,
            };
            crate::cmd::lexware::print_with_open(f, &detail, &Some(open))?;
        }
        f => {
            print_deal(f, &d, Some(&history))?;
            if f == Format::Table && open.vouchers > 0 {
                output::text(&crate::cmd::lexware::open_line(&open))?;
            }
        }
    }
    Ok(exit::OK)
}

impl Row for Deal {
    fn noun() -> &'static str {
        "deals"
    }
    fn headers() -> Vec<&'static str> {
        vec![
            "id",
            "title",
            "value",
            "currency",
            "pipeline",
            "stage",
            "probability",
            "status",
            "lost_reason",
            "contact",
            "company",
            "expected_close_date",
            "closed_at",
            "contact_id",
            "company_id",
            "version",
            "created_at",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.title.clone(),
            self.value.to_string(),
            self.currency.clone(),
            self.pipeline.clone(),
            self.stage.clone(),
            self.probability.normalize().to_string(),
            self.status.to_string(),
            opt(&self.lost_reason),
            opt(&self.contact),
            opt(&self.company),
            opt(&self.expected_close_date),
            self.closed_at.as_ref().map(time).unwrap_or_default(),
            opt(&self.contact_id),
            opt(&self.company_id),
            self.version.to_string(),
            time(&self.created_at),
        ]
    }
}

impl Listed for Deal {
    fn table_headers() -> Vec<&'static str> {
        vec![
            "id", "title", "value", "stage", "status", "company", "contact", "close",
        ]
    }
    fn table_cells(&self) -> Vec<String> {
        vec![
            short_id(self.id),
            self.title.clone(),
            format!("{} {}", self.value, self.currency),
            self.stage.clone(),
            match &self.lost_reason {
                Some(r) => format!("{} ({r})", self.status),
                None => self.status.to_string(),
            },
            opt(&self.company),
            opt(&self.contact),
            opt(&self.expected_close_date),
        ]
    }
}

/// A deal with its stage history, as `deal show` prints it.
#[derive(Serialize)]
struct DealDetail<'a> {
    #[serde(flatten)]
    deal: &'a Deal,
    stage_history: &'a [StageChange],
}

/// Prints one deal: JSON (with `history` when given), field / value pairs and the history
/// as tables, or one CSV row.
pub(super) fn print_deal(format: Format, d: &Deal, history: Option<&[StageChange]>) -> Result<()> {
    match format {
        Format::Json | Format::Ndjson => match history {
            Some(h) => print_json(
                format,
                &DealDetail {
                    deal: d,
                    stage_history: h,
                },
            ),
            None => print_json(format, d),
        },
        Format::Csv => output::list(Format::Csv, std::slice::from_ref(d)),
        Format::Table => {
            let mut rows: Vec<Vec<String>> = vec![
                vec!["id".into(), d.id.to_string()],
                vec!["title".into(), d.title.clone()],
                vec!["value".into(), format!("{} {}", d.value, d.currency)],
                vec!["pipeline".into(), d.pipeline.clone()],
                vec![
                    "stage".into(),
                    format!("{} ({}%)", d.stage, d.probability.normalize()),
                ],
                vec!["status".into(), d.status.to_string()],
            ];
            if let Some(r) = &d.lost_reason {
                rows.push(vec!["lost reason".into(), r.clone()]);
            }
            if let Some(t) = &d.lost_reason_text {
                rows.push(vec!["lost because".into(), t.clone()]);
            }
            rows.extend([
                vec!["contact".into(), opt(&d.contact)],
                vec!["company".into(), opt(&d.company)],
                vec!["expected close".into(), opt(&d.expected_close_date)],
            ]);
            if let Some(c) = &d.closed_at {
                rows.push(vec!["closed".into(), local_time(c)]);
            }
            if d.custom.as_object().is_some_and(|m| !m.is_empty()) {
                rows.push(vec!["custom".into(), d.custom.to_string()]);
            }
            rows.extend([
                vec!["owners".into(), d.owners.len().to_string()],
                vec!["version".into(), d.version.to_string()],
                vec!["created".into(), local_time(&d.created_at)],
                vec!["updated".into(), local_time(&d.updated_at)],
            ]);
            let stdout = crate::pipe::stdout();
            let mut out = stdout.lock();
            write_table(&mut out, &["field", "value"], rows)?;
            if let Some(h) = history {
                writeln!(out, "stage history:")?;
                write_table(
                    &mut out,
                    &["moved", "from", "to"],
                    h.iter().map(|c| {
                        vec![
                            local_time(&c.moved_at),
                            opt(&c.from_stage),
                            opt(&c.to_stage),
                        ]
                    }),
                )?;
            }
            out.flush()?;
            Ok(())
        }
    }
}
