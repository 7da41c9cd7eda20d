//! `mixed` (issue 19): concurrent sessions doing what users do, for a fixed time, through
//! the library: list a page of contacts, show a contact with its activities, search, update
//! a contact at the version read (read, then write in a second transaction, on a small set
//! of contacts every session works on, so that version conflicts happen), add an activity.
//! Reports the throughput and the p50/p95/p99 latency per operation. Version conflicts are
//! expected and counted; any other error fails the scenario.
//!
//! Sessions and time scale with `--size`: 4 sessions for 5 s below 100k contacts, 6 for
//! 10 s below 1m, 8 (the library's pool) for 20 s from 1m. The baseline: the same sessions
//! for a fifth of the time (at least a second), each doing one transaction with one
//! primary-key SELECT, the floor of any operation; its p95 beside our p95 over all
//! operations.

use std::time::{Duration, Instant};

use crm_core::error::{Error, Result};
use crm_core::store::activity::{ActivityFilter, NewActivity};
use crm_core::store::contact::{ContactFilter, ContactPatch};
use crm_core::store::{Cursor, PageRequest};
use crm_core::{ContactId, store};
use futures_util::future::join_all;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::measure::{latencies, ms, peak_rss_mb, reset_peak_rss, result};
use super::{Context, ScenarioResult};

/// The operations, with their share of the mix (out of 100).
const OPERATIONS: [(&str, u64); 5] = [
    ("list", 20),
    ("show", 30),
    ("search", 25),
    ("update", 15),
    ("activity_add", 10),
];

/// Contacts every session updates (where the version conflicts come from).
const HOT: usize = 8;

/// A small deterministic generator (splitmix64): the same run, the same choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// What one session saw.
#[derive(Default)]
struct Stats {
    /// Latencies in ms, per operation (index into [`OPERATIONS`]).
    ms: [Vec<f64>; 5],
    conflicts: u64,
    failures: u64,
    first_failure: Option<String>,
}

/// What the sessions work on.
struct Shared<'a> {
    cx: &'a Context<'a>,
    /// Live contacts spread over the tenant.
    ids: Vec<Uuid>,
    /// Search queries.
    queries: Vec<String>,
}

/// Runs one operation.
async fn operation(sh: &Shared<'_>, op: usize, rng: &mut Rng, n: u64) -> Result<()> {
    let scope = sh.cx.scope;
    match OPERATIONS[op].0 {
        "list" => {
            let after = Some(Cursor(*rng.pick(&sh.ids)));
            scope
                .run(async |tx| {
                    store::contact::list(
                        tx,
                        &ContactFilter::default(),
                        PageRequest { limit: 50, after },
                    )
                    .await
                    .map(drop)
                })
                .await
        }
        "show" => {
            let id = ContactId(*rng.pick(&sh.ids));
            scope
                .run(async |tx| {
                    store::contact::get(tx, id).await?;
                    let filter = ActivityFilter {
                        contact_id: Some(id),
                        ..ActivityFilter::default()
                    };
                    store::activity::list(tx, &filter, PageRequest::default())
                        .await
                        .map(drop)
                })
                .await
        }
        "search" => {
            let q = rng.pick(&sh.queries);
            scope
                .run(async |tx| crm_core::search::search(tx, q, 20).await.map(drop))
                .await
        }
        "update" => {
            let id = ContactId(*rng.pick(&sh.ids[..HOT.min(sh.ids.len())]));
            let version = scope
                .run(async |tx| Ok(store::contact::get(tx, id).await?.version))
                .await?;
            let patch = ContactPatch {
                version,
                job_title: Some(Some(format!("Bereich {}", n % 100))),
                ..ContactPatch::default()
            };
            scope
                .run(async |tx| store::contact::update(tx, id, patch).await.map(drop))
                .await
        }
        _ => {
            let new = NewActivity {
                subject: format!("Anruf {n}"),
                contact_id: Some(ContactId(*rng.pick(&sh.ids))),
                ..NewActivity::default()
            };
            scope
                .run(async |tx| store::activity::create(tx, new).await.map(drop))
                .await
        }
    }
}

/// One session: operations drawn from the mix until `until`.
async fn session(sh: &Shared<'_>, seed: u64, until: Instant) -> Stats {
    let mut rng = Rng(seed);
    let mut stats = Stats::default();
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        let mut roll = rng.next() % 100;
        let op = OPERATIONS
            .iter()
            .position(|(_, share)| {
                if roll < *share {
                    true
                } else {
                    roll -= share;
                    false
                }
            })
            .unwrap_or(0);
        let t = Instant::now();
        let outcome = operation(sh, op, &mut rng, seed.wrapping_add(n)).await;
        stats.ms[op].push(t.elapsed().as_secs_f64() * 1000.0);
        match outcome {
            Ok(()) => {}
            Err(Error::Conflict(_)) if OPERATIONS[op].0 == "update" => stats.conflicts += 1,
            Err(e) => {
                stats.failures += 1;
                stats
                    .first_failure
                    .get_or_insert_with(|| format!("{}: {e}", OPERATIONS[op].0));
            }
        }
    }
    stats
}

