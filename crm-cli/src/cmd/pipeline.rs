//! `crm pipeline`: pipelines and their stages, the board and the weighted forecast.
//!
//! A pipeline is named by its name (case does not matter) or id; without one, commands use
//! the organization's default pipeline. A stage is named by its name within the pipeline
//! or by its id. JSON output is the serde form of crm-core's `Pipeline` (with `stages`,
//! each `{id, name, position, probability}` in order), `BoardColumn` and `Forecast`.

use std::io::Write as _;

use anyhow::Result;
use clap::{Args, Subcommand};
use crm_core::domain::DayEnd;
use crm_core::report::{self, BoardColumn, Forecast, ForecastBy, ForecastQuery, ForecastRow};
use crm_core::store::pipeline::{self, Pipeline};
use crm_core::{StageId, Tx};
use rust_decimal::Decimal;

use crate::cli::Format;
use crate::cmd::analytics;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};
use crate::output::{print_json, short_id, write_table};
use crate::resolve::{resolve_pipeline, stage_in};

#[derive(Debug, Subcommand)]
pub enum PipelineCommand {
    /// List the pipelines with their stages.
    List,
    /// Show a pipeline (default: the default pipeline) with its stages in order.
    Show {
        /// The pipeline: its name or id.
        #[arg(value_name = "NAME|ID")]
        pipeline: Option<String>,
    },
    /// Create a pipeline with its stages in order, each `NAME:PROBABILITY` (percent):
    /// `crm pipeline add Projects --stage Lead:10 --stage Offer:50 --stage Commit:90`.
    Add {
        /// Its name, unique in the organization.
        name: String,
        /// A stage as NAME:PROBABILITY (repeatable, in order).
        #[arg(long = "stage", value_name = "NAME:PERCENT", required = true,
              value_parser = parse_stage_spec)]
        stages: Vec<(String, Decimal)>,
        /// Make it the default pipeline (deals go there when no pipeline is named).
        #[arg(long)]
        default: bool,
    },
    /// Rename a pipeline.
    #[command(disable_version_flag = true)]
    Rename {
        /// The pipeline: its name or id.
        #[arg(value_name = "NAME|ID")]
        pipeline: String,
        /// The new name.
        new_name: String,
        /// Only if the pipeline is still at this version (else exit 4).
        #[arg(long = "version", value_name = "N")]
        at_version: Option<i32>,
    },
    /// Make a pipeline the default one.
    Default {
        /// The pipeline: its name or id.
        #[arg(value_name = "NAME|ID")]
        pipeline: String,
    },
    /// Delete a pipeline that is not the default and holds no open deals. Asks for
    /// confirmation on a terminal; scripts pass --yes.
    Delete {
        /// The pipeline: its name or id.
        #[arg(value_name = "NAME|ID")]
        pipeline: String,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Show what would be deleted and the deals in it; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Add, rename, reorder or remove stages, or change their win probability.
    #[command(subcommand)]
    Stage(StageCommand),
    /// The board: every stage in order with its open deals (title, value, company, days in
    /// the stage).
    Board {
        /// The pipeline: its name or id (default: the default pipeline).
        #[arg(value_name = "NAME|ID")]
        pipeline: Option<String>,
        /// The board as it stood then (`30.06.2026`, `2026-06-30`: the end of that day in
        /// your time zone; or a time), rebuilt from the stage history and the audit log.
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
    },
    /// The weighted forecast: open deals by expected close month and currency, each
    /// weighted by its stage's probability. Overdue close dates count in the current
    /// month; deals without a date come last.
    Forecast {
        /// The pipeline: its name or id (default: the default pipeline).
        #[arg(value_name = "NAME|ID")]
        pipeline: Option<String>,
        /// How many months, starting with the current one (1 to 120).
        #[arg(long, default_value_t = 6,
              value_parser = clap::value_parser!(u32).range(1..=120))]
        months: u32,
        /// Group by expected close month, owner or stage, with the value won beside each
        /// group (won deals count in the month they were won).
        #[arg(long, value_name = "month|owner|stage", value_parser = analytics::parse_by)]
        by: Option<ForecastBy>,
        /// Every pipeline together instead of one.
        #[arg(long = "all-pipelines", conflicts_with = "pipeline")]
        all_pipelines: bool,
        /// The forecast as it stood then (a date means the end of that day in your time
        /// zone); its months start with that moment's month.
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
    },
    /// Velocity from the stage history: per stage the finished stays (average and median
    /// days) and the share of deals that went on to a later stage or were won; with
    /// --periods, per month the deals won and lost, the win rate and the lost reasons.
    Velocity {
        /// The pipeline: its name or id (default: the default pipeline).
        #[arg(value_name = "NAME|ID")]
        pipeline: Option<String>,
        /// Only stage entries and closings from this time on (a date means its start).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only stage entries and closings up to this time (a date means its end).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// Print the months (won, lost, win rate, lost reasons) instead of the stages
        /// (JSON always has both).
        #[arg(long)]
        periods: bool,
    },
}

