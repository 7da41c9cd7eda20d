//! Benchmarks with a baseline measured in the same run: every scenario runs against a fresh
//! database and reports its time as a ratio to a plain-SQL baseline doing the same job, so
//! the figures hold on a shared, noisy machine. Nothing here asserts a time.
//!
//! One file per scenario. To add one: a file with `pub(super) async fn run(cx: &Context,
//! log) -> Result<ScenarioResult>` that measures its baseline in the same run, its name in
//! [`SCENARIOS`], and one line in [`run`]. The JSON keys of [`ScenarioResult`] (and each
//! scenario's `extra` keys) are what `crm bench --json` prints: keep them stable.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crm_core::Scope;
use crm_core::error::{Error, Result};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::postgres::PgConnectOptions;

use crate::generate::{CsvHeader, Generator, write_contacts_csv};

mod board;
mod create_contact;
mod duplicates;
mod export_contacts;
mod gdpr;
mod import_contacts;
mod measure;
mod mixed;
mod pipeline_analytics;
mod reimport_update;
mod search;

use measure::Fresh;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Contacts in the generated data set.
    pub contacts: u64,
    /// Generator seed (same seed, same data).
    pub seed: u64,
    /// Where generated files go.
    pub workdir: PathBuf,
    /// Only these scenarios (all when empty).
    pub only: Vec<String>,
}

/// One scenario's figures.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// Scenario name (`import_contacts`, `export_contacts`, ...).
    pub name: String,
    /// Our time in seconds.
    pub seconds: f64,
    /// What the baseline is.
    pub baseline: String,
    /// The baseline's time in seconds, measured in the same run.
    pub baseline_seconds: f64,
    /// `seconds / baseline_seconds`.
    pub ratio: f64,
    /// Peak resident memory of this process during our part, in MiB.
    pub peak_rss_mb: f64,
    /// Scenario-specific figures (e.g. `raw_copy_seconds`, `p50_ms`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// The size label (`10k`, `1m`, ...).
    pub size: String,
    /// Contacts in the data set.
    pub contacts: u64,
    /// Results in run order.
    pub scenarios: Vec<ScenarioResult>,
}

/// The scenario names, in run order.
pub const SCENARIOS: &[&str] = &[
    "import_contacts",
    "reimport_update",
    "export_contacts",
    "search",
    "create_contact",
    "board",
    "forecast",
    "velocity",
    "board_as_of",
    "duplicates",
    "gdpr_subject_export",
    "gdpr_erasure",
    "mixed",
];

/// Parses `10k`, `100k`, `1m`, `250000` into a count.
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mul) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1_000),
        Some('m') => (&t[..t.len() - 1], 1_000_000),
        _ => (t.as_str(), 1),
    };
    match num.parse::<u64>() {
        Ok(n) if n > 0 && n * mul <= 50_000_000 => Ok(n * mul),
        _ => Err(Error::invalid(
            "size",
            "must be a count such as 10k, 100k or 1m (at most 50m)",
        )),
    }
}

/// Formats a count as a size label.
pub fn size_label(n: u64) -> String {
    if n.is_multiple_of(1_000_000) {
        format!("{}m", n / 1_000_000)
    } else if n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

/// What a scenario works on: the options, the generated data and the main tenant, loaded by
/// our import of the generated file.
struct Context<'a> {
    opts: &'a BenchOptions,
    generator: &'a Generator,
    /// The generated contacts CSV.
    file: &'a Path,
    /// The main tenant.
    scope: &'a Scope,
    /// How long our first import of `file` took.
    first_import_seconds: f64,
}

/// Writes the generated contacts CSV into the work directory.
fn generate_file(
    opts: &BenchOptions,
    generator: &Generator,
    log: &mut dyn FnMut(&str),
) -> Result<PathBuf> {
    std::fs::create_dir_all(&opts.workdir)?;
    let file = opts.workdir.join(format!(
        "contacts-{}-{}.csv",
        size_label(opts.contacts),
        opts.seed
    ));
    let t = Instant::now();
    {
        let f = std::fs::File::create(&file)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        write_contacts_csv(generator, &mut w, CsvHeader::English)?;
        w.flush()?;
    }
    let file_mb = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) as f64 / 1_048_576.0;
    log(&format!(
        "generated {} contacts ({file_mb:.1} MiB) in {:.1}s",
        opts.contacts,
        t.elapsed().as_secs_f64()
    ));
    Ok(file)
}

/// Runs the benchmark. `admin` connects to a maintenance database (e.g. `postgres`) of the
/// server as a user that may create databases; `log` receives progress lines.
pub async fn run(
    admin: &PgConnectOptions,
    opts: &BenchOptions,
    mut log: impl FnMut(&str),
) -> Result<BenchReport> {
    let log: &mut dyn FnMut(&str) = &mut log;
    let want = |s: &str| opts.only.is_empty() || opts.only.iter().any(|o| o == s);
    let generator = Generator::new(opts.seed, opts.contacts);
    let file = generate_file(opts, &generator, log)?;

    // The tenant every later scenario reads: imported by our path.
    let main = Fresh::new(admin, "main").await?;
    let scope = main.org().await?;
    let (first_import_seconds, imported) =
        import_contacts::run(admin, &file, &scope, want("import_contacts"), log).await?;
    let mut scenarios: Vec<ScenarioResult> = imported.into_iter().collect();
    let cx = Context {
        opts,
        generator: &generator,
        file: &file,
        scope: &scope,
        first_import_seconds,
    };
    if want("reimport_update") {
        scenarios.push(reimport_update::run(&cx, log).await?);
    }
    if want("export_contacts") {
        scenarios.push(export_contacts::run(&cx, log).await?);
    }
    if want("search") {
        scenarios.push(search::run(&cx, log).await?);
    }
    if want("create_contact") {
        scenarios.push(create_contact::run(&cx, log).await?);
    }
    if want("board") {
        scenarios.push(board::run(&cx, log).await?);
    }
    if want("forecast") || want("velocity") || want("board_as_of") {
        let results = pipeline_analytics::run(&cx, log).await?;
        scenarios.extend(results.into_iter().filter(|r| want(&r.name)));
    }
    if want("duplicates") {
        scenarios.push(duplicates::run(&cx, log).await?);
    }
    if want("gdpr_subject_export") || want("gdpr_erasure") {
        let results = gdpr::run(&cx, log).await?;
        scenarios.extend(results.into_iter().filter(|r| want(&r.name)));
    }
    if want("mixed") {
        scenarios.push(mixed::run(&cx, log).await?);
    }

    main.drop_db().await?;
    let _ = std::fs::remove_file(&file);
    Ok(BenchReport {
        size: size_label(opts.contacts),
        contacts: opts.contacts,
        scenarios,
    })
}
