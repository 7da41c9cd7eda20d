//! Benchmarks with a baseline measured in the same run: every scenario runs against a fresh
//! database and reports its time as a ratio to a plain-SQL baseline doing the same job, so
//! the figures hold on a shared, noisy machine. Nothing here asserts a time.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, Executor as _, PgConnection};

use crate::db::Crm;
use crate::error::{Error, Result};
use crate::export::{ExportFilter, ExportFormat, ExportKind};
use crate::generate::{CsvHeader, Generator, write_contacts_csv};
use crate::import::{ImportOptions, OnDuplicate};
use crate::org::NewOrganization;
use crate::tenancy::Scope;

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
    "duplicates",
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

/// Peak resident memory since the last reset, in MiB (Linux; 0 elsewhere).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets the peak-memory counter (Linux `clear_refs` 5).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A fresh, migrated database on the server of `admin`, dropped by [`Fresh::drop_db`].
struct Fresh {
    admin: PgConnectOptions,
    name: String,
    crm: Crm,
}

impl Fresh {
    async fn new(admin: &PgConnectOptions, tag: &str) -> Result<Self> {
        let name = format!("crm_bench_{}_{tag}", std::process::id());
        let mut conn = PgConnection::connect_with(admin).await?;
        conn.execute(sqlx::AssertSqlSafe(format!(
            "drop database if exists {name}"
        )))
        .await?;
        conn.execute(sqlx::AssertSqlSafe(format!("create database {name}")))
            .await?;
        conn.close().await.ok();
        let crm = Crm::connect_with(admin.clone().database(&name)).await?;
        crm.migrate().await?;
        Ok(Self {
            admin: admin.clone(),
            name,
            crm,
        })
    }

    async fn org(&self) -> Result<Scope> {
        let created = self
            .crm
            .create_organization(NewOrganization {
                name: "Bench GmbH".into(),
                slug: Some("bench".into()),
                owner_email: "bench@bench.test".into(),
                owner_first_name: "Bea".into(),
                owner_last_name: "Bench".into(),
                owner_password_hash: None,
            })
            .await?;
        Ok(self.crm.scope(created.organization.id, created.owner_id))
    }