/// Which pipeline a stage command works on.
#[derive(Debug, Args)]
pub struct PipelineArg {
    /// The pipeline: its name or id (default: the default pipeline; a stage id finds its
    /// own pipeline).
    #[arg(long, value_name = "NAME|ID")]
    pub pipeline: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum StageCommand {
    /// Add a stage (at the end, or at --position).
    Add {
        /// Its name, unique in the pipeline.
        name: String,
        /// Its win probability in percent (0 to 100).
        #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
        probability: Decimal,
        /// Its place: 0 is first (as `pipeline show` numbers them); later stages move back.
        #[arg(long, value_name = "N")]
        position: Option<i32>,
        #[command(flatten)]
        pipeline: PipelineArg,
    },
    /// Rename a stage.
    Rename {
        /// The stage: its name or id.
        stage: String,
        /// The new name.
        new_name: String,
        #[command(flatten)]
        pipeline: PipelineArg,
    },
    /// Set a stage's win probability.
    Probability {
        /// The stage: its name or id.
        stage: String,
        /// The win probability in percent (0 to 100).
        #[arg(value_name = "PERCENT", value_parser = parse_percent)]
        probability: Decimal,
        #[command(flatten)]
        pipeline: PipelineArg,
    },
    /// Put the stages in a new order: name every stage of the pipeline once.
    Reorder {
        /// The stages (names or ids) in their new order.
        #[arg(required = true, value_name = "STAGE")]
        stages: Vec<String>,
        #[command(flatten)]
        pipeline: PipelineArg,
    },
    /// Remove a stage; its deals move to --move-to (required when it holds deals). Asks,
    /// naming the deals and their sums, on a terminal; scripts pass --yes.
    Remove {
        /// The stage: its name or id.
        stage: String,
        /// Move the stage's deals to this stage of the same pipeline (name or id).
        #[arg(long, value_name = "STAGE")]
        move_to: Option<String>,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Show what would be removed and the deals in the stage; change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        pipeline: PipelineArg,
    },
}

/// A percentage: `25`, `12.5`, `12,5` or `25%`.
fn parse_percent(s: &str) -> std::result::Result<Decimal, String> {
    s.trim()
        .trim_end_matches('%')
        .trim()
        .replace(',', ".")
        .parse::<Decimal>()
        .map_err(|_| "expected a percentage such as 25 or 12.5".to_string())
}

/// `NAME:PERCENT` (the last colon splits, so names may contain colons).
fn parse_stage_spec(s: &str) -> std::result::Result<(String, Decimal), String> {
    let Some((name, p)) = s.rsplit_once(':') else {
        return Err("expected NAME:PERCENT, e.g. Lead:10".into());
    };
    Ok((name.trim().to_string(), parse_percent(p)?))
}

/// The pipeline and the stage named by `stage` in it. A stage id without --pipeline finds
/// its own pipeline.
async fn pipeline_and_stage(
    tx: &mut Tx,
    pipeline: Option<&str>,
    stage: &str,
) -> Result<(Pipeline, StageId)> {
    if pipeline.is_none()
        && let Ok(id) = stage.trim().parse::<StageId>()
    {
        let all = pipeline::list(tx).await?;
        return match all
            .into_iter()
            .find(|p| p.stages.iter().any(|s| s.id == id))
        {
            Some(p) => Ok((p, id)),
            None => Err(exit::coded(
                exit::NOT_FOUND,
                "stage not found; `crm pipeline show NAME` lists the stages of a pipeline",
            )),
        };
    }
    let p = resolve_pipeline(tx, pipeline).await?;
    let id = stage_in(&p, stage)?;
    Ok((p, id))
}

/// A pipeline as `pipeline list` prints it.
impl Row for Pipeline {
    fn headers() -> Vec<&'static str> {
        vec!["name", "default", "stages", "version", "id"]
    }
    fn cells(&self) -> Vec<String> {
        let stages: Vec<String> = self
            .stages
            .iter()
            .map(|s| format!("{} {}%", s.name, s.probability.normalize()))
            .collect();
        vec![
            self.name.clone(),
            if self.is_default { "yes" } else { "" }.to_string(),
            stages.join(" → "),
            self.version.to_string(),
            self.id.to_string(),
        ]
    }
}