/// The baseline session: one primary-key SELECT per transaction until `until`.
async fn floor_session(sh: &Shared<'_>, seed: u64, until: Instant) -> Result<Vec<f64>> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    while Instant::now() < until {
        let id = *rng.pick(&sh.ids);
        let t = Instant::now();
        sh.cx
            .scope
            .run(async |tx| {
                sqlx::query("select id from contacts where org_id = $1 and id = $2")
                    .bind(tx.org())
                    .bind(id)
                    .fetch_optional(tx.conn())
                    .await?;
                Ok(())
            })
            .await?;
        out.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(out)
}

/// Sessions and seconds for a data set of `contacts`.
fn shape(contacts: u64) -> (u64, u64) {
    match contacts {
        0..100_000 => (4, 5),
        100_000..1_000_000 => (6, 10),
        _ => (8, 20),
    }
}

/// Runs the scenario.
pub(super) async fn run(cx: &Context<'_>, log: &mut dyn FnMut(&str)) -> Result<ScenarioResult> {
    let (sessions, seconds) = shape(cx.opts.contacts);
    let step = i64::try_from((cx.opts.contacts / 2_000).max(1)).unwrap_or(i64::MAX);
    let ids: Vec<Uuid> = cx
        .scope
        .run(async |tx| {
            Ok(sqlx::query_scalar(
                "select id from (select id, row_number() over (order by id) as rn \
                                 from contacts where org_id = $1 and deleted_at is null) s \
                 where rn % $2 = 0 order by id limit 2000",
            )
            .bind(tx.org())
            .bind(step)
            .fetch_all(tx.conn())
            .await?)
        })
        .await?;
    if ids.is_empty() {
        return Err(Error::Io("mixed: the tenant has no contacts".into()));
    }
    let sh = Shared {
        cx,
        ids,
        queries: super::search::queries(cx),
    };

    // The baseline first: the floor of a transaction under the same concurrency.
    let floor_for = Duration::from_secs_f64((seconds as f64 / 5.0).max(1.0));
    let until = Instant::now() + floor_for;
    let mut base = Vec::new();
    for r in join_all((0..sessions).map(|s| floor_session(&sh, 1_000 + s, until))).await {
        base.extend(r?);
    }

    reset_peak_rss();
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let all = join_all((0..sessions).map(|s| session(&sh, cx.opts.seed ^ (s << 32), until))).await;
    let elapsed = started.elapsed().as_secs_f64();
    let rss = peak_rss_mb();

    let mut per_op: [Vec<f64>; 5] = Default::default();
    let (mut conflicts, mut failures, mut first_failure) = (0, 0, None);
    for s in all {
        for (acc, v) in per_op.iter_mut().zip(s.ms) {
            acc.extend(v);
        }
        conflicts += s.conflicts;
        failures += s.failures;
        first_failure = first_failure.or(s.first_failure);
    }
    if failures > 0 {
        return Err(Error::Io(format!(
            "mixed: {failures} operations failed with an error other than a version conflict; \
             the first: {}",
            first_failure.unwrap_or_default()
        )));
    }

    let mut extra = Map::new();
    let mut operations = Map::new();
    let mut every: Vec<f64> = Vec::new();
    for ((name, _), mut v) in OPERATIONS.iter().zip(per_op) {
        every.extend(&v);
        let mut o = Map::new();
        o.insert("count".into(), json!(v.len()));
        o.insert("ops_per_s".into(), ms(v.len() as f64 / elapsed));
        latencies(&mut o, "", &mut v);
        operations.insert((*name).into(), Value::Object(o));
    }
    let total = every.len();
    let (p50, p95, _) = latencies(&mut extra, "", &mut every);
    let (_, b95, _) = latencies(&mut extra, "baseline_", &mut base);
    extra.insert("sessions".into(), json!(sessions));
    extra.insert("duration_s".into(), ms(elapsed));
    extra.insert("operations_total".into(), json!(total));
    extra.insert("ops_per_s".into(), ms(total as f64 / elapsed));
    extra.insert("version_conflicts".into(), json!(conflicts));
    extra.insert("failures".into(), json!(0));
    extra.insert("operations".into(), Value::Object(operations));
    log(&format!(
        "mixed: {sessions} sessions, {total} operations in {elapsed:.1}s ({:.0}/s), \
         p50 {p50:.1} ms, p95 {p95:.1} ms, {conflicts} version conflicts; \
         bare transaction p95 {b95:.1} ms",
        total as f64 / elapsed
    ));
    Ok(result(
        "mixed",
        p95 / 1000.0,
        "one primary-key SELECT per transaction, same sessions, p95",
        b95 / 1000.0,
        rss,
        extra,
    ))
}
