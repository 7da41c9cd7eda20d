//! Pipeline analytics for `crm pipeline forecast --by/--all/--as-of`, `crm pipeline
//! velocity`, `crm pipeline board --as-of` and `crm deal list --stuck` (issue 18): running
//! crm-core's reports and printing them. JSON output is the serde form of crm-core's
//! `ForecastReport`, `Velocity`, `BoardColumn` and `StuckDeal`.

use std::io::Write as _;

use anyhow::Result;
use chrono::{DateTime, Utc};
use crm_core::Tx;
use crm_core::auth::zone;
use crm_core::domain::{self, DayEnd};
use crm_core::report::{
    self, ForecastBy, ForecastGroup, ForecastQuery, ForecastReport, StageVelocity, StuckDeal,
    Velocity, VelocityPeriod, VelocityQuery,
};

use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};
use crate::output::{local_time, print_json, short_id, time, write_table};
use crate::resolve::resolve_pipeline;

/// Whole days: `30d` or `30` (also `2w`).
pub(crate) fn parse_days(s: &str) -> std::result::Result<u32, String> {
    let secs = crate::cmd::remind::parse_duration(s)?.as_secs();
    if secs % 86_400 != 0 {
        return Err("expected whole days, such as 30d or 2w".into());
    }
    u32::try_from(secs / 86_400)
        .ok()
        .filter(|d| *d <= 36_500)
        .ok_or_else(|| "at most 36500 days".into())
}

/// A time flag (`--as-of`, `--since`, `--until`) read by crm-core's shared parser in the
/// acting user's time zone: a bare date is the start of the day for `DayEnd::Start`, its
/// end for `DayEnd::End`.
pub(crate) async fn read_time(
    tx: &mut Tx,
    flag: &str,
    raw: Option<&str>,
    end: DayEnd,
) -> Result<Option<DateTime<Utc>>> {
    let Some(raw) = raw else { return Ok(None) };
    let zone = zone::acting(tx).await?;
    domain::parse_time(raw, zone, end, Utc::now())
        .map(Some)
        .map_err(|e| exit::usage(format!("{flag} {e}")))
}

/// A forecast grouping for clap.
pub(crate) fn parse_by(s: &str) -> std::result::Result<ForecastBy, String> {
    s.parse::<ForecastBy>().map_err(|e| e.to_string())
}

impl Row for ForecastGroup {
    fn headers() -> Vec<&'static str> {
        vec![
            "month",
            "owner",
            "pipeline_id",
            "stage",
            "currency",
            "deals",
            "value",
            "weighted",
            "won_deals",
            "won_value",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.month
                .map(|m| m.format("%Y-%m").to_string())
                .unwrap_or_default(),
            self.owner
                .clone()
                .or_else(|| self.owner_id.map(|o| o.to_string()))
                .unwrap_or_default(),
            output::opt(&self.pipeline_id),
            self.stage.clone().unwrap_or_default(),
            self.currency.clone(),
            self.deals.to_string(),
            self.value.to_string(),
            self.weighted.to_string(),
            self.won_deals.to_string(),
            self.won_value.to_string(),
        ]
    }
}

/// The key column of a forecast table for its grouping.
fn key_cell(by: ForecastBy, r: &ForecastGroup) -> String {
    match by {
        ForecastBy::Month => r
            .month
            .map(|m| m.format("%Y-%m").to_string())
            .unwrap_or_else(|| "no date".into()),
        ForecastBy::Owner => r.owner.clone().unwrap_or_else(|| {
            r.owner_id
                .map(short_id)
                .unwrap_or_else(|| "no owner".into())
        }),
        ForecastBy::Stage => r.stage.clone().unwrap_or_default(),
    }
}

/// Runs and prints the forecast by month, owner or stage, for the pipeline named (the
/// default one) or every pipeline, now or as of a moment.
pub(crate) async fn forecast(
    tx: &mut Tx,
    format: Format,
    pipeline: Option<&str>,
    all: bool,
    query: ForecastQuery,
) -> Result<()> {
    let pipeline = if all {
        None
    } else {
        Some(resolve_pipeline(tx, pipeline).await?.id)
    };
    let f = report::forecast_by(tx, &ForecastQuery { pipeline, ..query }).await?;
    print_forecast(format, &f)
}

