//! `crm bench`: every scenario against a fresh database, as ratios to a baseline measured in
//! the same run.

use anyhow::Result;
use clap::Args;
use crm_core::LocalCluster;
use crm_core::local::ClusterSettings;
use crm_tools::bench::{self, BenchOptions, ScenarioResult};
use serde::Serialize;

use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};

/// Run the benchmarks (import, export, search, create, board, duplicates, GDPR subject
/// export and erasure, a mixed workload of concurrent sessions) against fresh databases in
/// the local cluster (or the --database-url server), and print each figure as a ratio to a
/// plain-SQL baseline measured in the same run (p50_ms / p95_ms / p99_ms where a scenario
/// times many operations).
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Data set size: 10k, 100k, 1m, ...
    #[arg(long, default_value = "100k")]
    pub size: String,
    /// Generator seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Only these scenarios (repeatable): import_contacts, reimport_update, export_contacts,
    /// search, create_contact, board, forecast, velocity, board_as_of, duplicates,
    /// gdpr_subject_export, gdpr_erasure, mixed.
    #[arg(long = "scenario")]
    pub only: Vec<String>,
    /// Print `{"size", "scenarios": [...]}` as JSON (same as --format json).
    #[arg(long)]
    pub json: bool,
    /// Where the generated CSV goes (default: a temporary directory).
    #[arg(long)]
    pub workdir: Option<std::path::PathBuf>,
}

#[derive(Serialize)]
struct Line<'a>(&'a ScenarioResult);

impl Row for Line<'_> {
    fn headers() -> Vec<&'static str> {
        vec![
            "scenario",
            "seconds",
            "baseline s",
            "ratio",
            "peak MiB",
            "details",
            "baseline",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let r = self.0;
        let details: Vec<String> = r.extra.iter().map(|(k, v)| format!("{k}={v}")).collect();
        vec![
            r.name.clone(),
            format!("{:.3}", r.seconds),
            format!("{:.3}", r.baseline_seconds),
            format!("{:.2}×", r.ratio),
            format!("{:.1}", r.peak_rss_mb),
            details.join(" "),
            r.baseline.clone(),
        ]
    }
}

pub async fn run(args: BenchArgs, ctx: &Ctx) -> Result<u8> {
    let contacts = bench::parse_size(&args.size)?;
    for s in &args.only {
        if !bench::SCENARIOS.contains(&s.as_str()) {
            return Err(exit::usage(format!(
                "unknown scenario '{s}'; scenarios: {}",
                bench::SCENARIOS.join(", ")
            )));
        }
    }
    let admin = match ctx.global.database_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => {
            let o: crm_core::db::PgConnectOptions = url
                .parse()
                .map_err(|_| exit::usage("the database URL is not valid"))?;
            o.database("postgres")
        }
        None => {
            // Make sure the cluster exists and runs.
            ctx.crm().await?;
            LocalCluster::new(LocalCluster::default_home(), ClusterSettings::default())?
                .connect_options("postgres")
        }
    };
    let workdir = args
        .workdir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("crm-bench-{}", std::process::id())));
    let opts = BenchOptions {
        contacts,
        seed: args.seed,
        workdir: workdir.clone(),
        only: args.only.clone(),
    };
    let quiet = ctx.global.quiet;
    let report = bench::run(&admin, &opts, |line| {
        if !quiet {
            eprintln!("{line}");
        }
    })
    .await?;
    if args.workdir.is_none() {
        let _ = std::fs::remove_dir_all(&workdir);
    }
    if args.json || matches!(ctx.format(), Format::Json | Format::Ndjson) {
        output::json(&report)?;
    } else {
        let rows: Vec<Line> = report.scenarios.iter().map(Line).collect();
        output::text(&format!(
            "crm bench --size {} ({} contacts)",
            report.size, report.contacts
        ))?;
        output::list(Format::Table, &rows)?;
    }
    Ok(exit::OK)
}
