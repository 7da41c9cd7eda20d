//! `create_contact`: the library's single contact create (validation, child rows, audit,
//! event), against a bare single-row INSERT in its own transaction.

use std::time::Instant;

use crm_core::error::{Error, Result};
use crm_core::store::contact::NewContact;
use serde_json::{Map, json};

use super::measure::{latencies, peak_rss_mb, reset_peak_rss, result};
use super::{Context, ScenarioResult};

/// Creates per side.
const OPERATIONS: u32 = 300;

/// Runs the scenario.
pub(super) async fn run(cx: &Context<'_>, log: &mut dyn FnMut(&str)) -> Result<ScenarioResult> {
    let n = OPERATIONS;
    let t = Instant::now();
    for i in 0..n {
        let mut tx = cx.scope.begin().await?;
        sqlx::query(
            "insert into contacts (org_id, id, first_name, last_name, email, email_norm, phone) \
             values ($1, $2, 'Bare', $3, $4, $4, '+493012345678')",
        )
        .bind(cx.scope.org())
        .bind(uuid::Uuid::now_v7())
        .bind(format!("Insert{i}"))
        .bind(format!("bare{i}@bench.test"))
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
    }
    let base = t.elapsed().as_secs_f64() / f64::from(n);
    reset_peak_rss();
    let mut each = Vec::with_capacity(n as usize);
    let t = Instant::now();
    for i in 0..n {
        let one = Instant::now();
        let new: NewContact = serde_json::from_value(json!({
            "first_name": "Lib",
            "last_name": format!("Create{i}"),
            "email": format!("lib{i}@bench.test"),
            "phone": "+49 30 12345678",
        }))
        .map_err(|e| Error::Io(e.to_string()))?;
        cx.scope
            .run(async |tx| crm_core::store::contact::create(tx, new).await)
            .await?;
        each.push(one.elapsed().as_secs_f64() * 1000.0);
    }
    let ours = t.elapsed().as_secs_f64() / f64::from(n);
    let mut extra = Map::new();
    extra.insert("operations".into(), json!(n));
    extra.insert(
        "ms_per_create".into(),
        json!((ours * 100_000.0).round() / 100.0),
    );
    latencies(&mut extra, "", &mut each);
    let scenario = result(
        "create_contact",
        ours,
        "bare single-row INSERT in its own transaction",
        base,
        peak_rss_mb(),
        extra,
    );
    log(&format!(
        "library create {:.2} ms vs bare insert {:.2} ms",
        ours * 1000.0,
        base * 1000.0
    ));
    Ok(scenario)
}