/// Prints one pipeline: JSON, a summary and the stage table, or the stages as CSV.
fn print_pipeline(format: Format, p: &Pipeline) -> Result<()> {
    let stage_rows = || {
        p.stages.iter().map(|s| {
            vec![
                s.position.to_string(),
                s.name.clone(),
                s.probability.normalize().to_string(),
                s.id.to_string(),
            ]
        })
    };
    match format {
        Format::Json | Format::Ndjson => print_json(format, p),
        Format::Csv => {
            let stdout = crate::pipe::stdout();
            let mut w = crate::output::csv_writer(stdout.lock())?;
            w.write_row(["position", "name", "probability", "id"])?;
            for r in stage_rows() {
                w.write_row(r)?;
            }
            w.flush()?;
            Ok(())
        }
        Format::Table => {
            let stdout = crate::pipe::stdout();
            let mut out = stdout.lock();
            writeln!(
                out,
                "{}{} (version {}, id {})",
                p.name,
                if p.is_default { " [default]" } else { "" },
                p.version,
                p.id
            )?;
            write_table(
                &mut out,
                &["position", "stage", "probability %", "id"],
                stage_rows(),
            )?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Prints the board: JSON columns, or one row per deal (and per empty stage).
fn print_board(format: Format, columns: &[BoardColumn]) -> Result<()> {
    if matches!(format, Format::Json | Format::Ndjson) {
        return print_json(format, &columns);
    }
    let csv = format == Format::Csv;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for c in columns {
        if c.deals.is_empty() && !csv {
            rows.push(vec![
                c.stage.clone(),
                String::new(),
                String::new(),
                String::new(),
            ]);
            continue;
        }
        for d in &c.deals {
            let company = d.company.clone().unwrap_or_default();
            rows.push(if csv {
                vec![
                    c.stage.clone(),
                    d.title.clone(),
                    d.value.to_string(),
                    d.currency.clone(),
                    company,
                    d.days_in_stage.to_string(),
                    d.id.to_string(),
                ]
            } else {
                vec![
                    c.stage.clone(),
                    d.title.clone(),
                    format!("{} {}", d.value, d.currency),
                    company,
                    d.days_in_stage.to_string(),
                    short_id(d.id),
                ]
            });
        }
    }
    let stdout = crate::pipe::stdout();
    let mut out = stdout.lock();
    if csv {
        let mut w = crate::output::csv_writer(&mut out)?;
        w.write_row([
            "stage",
            "title",
            "value",
            "currency",
            "company",
            "days_in_stage",
            "id",
        ])?;
        for r in rows {
            w.write_row(r)?;
        }
        w.flush()?;
    } else {
        // Stages without deals get a row with blanks past the stage name.
        let rows = rows.into_iter().map(|mut r| {
            r.resize(6, String::new());
            r
        });
        write_table(
            &mut out,
            &["stage", "deal", "value", "company", "days in stage", "id"],
            rows,
        )?;
    }
    out.flush()?;
    Ok(())
}

impl Row for ForecastRow {
    fn headers() -> Vec<&'static str> {
        vec!["month", "currency", "deals", "value", "weighted"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.month
                .map(|m| m.format("%Y-%m").to_string())
                .unwrap_or_else(|| "no date".into()),
            self.currency.clone(),
            self.deals.to_string(),
            self.value.to_string(),
            self.weighted.to_string(),
        ]
    }
}

fn print_forecast(format: Format, f: &Forecast) -> Result<()> {
    match format {
        Format::Json | Format::Ndjson => print_json(format, f),
        other => output::list(other, &f.rows),
    }
}

pub async fn run(cmd: PipelineCommand, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    // Reports and listings read only: on the replica when one is configured.
    let read_only = matches!(
        cmd,
        PipelineCommand::List
            | PipelineCommand::Show { .. }
            | PipelineCommand::Board { .. }
            | PipelineCommand::Forecast { .. }
            | PipelineCommand::Velocity { .. }
    );
    let mut tx = if read_only {
        scope.begin_read().await?
    } else {
        scope.begin().await?
    };
    let format = ctx.format();
    match cmd {
        PipelineCommand::List => {
            let all = pipeline::list(&mut tx).await?;
            tx.commit().await?;
            match format {
                Format::Json | Format::Ndjson => print_json(format, &all)?,
                other => output::list(other, &all)?,
            }
        }
        PipelineCommand::Show { pipeline } => {
            let p = resolve_pipeline(&mut tx, pipeline.as_deref()).await?;
            tx.commit().await?;
            print_pipeline(format, &p)?;
        }
        PipelineCommand::Add {
            name,
            stages,
            default,
        } => {
            let p = pipeline::create(&mut tx, &name, &stages, default).await?;
            tx.commit().await?;
            print_pipeline(format, &p)?;
        }
        PipelineCommand::Rename {
            pipeline: reference,
            new_name,
            at_version,
        } => {
            let p = resolve_pipeline(&mut tx, Some(&reference)).await?;
            let version = at_version.unwrap_or(p.version);
            let p = pipeline::rename(&mut tx, p.id, &new_name, version).await?;
            tx.commit().await?;
            print_pipeline(format, &p)?;
        }
        PipelineCommand::Default {
            pipeline: reference,
        } => {
            let p = resolve_pipeline(&mut tx, Some(&reference)).await?;
            let p = pipeline::set_default(&mut tx, p.id).await?;
            tx.commit().await?;
            print_pipeline(format, &p)?;
        }
        PipelineCommand::Delete {
            pipeline: reference,
            yes,
            dry_run,
        } => {
            crate::confirm::needs_terminal_or_yes(yes || dry_run)?;
            let p = resolve_pipeline(&mut tx, Some(&reference)).await?;
            let dependents = crm_core::store::dependents::of_pipeline(&mut tx, p.id).await?;
            tx.commit().await?;
            let target = format!("pipeline '{}'", p.name);
            if !crate::confirm::before_destroying(
                ctx,
                yes,
                dry_run,
                "delete",
                &target,
                &dependents,
            )? {
                return Ok(exit::OK);
            }
            scope
                .run(async |tx| pipeline::delete(tx, p.id).await)
                .await?;
            if matches!(format, Format::Json | Format::Ndjson) {
                print_json(format, &serde_json::json!({ "id": p.id, "deleted": true }))?;
            }
            ctx.note("pipeline deleted");
        }
        PipelineCommand::Stage(StageCommand::Remove {
            stage: name,
            move_to,
            yes,
            dry_run,
            pipeline: PipelineArg { pipeline },
        }) => {
            crate::confirm::needs_terminal_or_yes(yes || dry_run)?;
            let (p, id) = pipeline_and_stage(&mut tx, pipeline.as_deref(), &name).await?;
            let target = match &move_to {
                Some(t) => Some(stage_in(&p, t)?),
                None => None,
            };
            let dependents = crm_core::store::dependents::of_stage(&mut tx, id).await?;
            tx.commit().await?;
            let stage_name = |sid: StageId| {
                p.stages
                    .iter()
                    .find(|s| s.id == sid)
                    .map(|s| s.name.clone())
                    .unwrap_or_default()
            };
            let mut what = format!("stage '{}' of pipeline '{}'", stage_name(id), p.name);
            if let Some(t) = target {
                what.push_str(&format!(" (its deals move to '{}')", stage_name(t)));
            }
            if !crate::confirm::before_destroying(ctx, yes, dry_run, "remove", &what, &dependents)?
            {
                return Ok(exit::OK);
            }
            let p = scope
                .run(async |tx| {
                    pipeline::remove_stage(tx, id, target).await?;
                    pipeline::get(tx, p.id).await
                })
                .await?;
            print_pipeline(format, &p)?;
        }
        PipelineCommand::Stage(cmd) => {
            let p = stage(&mut tx, cmd).await?;
            tx.commit().await?;
            print_pipeline(format, &p)?;
        }
        PipelineCommand::Board { pipeline, as_of } => {
            let p = resolve_pipeline(&mut tx, pipeline.as_deref()).await?;
            let as_of =
                analytics::read_time(&mut tx, "--as-of", as_of.as_deref(), DayEnd::End).await?;
            let columns = match as_of {
                Some(at) => report::board_as_of(&mut tx, Some(p.id), at).await?,
                None => report::board(&mut tx, Some(p.id)).await?,
            };
            tx.commit().await?;
            print_board(format, &columns)?;
        }
        PipelineCommand::Forecast {
            pipeline,
            months,
            by,
            all_pipelines,
            as_of,
        } if by.is_some() || all_pipelines || as_of.is_some() => {
            let as_of =
                analytics::read_time(&mut tx, "--as-of", as_of.as_deref(), DayEnd::End).await?;
            let query = ForecastQuery {
                by: by.unwrap_or_default(),
                months,
                as_of,
                ..Default::default()
            };
            analytics::forecast(&mut tx, format, pipeline.as_deref(), all_pipelines, query).await?;
            tx.commit().await?;
        }
        PipelineCommand::Velocity {
            pipeline,
            since,
            until,
            periods,
        } => {
            let since =
                analytics::read_time(&mut tx, "--since", since.as_deref(), DayEnd::Start).await?;
            let until =
                analytics::read_time(&mut tx, "--until", until.as_deref(), DayEnd::End).await?;
            analytics::velocity(&mut tx, format, pipeline.as_deref(), since, until, periods)
                .await?;
            tx.commit().await?;
        }
        PipelineCommand::Forecast {
            pipeline, months, ..
        } => {
            let p = resolve_pipeline(&mut tx, pipeline.as_deref()).await?;
            let forecast = report::forecast(&mut tx, Some(p.id), months).await?;
            tx.commit().await?;
            print_forecast(format, &forecast)?;
        }
    }
    Ok(exit::OK)
}

/// Runs a stage command; returns the pipeline as it is afterwards.
async fn stage(tx: &mut Tx, cmd: StageCommand) -> Result<Pipeline> {
    let pipeline_id = match cmd {
        StageCommand::Add {
            name,
            probability,
            position,
            pipeline: PipelineArg { pipeline },
        } => {
            let p = resolve_pipeline(tx, pipeline.as_deref()).await?;
            pipeline::add_stage(tx, p.id, &name, probability, position).await?;
            p.id
        }
        StageCommand::Rename {
            stage,
            new_name,
            pipeline: PipelineArg { pipeline },
        } => {
            let (p, id) = pipeline_and_stage(tx, pipeline.as_deref(), &stage).await?;
            pipeline::rename_stage(tx, id, &new_name).await?;
            p.id
        }
        StageCommand::Probability {
            stage,
            probability,
            pipeline: PipelineArg { pipeline },
        } => {
            let (p, id) = pipeline_and_stage(tx, pipeline.as_deref(), &stage).await?;
            pipeline::set_probability(tx, id, probability).await?;
            p.id
        }
        StageCommand::Reorder {
            stages,
            pipeline: PipelineArg { pipeline },
        } => {
            let (p, _) = pipeline_and_stage(tx, pipeline.as_deref(), &stages[0]).await?;
            let ids = stages
                .iter()
                .map(|s| stage_in(&p, s))
                .collect::<Result<Vec<StageId>>>()?;
            pipeline::reorder_stages(tx, p.id, &ids).await?;
            p.id
        }
        StageCommand::Remove {
            stage,
            move_to,
            pipeline: PipelineArg { pipeline },
            ..
        } => {
            let (p, id) = pipeline_and_stage(tx, pipeline.as_deref(), &stage).await?;
            let target = match &move_to {
                Some(t) => Some(stage_in(&p, t)?),
                None => None,
            };
            pipeline::remove_stage(tx, id, target).await?;
            p.id
        }
    };
    Ok(pipeline::get(tx, pipeline_id).await?)
}