    async fn drop_db(self) -> Result<()> {
        self.crm.close().await;
        let mut conn = PgConnection::connect_with(&self.admin).await?;
        conn.execute(sqlx::AssertSqlSafe(format!(
            "drop database if exists {} with (force)",
            self.name
        )))
        .await?;
        conn.close().await.ok();
        Ok(())
    }
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

fn result(
    name: &str,
    ours: f64,
    baseline: &str,
    base: f64,
    rss: f64,
    extra: Map<String, Value>,
) -> ScenarioResult {
    ScenarioResult {
        name: name.into(),
        seconds: ours,
        baseline: baseline.into(),
        baseline_seconds: base,
        ratio: if base > 0.0 {
            (ours / base * 100.0).round() / 100.0
        } else {
            0.0
        },
        peak_rss_mb: (rss * 10.0).round() / 10.0,
        extra,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Runs the benchmark. `admin` connects to a maintenance database (e.g. `postgres`) of the
/// server as a user that may create databases; `log` receives progress lines.
pub async fn run(
    admin: &PgConnectOptions,
    opts: &BenchOptions,
    mut log: impl FnMut(&str),
) -> Result<BenchReport> {
    let want = |s: &str| opts.only.is_empty() || opts.only.iter().any(|o| o == s);
    let mut scenarios = Vec::new();
    std::fs::create_dir_all(&opts.workdir)?;
    let file = opts.workdir.join(format!(
        "contacts-{}-{}.csv",
        size_label(opts.contacts),
        opts.seed
    ));
    let generator = Generator::new(opts.seed, opts.contacts);
    let t = Instant::now();
    {
        let f = std::fs::File::create(&file)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        write_contacts_csv(&generator, &mut w, CsvHeader::English)?;
        w.flush()?;
    }
    let file_mb = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) as f64 / 1_048_576.0;
    log(&format!(
        "generated {} contacts ({file_mb:.1} MiB) in {:.1}s",
        opts.contacts,
        t.elapsed().as_secs_f64()
    ));

    // The tenant every later scenario reads: imported by our path.
    let main = Fresh::new(admin, "main").await?;
    let scope = main.org().await?;

    // import_contacts: ours vs the hand-written staging path vs raw COPY.
    let baselines = want("import_contacts");
    let raw_copy = if !baselines {
        0.0
    } else {
        let db = Fresh::new(admin, "raw").await?;
        let mut conn = db.crm.owner_connection().await?;
        conn.execute(
            "create table raw_copy (first_name text, last_name text, email text, phone text, \
             company text, job_title text, city text, tags text)",
        )
        .await?;
        let bytes = std::fs::read(&file)?;
        let t = Instant::now();
        let mut copy = conn
            .copy_in_raw("copy raw_copy from stdin with (format csv, header)")
            .await?;
        for chunk in bytes.chunks(1 << 20) {
            copy.send(chunk).await?;
        }
        copy.finish().await?;
        let d = secs(t.elapsed());
        drop(conn);
        db.drop_db().await?;
        d
    };
    log(&format!("raw COPY: {raw_copy:.2}s"));
    let hand = if !baselines {
        0.0
    } else {
        let db = Fresh::new(admin, "hand").await?;
        let s = db.org().await?;
        let bytes = std::fs::read(&file)?;
        let t = Instant::now();
        let mut tx = s.begin().await?;
        tx.conn()
            .execute(
                "create temp table stage (first_name text, last_name text, email text, phone text, \
                 company text, job_title text, city text, tags text) on commit drop",
            )
            .await?;
        let mut copy = tx
            .conn()
            .copy_in_raw("copy stage from stdin with (format csv, header)")
            .await?;
        for chunk in bytes.chunks(1 << 20) {
            copy.send(chunk).await?;
        }
        copy.finish().await?;
        sqlx::query(
            "insert into contacts (org_id, id, first_name, last_name, email, email_norm, phone, \
                                   job_title, city, source) \
             select $1, gen_random_uuid(), coalesce(first_name, ''), coalesce(last_name, ''), email, \
                    lower(email), phone, job_title, city, 'import' \
             from stage on conflict do nothing",
        )
        .bind(s.org())
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        let d = secs(t.elapsed());
        db.drop_db().await?;
        d
    };
    log(&format!(
        "hand-written staging + INSERT ... SELECT: {hand:.2}s"
    ));
    // The same rows our import writes (companies linked or created, contacts with their
    // e-mail and phone rows, owner and tags), by hand-written set-based SQL in one
    // transaction: what our parsing, validation, dedup, batching and audit add on top.
    let hand_full = if !baselines {
        0.0
    } else {
        let db = Fresh::new(admin, "handfull").await?;
        let s = db.org().await?;
        let bytes = std::fs::read(&file)?;
        let t = Instant::now();
        let mut tx = s.begin().await?;
        tx.conn()
            .execute(
                "create temp table stage (first_name text, last_name text, email text, phone text, \
                 company text, job_title text, city text, tags text) on commit drop",
            )
            .await?;
        let mut copy = tx
            .conn()
            .copy_in_raw("copy stage from stdin with (format csv, header)")
            .await?;
        for chunk in bytes.chunks(1 << 20) {
            copy.send(chunk).await?;
        }
        copy.finish().await?;
        for sql in [
            "alter table stage add column id uuid default gen_random_uuid(), add column company_id uuid",
            "analyze stage",
            "insert into companies (org_id, id, name) \
             select distinct on (crm_fold(btrim(company))) nullif(current_setting('crm.org_id'), '')::uuid, \
                    gen_random_uuid(), company from stage where company is not null",
            "update stage s set company_id = c.id from companies c \
             where c.org_id = nullif(current_setting('crm.org_id'), '')::uuid and c.name_norm = crm_fold(btrim(s.company))",
            "insert into tags (org_id, id, name, name_norm) \
             select distinct on (crm_fold(btrim(t))) nullif(current_setting('crm.org_id'), '')::uuid, gen_random_uuid(), \
                    btrim(t), crm_fold(btrim(t)) \
             from stage, unnest(string_to_array(tags, '|')) t where tags <> '' on conflict do nothing",
            "with ins as ( \
                insert into contacts (org_id, id, company_id, first_name, last_name, email, email_norm, \
                                      phone, job_title, city, source) \
                select nullif(current_setting('crm.org_id'), '')::uuid, id, company_id, \
                       coalesce(first_name, ''), coalesce(last_name, ''), email, lower(email), phone, \
                       job_title, city, 'import' from stage on conflict do nothing returning id), \
             em as (insert into contact_emails (org_id, id, contact_id, email, email_norm, kind, is_primary) \
                select nullif(current_setting('crm.org_id'), '')::uuid, gen_random_uuid(), s.id, s.email, \
                       lower(s.email), 'work', true from stage s join ins using (id) where s.email is not null), \
             ph as (insert into contact_phones (org_id, id, contact_id, number_e164, number_raw, kind, is_primary) \
                select nullif(current_setting('crm.org_id'), '')::uuid, gen_random_uuid(), s.id, s.phone, \
                       s.phone, 'mobile', true from stage s join ins using (id) where s.phone is not null), \
             ow as (insert into contact_owners (org_id, contact_id, user_id, role) \
                select nullif(current_setting('crm.org_id'), '')::uuid, id, \
                       nullif(current_setting('crm.actor_id'), '')::uuid, 'owner' from ins) \
             insert into contact_tags (org_id, contact_id, tag_id) \
             select distinct nullif(current_setting('crm.org_id'), '')::uuid, s.id, t.id \
             from stage s join ins using (id), unnest(string_to_array(s.tags, '|')) tn \
             join tags t on t.org_id = nullif(current_setting('crm.org_id'), '')::uuid \
                        and t.name_norm = crm_fold(btrim(tn)) \
             where s.tags <> ''",
        ] {
            tx.conn().execute(sqlx::AssertSqlSafe(sql)).await?;
        }
        tx.commit().await?;
        let d = secs(t.elapsed());
        db.drop_db().await?;
        d
    };
    log(&format!(
        "hand-written, the same rows as our import: {hand_full:.2}s"
    ));
    reset_peak_rss();
    let t = Instant::now();
    let input = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&file)?);
    let summary = crate::import::contacts::import_contacts(
        &scope,
        input,
        &ImportOptions::default(),
        None,
        |_| {},
    )
    .await?;
    let ours = secs(t.elapsed());
    let rss = peak_rss_mb();
    log(&format!(
        "our import: {ours:.2}s ({} created, {} failed)",
        summary.created, summary.failed
    ));
    if want("import_contacts") {
        let mut extra = Map::new();
        extra.insert("raw_copy_seconds".into(), json!(raw_copy));
        extra.insert("same_rows_baseline_seconds".into(), json!(hand_full));
        extra.insert(
            "ratio_to_same_rows".into(),
            json!(if hand_full > 0.0 {
                (ours / hand_full * 100.0).round() / 100.0
            } else {
                0.0
            }),
        );
        extra.insert(
            "ratio_to_raw_copy".into(),
            json!(if raw_copy > 0.0 {
                (ours / raw_copy * 100.0).round() / 100.0
            } else {
                0.0
            }),
        );
        extra.insert("rows".into(), json!(summary.rows));
        extra.insert("created".into(), json!(summary.created));
        extra.insert(
            "rows_per_second".into(),
            json!((summary.rows as f64 / ours.max(0.001)).round()),
        );
        scenarios.push(result(
            "import_contacts",
            ours,
            "hand-written COPY to staging + INSERT ... SELECT into contacts (same schema)",
            hand,
            rss,
            extra,
        ));
    }

