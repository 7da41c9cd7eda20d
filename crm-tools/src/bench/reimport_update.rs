//! `reimport_update`: the same file imported again with `--on-duplicate update`, against
//! the first import of that file.

use std::time::Instant;

use crm_core::error::Result;
use crm_core::import::{ImportOptions, OnDuplicate};
use serde_json::{Map, json};

use super::measure::{peak_rss_mb, reset_peak_rss, result, secs};
use super::{Context, ScenarioResult};

/// Runs the scenario.
pub(super) async fn run(cx: &Context<'_>, log: &mut dyn FnMut(&str)) -> Result<ScenarioResult> {
    reset_peak_rss();
    let t = Instant::now();
    let input = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(cx.file)?);
    let opts = ImportOptions {
        on_duplicate: OnDuplicate::Update,
        ..ImportOptions::default()
    };
    let summary =
        crm_core::import::contacts::import_contacts(cx.scope, input, &opts, None, |_| {}).await?;
    let again = secs(t.elapsed());
    let mut extra = Map::new();
    extra.insert("updated".into(), json!(summary.updated));
    extra.insert("skipped".into(), json!(summary.skipped));
    let scenario = result(
        "reimport_update",
        again,
        "the first import of the same file",
        cx.first_import_seconds,
        peak_rss_mb(),
        extra,
    );
    log(&format!(
        "re-import with --on-duplicate update: {again:.2}s"
    ));
    Ok(scenario)
}
