//! Reading pipelines: `pipeline list`, `show`, `board`, `forecast` and `velocity`.

use anyhow::Result;
use crm_core::Tx;
use crm_core::domain::DayEnd;
use crm_core::report::{self, ForecastBy, ForecastQuery};
use crm_core::store::pipeline;

use super::print::{print_board, print_forecast, print_pipeline};
use crate::cli::Format;
use crate::cmd::analytics;
use crate::output::{self, print_json};
use crate::resolve::resolve_pipeline;

/// `pipeline list`.
pub(super) async fn list(mut tx: Tx, format: Format) -> Result<()> {
    let all = pipeline::list(&mut tx).await?;
    tx.commit().await?;
    match format {
        Format::Json | Format::Ndjson => print_json(format, &all),
        other => output::list(other, &all),
    }
}

/// `pipeline show`: the named or the default pipeline.
pub(super) async fn show(mut tx: Tx, pipeline: Option<String>, format: Format) -> Result<()> {
    let p = resolve_pipeline(&mut tx, pipeline.as_deref()).await?;
    tx.commit().await?;
    print_pipeline(format, &p)
}

/// `pipeline board`: the deals by stage, now or as they stood at `--as-of`.
pub(super) async fn board(
    mut tx: Tx,
    pipeline: Option<String>,
    as_of: Option<String>,
    format: Format,
) -> Result<()> {
    let p = resolve_pipeline(&mut tx, pipeline.as_deref()).await?;
    let as_of = analytics::read_time(&mut tx, "--as-of", as_of.as_deref(), DayEnd::End).await?;
    let columns = match as_of {
        Some(at) => report::board_as_of(&mut tx, Some(p.id), at).await?,
        None => report::board(&mut tx, Some(p.id)).await?,
    };
    tx.commit().await?;
    print_board(format, &columns)
}

/// What `pipeline forecast --by`, `--all-pipelines` or `--as-of` was given.
pub(super) struct ForecastArgs {
    /// The pipeline (default: the default pipeline).
    pub(super) pipeline: Option<String>,
    /// Months ahead.
    pub(super) months: u32,
    /// How the forecast is grouped.
    pub(super) by: Option<ForecastBy>,
    /// Every pipeline.
    pub(super) all_pipelines: bool,
    /// The forecast as it stood at this time.
    pub(super) as_of: Option<String>,
}

/// `pipeline forecast` grouped (`--by`), over every pipeline or as of a time.
pub(super) async fn forecast_by(mut tx: Tx, args: ForecastArgs, format: Format) -> Result<()> {
    let as_of =
        analytics::read_time(&mut tx, "--as-of", args.as_of.as_deref(), DayEnd::End).await?;
    let query = ForecastQuery {
        by: args.by.unwrap_or_default(),
        months: args.months,
        as_of,
        ..Default::default()
    };
    let pipeline = args.pipeline.as_deref();
    analytics::forecast(&mut tx, format, pipeline, args.all_pipelines, query).await?;
    tx.commit().await?;
    Ok(())
}

/// `pipeline velocity`: how long deals stay in each stage.
pub(super) async fn velocity(
    mut tx: Tx,
    pipeline: Option<String>,
    since: Option<String>,
    until: Option<String>,
    periods: bool,
    format: Format,
) -> Result<()> {
    let since = analytics::read_time(&mut tx, "--since", since.as_deref(), DayEnd::Start).await?;
    let until = analytics::read_time(&mut tx, "--until", until.as_deref(), DayEnd::End).await?;
    analytics::velocity(&mut tx, format, pipeline.as_deref(), since, until, periods).await?;
    tx.commit().await?;
    Ok(())
}

/// `pipeline forecast`: the weighted forecast by month of one pipeline.
pub(super) async fn forecast(
    mut tx: Tx,
    pipeline: Option<String>,
    months: u32,
    format: Format,
) -> Result<()> {
    let p = resolve_pipeline(&mut tx, pipeline.as_deref()).await?;
    let forecast = report::forecast(&mut tx, Some(p.id), months).await?;
    tx.commit().await?;
    print_forecast(format, &forecast)
}