    if want("reimport_update") {
        reset_peak_rss();
        let t = Instant::now();
        let input = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&file)?);
        let opts2 = ImportOptions {
            on_duplicate: OnDuplicate::Update,
            ..ImportOptions::default()
        };
        let s2 =
            crate::import::contacts::import_contacts(&scope, input, &opts2, None, |_| {}).await?;
        let again = secs(t.elapsed());
        let mut extra = Map::new();
        extra.insert("updated".into(), json!(s2.updated));
        extra.insert("skipped".into(), json!(s2.skipped));
        scenarios.push(result(
            "reimport_update",
            again,
            "the first import of the same file",
            ours,
            peak_rss_mb(),
            extra,
        ));
        log(&format!(
            "re-import with --on-duplicate update: {again:.2}s"
        ));
    }

    if want("export_contacts") {
        let out = opts.workdir.join("export.csv");
        // Baseline: COPY of the same columns, as psql's \copy does, under the same policy.
        let cols = "c.id, c.first_name, c.last_name, c.email, c.phone, co.name, c.job_title, c.department, \
                    c.salutation, c.title, c.city, c.source, c.status, \
                    (select string_agg(t.name, '|' order by t.name) from contact_tags ct join tags t on t.org_id = ct.org_id and t.id = ct.tag_id where ct.org_id = c.org_id and ct.contact_id = c.id), \
                    c.created_at, c.updated_at";
        let base = {
            let mut tx = scope.begin().await?;
            let sql = format!(
                "copy (select {cols} from contacts c left join companies co on co.org_id = c.org_id and co.id = c.company_id \
                 where c.org_id = '{}' and c.deleted_at is null order by c.id) to stdout with (format csv, header)",
                scope.org()
            );
            let t = Instant::now();
            let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
            let mut stream = tx.conn().copy_out_raw(&sql).await?;
            use futures_util::TryStreamExt as _;
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
        let n = scope
            .run(async |tx| {
                crate::export::export(
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
        scenarios.push(result(
            "export_contacts",
            ours,
            "COPY (select same columns) TO STDOUT, as psql \\copy",
            base,
            peak_rss_mb(),
            extra,
        ));
        let _ = std::fs::remove_file(&out);
        log(&format!("export: {ours:.2}s vs COPY {base:.2}s"));
    }

    if want("search") {
        let n_queries = 200u64.min(opts.contacts.max(1));
        let step = (opts.contacts / n_queries).max(1);
        let queries: Vec<String> = (0..n_queries)
            .map(|i| {
                let c = generator.contact(i * step);
                // Every other query carries a typo (a doubled letter).
                if i % 2 == 0 {
                    c.last_name.clone()
                } else {
                    // Doubles the second character (at a character boundary: names
                    // start with Ö, Ç, ...).
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
            .collect();
        reset_peak_rss();
        let mut ours = Vec::new();
        for q in &queries {
            let t = Instant::now();
            scope
                .run(async |tx| crate::search::search(tx, q, 20).await)
                .await?;
            ours.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let rss = peak_rss_mb();
        // Baseline: the same match under row-level security, where the trigram operators
        // are not leakproof and the index cannot be used.
        let mut base = Vec::new();
        for q in queries.iter().take(20) {
            let t = Instant::now();
            scope
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
        extra.insert("p50_ms".into(), json!((p50 * 100.0).round() / 100.0));
        extra.insert("p95_ms".into(), json!((p95 * 100.0).round() / 100.0));
        extra.insert(
            "baseline_p50_ms".into(),
            json!((b50 * 100.0).round() / 100.0),
        );
        extra.insert(
            "baseline_p95_ms".into(),
            json!((b95 * 100.0).round() / 100.0),
        );
        extra.insert("queries".into(), json!(queries.len()));
        scenarios.push(result(
            "search",
            p95 / 1000.0,
            "the same trigram match under row-level security (index unusable), p95",
            b95 / 1000.0,
            rss,
            extra,
        ));
        log(&format!(
            "search p50 {p50:.1} ms, p95 {p95:.1} ms; without index p95 {b95:.1} ms"
        ));
    }

    if want("create_contact") {
        let n = 300;
        // Baseline: one bare single-row INSERT per transaction, tenant set.
        let t = Instant::now();
        for i in 0..n {
            let mut tx = scope.begin().await?;
            sqlx::query(
                "insert into contacts (org_id, id, first_name, last_name, email, email_norm, phone) \
                 values ($1, $2, 'Bare', $3, $4, $4, '+493012345678')",
            )
            .bind(scope.org())
            .bind(uuid::Uuid::now_v7())
            .bind(format!("Insert{i}"))
            .bind(format!("bare{i}@bench.test"))
            .execute(tx.conn())
            .await?;
            tx.commit().await?;
        }
        let base = t.elapsed().as_secs_f64() / f64::from(n);
        reset_peak_rss();
        let t = Instant::now();
        for i in 0..n {
            let new: crate::store::contact::NewContact = serde_json::from_value(json!({
                "first_name": "Lib",
                "last_name": format!("Create{i}"),
                "email": format!("lib{i}@bench.test"),
                "phone": "+49 30 12345678",
            }))
            .map_err(|e| Error::Io(e.to_string()))?;
            scope
                .run(async |tx| crate::store::contact::create(tx, new).await)
                .await?;
        }
        let ours = t.elapsed().as_secs_f64() / f64::from(n);
        let mut extra = Map::new();
        extra.insert("operations".into(), json!(n));
        extra.insert(
            "ms_per_create".into(),
            json!((ours * 100_000.0).round() / 100.0),
        );
        scenarios.push(result(
            "create_contact",
            ours,
            "bare single-row INSERT in its own transaction",
            base,
            peak_rss_mb(),
            extra,
        ));
        log(&format!(
            "library create {:.2} ms vs bare insert {:.2} ms",
            ours * 1000.0,
            base * 1000.0
        ));
    }

    if want("board") {
        // Deals: one per four contacts, spread over the default pipeline's stages.
        scope
            .run(async |tx| {
                sqlx::query(
                    "insert into deals (org_id, id, title, value, currency, pipeline_id, stage_id, contact_id, company_id) \
                     select c.org_id, gen_random_uuid(), 'Deal ' || c.last_name, (abs(hashtext(c.id::text)) % 500000) / 100.0, \
                            'EUR', s.pipeline_id, s.id, c.id, c.company_id \
                     from (select c.*, row_number() over (order by c.id) as rn from contacts c where c.org_id = $1) c \
                     join lateral (select st.* from stages st join pipelines p on p.org_id = st.org_id and p.id = st.pipeline_id \
                                   where st.org_id = $1 and p.is_default order by st.position offset (c.rn % 5) limit 1) s on true \
                     where c.rn % 4 = 0",
                )
                .bind(tx.org())
                .execute(tx.conn())
                .await?;
                Ok(())
            })
            .await?;
        let t = Instant::now();
        scope
            .run(async |tx| {
                sqlx::query("select stage_id, count(*), sum(value) from deals where org_id = $1 and status = 'open' and deleted_at is null group by stage_id")
                    .bind(tx.org())
                    .fetch_all(tx.conn())
                    .await?;
                Ok(())
            })
            .await?;
        let base = secs(t.elapsed());
        reset_peak_rss();
        let t = Instant::now();
        scope
            .run(async |tx| {
                crate::report::pipeline_summary(tx, None).await?;
                crate::report::forecast(tx, None, 6).await?;
                Ok(())
            })
            .await?;
        let ours = secs(t.elapsed());
        scenarios.push(result(
            "board",
            ours,
            "one GROUP BY over open deals",
            base,
            peak_rss_mb(),
            Map::new(),
        ));
        log(&format!("pipeline summary + forecast: {ours:.3}s"));
    }

    if want("duplicates") {
        let t = Instant::now();
        scope
            .run(async |tx| {
                sqlx::query("select email_norm from contact_emails where org_id = $1 group by email_norm having count(*) > 1 limit 100")
                    .bind(tx.org())
                    .fetch_all(tx.conn())
                    .await?;
                Ok(())
            })
            .await?;
        let base = secs(t.elapsed());
        reset_peak_rss();
        let t = Instant::now();
        let groups = scope
            .run(async |tx| crate::store::contact::duplicates(tx, 100).await)
            .await?;
        let ours = secs(t.elapsed());
        let mut extra = Map::new();
        extra.insert("groups".into(), json!(groups.len()));
        scenarios.push(result(
            "duplicates",
            ours,
            "GROUP BY e-mail HAVING count > 1",
            base,
            peak_rss_mb(),
            extra,
        ));
    }

    main.drop_db().await?;
    let _ = std::fs::remove_file(&file);
    Ok(BenchReport {
        size: size_label(opts.contacts),
        contacts: opts.contacts,
        scenarios,
    })
}
