//! `export_contacts`: our CSV export of the tenant's contacts, against a COPY of the same
//! columns to stdout under the same policy, as psql's `\copy` does.

use std::io::Write as _;
use std::time::Instant;

use crm_core::error::Result;
use crm_core::export::{ExportFilter, ExportFormat, ExportKind};
use futures_util::TryStreamExt as _;
use serde_json::{Map, json};

use super::measure::{peak_rss_mb, reset_peak_rss, result, secs};
use super::{Context, ScenarioResult};

/// The exported columns, as plain SQL.
const COLUMNS: &str = "c.id, c.first_name, c.last_name, c.email, c.phone, co.name, c.job_title, c.department, \
                       c.salutation, c.title, c.city, c.source, c.status, \
                       (select string_agg(t.name, '|' order by t.name) from contact_tags ct join tags t on t.org_id = ct.org_id and t.id = ct.tag_id where ct.org_id = c.org_id and ct.contact_id = c.id), \
                       c.created_at, c.updated_at";

/// Runs the scenario.
pub(super) async fn run(cx: &Context<'_>, log: &mut dyn FnMut(&str)) -> Result<ScenarioResult> {
    let out = cx.opts.workdir.join("export.csv");
    let base = {
        let mut tx = cx.scope.begin().await?;
        let sql = format!(
            "copy (select {COLUMNS} from contacts c left join companies co on co.org_id = c.org_id and co.id = c.company_id \
             where c.org_id = '{}' and c.deleted_at is null order by c.id) to stdout with (format csv, header)",
            cx.scope.org()
        );
        let t = Instant::now();
        let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
        let mut stream = tx.conn().copy_out_raw(&sql).await?;
        while let Some(chunk) = stream.try_next().await? {
            f.write_all(&chunk)?;
        }
        f.flush()?;
        drop(stream);
        let d = secs(t.elapsed());
        tx.commit().await?;
        d
    };
    reset_peak_rss();
    let t = Instant::now();
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    let n = cx
        .scope
        .run(async |tx| {
            crm_core::export::export(
                tx,
                ExportKind::Contacts,
                ExportFormat::Csv,
                &ExportFilter::default(),
                &mut f,
            )
            .await
        })
        .await?;
    let ours = secs(t.elapsed());
    let mut extra = Map::new();
    extra.insert("rows".into(), json!(n));
    let scenario = result(
        "export_contacts",
        ours,
        "COPY (select same columns) TO STDOUT, as psql \\copy",
        base,
        peak_rss_mb(),
        extra,
    );
    let _ = std::fs::remove_file(&out);
    log(&format!("export: {ours:.2}s vs COPY {base:.2}s"));
    Ok(scenario)
}
