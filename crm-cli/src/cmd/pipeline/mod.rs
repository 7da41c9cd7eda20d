//! `crm pipeline`: pipelines and their stages, the board and the weighted forecast.
//!
//! A pipeline is named by its name (case does not matter) or id; without one, commands use
//! the organization's default pipeline. A stage is named by its name within the pipeline
//! or by its id. JSON output is the serde form of crm-core's `Pipeline` (with `stages`,
//! each `{id, name, position, probability}` in order), `BoardColumn` and `Forecast`.

mod edit;
mod print;
mod report;

use anyhow::Result;
use clap::{Args, Subcommand};
use crm_core::report::ForecastBy;
use rust_decimal::Decimal;

use crate::cmd::analytics;
use crate::ctx::Ctx;
use crate::exit;

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

/// Runs one `crm pipeline` subcommand, in one transaction (on the replica, when one is
/// configured, for those that only read).
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
    let tx = if read_only {
        scope.begin_read().await?
    } else {
        scope.begin().await?
    };
    let format = ctx.format();
    match cmd {
        PipelineCommand::List => report::list(tx, format).await?,
        PipelineCommand::Show { pipeline } => report::show(tx, pipeline, format).await?,
        PipelineCommand::Add {
            name,
            stages,
            default,
        } => edit::add(tx, &name, &stages, default, format).await?,
        PipelineCommand::Rename {
            pipeline,
            new_name,
            at_version,
        } => edit::rename(tx, &pipeline, &new_name, at_version, format).await?,
        PipelineCommand::Default { pipeline } => edit::set_default(tx, &pipeline, format).await?,
        PipelineCommand::Delete {
            pipeline,
            yes,
            dry_run,
        } => edit::delete(tx, &scope, &pipeline, yes, dry_run, ctx).await?,
        PipelineCommand::Stage(StageCommand::Remove {
            stage,
            move_to,
            yes,
            dry_run,
            pipeline: PipelineArg { pipeline },
        }) => {
            let remove = edit::StageRemoval {
                stage,
                move_to,
                yes,
                dry_run,
                pipeline,
            };
            edit::remove_stage(tx, &scope, remove, ctx).await?
        }
        PipelineCommand::Stage(cmd) => edit::stage(tx, cmd, format).await?,
        PipelineCommand::Board { pipeline, as_of } => {
            report::board(tx, pipeline, as_of, format).await?
        }
        PipelineCommand::Forecast {
            pipeline,
            months,
            by,
            all_pipelines,
            as_of,
        } if by.is_some() || all_pipelines || as_of.is_some() => {
            let query = report::ForecastArgs {
                pipeline,
                months,
                by,
                all_pipelines,
                as_of,
            };
            report::forecast_by(tx, query, format).await?
        }
        PipelineCommand::Velocity {
            pipeline,
            since,
            until,
            periods,
        } => report::velocity(tx, pipeline, since, until, periods, format).await?,
        PipelineCommand::Forecast {
            pipeline, months, ..
        } => report::forecast(tx, pipeline, months, format).await?,
    }
    Ok(exit::OK)
}
