//! `search`: our search over last names of generated contacts (every other query with a
//! typo), p95 against the same trigram match under row-level security, where the operators
//! are not leakproof and the index cannot be used.

use std::time::Instant;

use crm_core::error::Result;
use serde_json::{Map, json};

use super::measure::{peak_rss_mb, percentile, reset_peak_rss, result};
use super::{Context, ScenarioResult};

/// Up to 200 queries spread over the data set; every other one doubles a letter.
pub(super) fn queries(cx: &Context<'_>) -> Vec<String> {
    let n_queries = 200u64.min(cx.opts.contacts.max(1));
    let step = (cx.opts.contacts / n_queries).max(1);
    (0..n_queries)
        .map(|i| {
            let c = cx.generator.contact(i * step);
            if i % 2 == 0 {
                c.last_name.clone()
            } else {
                // Doubles the second character (at a character boundary: names start
                // with Ö, Ç, ...).
                let mut s = String::with_capacity(c.last_name.len() + 4);
                for (n, ch) in c.last_name.chars().enumerate() {
                    s.push(ch);
                    if n == 1 {
                        s.push(ch);
                    }
                }
                s
            }
        })
        .collect()
}

/// Rounds milliseconds to two decimals.
fn ms(v: f64) -> serde_json::Value {
    json!((v * 100.0).round() / 100.0)
}

/// Runs the scenario.
pub(super) async fn run(cx: &Context<'_>, log: &mut dyn FnMut(&str)) -> Result<ScenarioResult> {
    let queries = queries(cx);
    reset_peak_rss();
    let mut ours = Vec::new();
    // Quality: the best hit bears the surname the query was made from (typo or not).
    let mut on_target = 0usize;
    let step = (cx.opts.contacts / queries.len().max(1) as u64).max(1);
    for (i, q) in queries.iter().enumerate() {
        let t = Instant::now();
        let hits = cx
            .scope
            .run(async |tx| crm_core::search::search(tx, q, 20).await)
            .await?;
        ours.push(t.elapsed().as_secs_f64() * 1000.0);
        let surname = cx
            .generator
            .contact(i as u64 * step)
            .last_name
            .to_lowercase();
        if hits
            .first()
            .is_some_and(|h| h.name.to_lowercase().contains(&surname))
        {
            on_target += 1;
        }
    }
    let first_ms = ours.first().copied().unwrap_or_default();
    let rss = peak_rss_mb();
    let mut base = Vec::new();
    for q in queries.iter().take(20) {
        let t = Instant::now();
        cx.scope
            .run(async |tx| {
                sqlx::query(
                    "select id from contacts where org_id = $1 and deleted_at is null \
                     and crm_fold($2) <% search_text \
                     order by word_similarity(crm_fold($2), search_text) desc limit 20",
                )
                .bind(tx.org())
                .bind(q)
                .fetch_all(tx.conn())
                .await?;
                Ok(())
            })
            .await?;
        base.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ours.sort_by(f64::total_cmp);
    base.sort_by(f64::total_cmp);
    let (p50, p95) = (percentile(&ours, 0.5), percentile(&ours, 0.95));
    let (b50, b95) = (percentile(&base, 0.5), percentile(&base, 0.95));
    let mut extra = Map::new();
    extra.insert("p50_ms".into(), ms(p50));
    extra.insert("p95_ms".into(), ms(p95));
    extra.insert("p99_ms".into(), ms(percentile(&ours, 0.99)));
    extra.insert("baseline_p50_ms".into(), ms(b50));
    extra.insert("baseline_p95_ms".into(), ms(b95));
    extra.insert("baseline_p99_ms".into(), ms(percentile(&base, 0.99)));
    extra.insert("queries".into(), json!(queries.len()));
    extra.insert("first_query_ms".into(), ms(first_ms));
    extra.insert(
        "top_hit_on_target".into(),
        json!(((on_target as f64 / queries.len().max(1) as f64) * 1000.0).round() / 1000.0),
    );
    let scenario = result(
        "search",
        p95 / 1000.0,
        "the same trigram match under row-level security (index unusable), p95",
        b95 / 1000.0,
        rss,
        extra,
    );
    log(&format!(
        "search p50 {p50:.1} ms, p95 {p95:.1} ms (first {first_ms:.1} ms, best hit on target in \
         {on_target} of {}); without index p95 {b95:.1} ms",
        queries.len()
    ));
    Ok(scenario)
}