fn print_forecast(format: Format, f: &ForecastReport) -> Result<()> {
    match format {
        Format::Json | Format::Ndjson => print_json(format, f),
        Format::Csv => output::list(format, &f.rows),
        Format::Table => {
            let key = match f.by {
                ForecastBy::Month => "month",
                ForecastBy::Owner => "owner",
                ForecastBy::Stage => "stage",
            };
            let rows = f.rows.iter().map(|r| {
                vec![
                    key_cell(f.by, r),
                    r.currency.clone(),
                    r.deals.to_string(),
                    r.value.to_string(),
                    r.weighted.to_string(),
                    r.won_deals.to_string(),
                    r.won_value.to_string(),
                ]
            });
            let stdout = crate::pipe::stdout();
            let mut out = stdout.lock();
            write_table(
                &mut out,
                &[
                    key,
                    "currency",
                    "deals",
                    "value",
                    "weighted",
                    "won",
                    "won value",
                ],
                rows,
            )?;
            out.flush()?;
            Ok(())
        }
    }
}

impl Row for StageVelocity {
    fn headers() -> Vec<&'static str> {
        vec![
            "stage",
            "position",
            "stays",
            "avg_days",
            "median_days",
            "entered",
            "advanced",
            "conversion",
            "stage_id",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.stage.clone(),
            self.position.to_string(),
            self.stays.to_string(),
            output::opt(&self.avg_days),
            output::opt(&self.median_days),
            self.entered.to_string(),
            self.advanced.to_string(),
            output::opt(&self.conversion),
            self.stage_id.to_string(),
        ]
    }
}

impl Row for VelocityPeriod {
    fn headers() -> Vec<&'static str> {
        vec!["month", "won", "lost", "win_rate", "lost_reasons"]
    }
    fn cells(&self) -> Vec<String> {
        let reasons: Vec<String> = self
            .lost_reasons
            .iter()
            .map(|r| format!("{} {}", r.reason, r.deals))
            .collect();
        vec![
            self.month.format("%Y-%m").to_string(),
            self.won.to_string(),
            self.lost.to_string(),
            output::opt(&self.win_rate),
            reasons.join(", "),
        ]
    }
}

/// Runs and prints the velocity of a pipeline: the stages, or with `periods` the months.
pub(crate) async fn velocity(
    tx: &mut Tx,
    format: Format,
    pipeline: Option<&str>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    periods: bool,
) -> Result<()> {
    let p = resolve_pipeline(tx, pipeline).await?;
    let query = VelocityQuery {
        pipeline: Some(p.id),
        since,
        until,
    };
    let v: Velocity = report::velocity(tx, &query).await?;
    match format {
        Format::Json | Format::Ndjson => print_json(format, &v),
        other if periods => output::list(other, &v.periods),
        other => output::list(other, &v.stages),
    }
}

impl Row for StuckDeal {
    fn headers() -> Vec<&'static str> {
        vec![
            "id",
            "title",
            "pipeline",
            "stage",
            "value",
            "currency",
            "entered_at",
            "days_in_stage",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.title.clone(),
            self.pipeline.clone(),
            self.stage.clone(),
            self.value.to_string(),
            self.currency.clone(),
            time(&self.entered_at),
            self.days_in_stage.to_string(),
        ]
    }
}

/// `crm deal list --stuck DAYS`: open deals in their stage for longer than `days`, in the
/// pipeline named or all, longest stuck first.
pub(crate) async fn stuck(ctx: &Ctx, pipeline: Option<&str>, days: u32) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let pipeline = match pipeline {
        Some(p) => Some(resolve_pipeline(&mut tx, Some(p)).await?.id),
        None => None,
    };
    let deals = report::stuck(&mut tx, pipeline, days).await?;
    tx.commit().await?;
    let format = ctx.format();
    match format {
        Format::Json | Format::Ndjson => {
            if format == Format::Json {
                print_json(format, &deals)?;
            } else {
                output::list(format, &deals)?;
            }
        }
        Format::Csv => output::list(format, &deals)?,
        Format::Table => {
            let rows = deals.iter().map(|d| {
                vec![
                    short_id(d.id),
                    d.title.clone(),
                    d.stage.clone(),
                    format!("{} {}", d.value, d.currency),
                    local_time(&d.entered_at),
                    d.days_in_stage.to_string(),
                ]
            });
            let stdout = crate::pipe::stdout();
            let mut out = stdout.lock();
            write_table(
                &mut out,
                &["id", "deal", "stage", "value", "in stage since", "days"],
                rows,
            )?;
            out.flush()?;
        }
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_whole() {
        assert_eq!(parse_days("30d"), Ok(30));
        assert_eq!(parse_days("30"), Ok(30));
        assert_eq!(parse_days("2w"), Ok(14));
        for bad in ["", "0", "0d", "12h", "x", "40000d"] {
            assert!(parse_days(bad).is_err(), "{bad}");
        }
    }
}
