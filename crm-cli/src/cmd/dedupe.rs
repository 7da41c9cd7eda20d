//! `crm contact|company duplicates | merge | unmerge | not-duplicate`: the duplicate workflow,
//! shared by both groups (crm-core's `dedupe` does the work).

use std::collections::BTreeMap;
use std::io::Write as _;

use anyhow::Result;
use clap::Args;
use crm_core::Tx;
use crm_core::dedupe::{self, DetectOptions, Group, Kind, MergeOutcome, MergeRequest, Reason};
use uuid::Uuid;

use crate::cli::Format;
use crate::confirm::{confirm, needs_terminal_or_yes};
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{print_json, short_id, write_table};
use crate::resolve::{resolve_company, resolve_contact};

/// Arguments of `duplicates`.
#[derive(Debug, Args)]
pub struct DuplicatesArgs {
    /// Only pairs scoring at least this (0 to 1; lower finds more, with more false alarms).
    #[arg(long, default_value_t = dedupe::DEFAULT_MIN_SCORE, value_name = "SCORE")]
    pub min_score: f64,
    /// Only pairs with this reason: email, phone, similar_name, same_name, initials,
    /// swapped_name, same_company, same_email_domain, vat_id, domain.
    #[arg(long, value_parser = parse_reason)]
    pub reason: Option<Reason>,
    /// At most this many groups, the best first.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

fn parse_reason(s: &str) -> std::result::Result<Reason, String> {
    s.parse()
}

/// Arguments of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The record that stays.
    #[arg(value_name = "KEEP")]
    pub keep: String,
    /// The records merged into KEEP (one or more); they become tombstones pointing at it.
    #[arg(value_name = "OTHER", required = true, num_args = 1..)]
    pub others: Vec<String>,
    /// Take this field's value from this record (repeatable), e.g. `--take job_title=1a2b`.
    /// Without it a field keeps KEEP's value, else the newest non-empty one; e-mails,
    /// phones, tags and owners are united. Contact fields: first_name, last_name, name,
    /// salutation, title, job_title, department, linkedin_url, birthday, source, status,
    /// company, address, home_address, external_id, email (the primary), phone (the
    /// primary), custom. Company fields: name, domain, website, industry, account_type,
    /// vat_id, tax_id, trade_register, size, status, billing_address, delivery_address,
    /// external_id, email, phone, custom.
    #[arg(long, value_name = "FIELD=ID")]
    pub take: Vec<String>,
    /// Show the resulting record and what would move; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Arguments of `unmerge`.
#[derive(Debug, Args)]
pub struct UnmergeArgs {
    /// The merge id `merge` printed (also in the audit log and the `*.merged` event).
    #[arg(value_name = "MERGE_ID")]
    pub merge_id: String,
    /// Do not ask.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Arguments of `not-duplicate`.
#[derive(Debug, Args)]
pub struct NotDuplicateArgs {
    /// One record.
    #[arg(value_name = "A")]
    pub a: String,
    /// The other.
    #[arg(value_name = "B")]
    pub b: String,
    /// Remove the mark instead: the pair may be proposed again.
    #[arg(long)]
    pub undo: bool,
}

async fn resolve(tx: &mut Tx, kind: Kind, reference: &str) -> Result<Uuid> {
    Ok(match kind {
        Kind::Contact => resolve_contact(tx, reference).await?.uuid(),
        Kind::Company => resolve_company(tx, reference).await?.uuid(),
    })
}

fn reasons(rs: &[Reason]) -> String {
    rs.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

/// `duplicates`: candidate groups with score and reasons.
pub async fn duplicates(kind: Kind, args: DuplicatesArgs, ctx: &Ctx) -> Result<u8> {
    if !(0.0..=1.0).contains(&args.min_score) {
        return Err(exit::usage("--min-score is between 0 and 1"));
    }
    let (_, _, scope) = ctx.scope().await?;
    let opts = DetectOptions {
        min_score: args.min_score,
        reason: args.reason,
        limit: args.limit,
    };
    let groups: Vec<Group> = dedupe::detect(&scope, kind, &opts).await?;
    let cells = |g: &Group| -> Vec<String> {
        let names: Vec<String> = g
            .members
            .iter()
            .map(|m| format!("{} ({})", m.name, short_id(m.id)))
            .collect();
        vec![
            format!("{:.2}", g.score),
            reasons(&g.reasons),
            names.join(" | "),
        ]
    };
    match ctx.format() {
        Format::Json => print_json(Format::Json, &groups)?,
        Format::Ndjson => {
            for g in &groups {
                print_json(Format::Ndjson, g)?;
            }
        }
        Format::Csv => {
            let stdout = std::io::stdout();
            let mut w = crate::output::csv_writer(stdout.lock())?;
            w.write_row(["score", "reasons", "ids"])?;
            for g in &groups {
                let ids: Vec<String> = g.ids.iter().map(Uuid::to_string).collect();
                w.write_row([
                    format!("{:.3}", g.score),
                    reasons(&g.reasons),
                    ids.join(" "),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let plural = match kind {
                Kind::Contact => "contacts",
                Kind::Company => "companies",
            };
            write_table(
                &mut out,
                &["score", "reasons", plural],
                groups.iter().map(cells),
            )?;
            out.flush()?;
            if groups.is_empty() {
                ctx.note(format!("no likely duplicates at score {}", args.min_score));
            } else {
                ctx.note(format!(
                    "merge a group with `crm {kind} merge KEEP OTHER... [--dry-run]`, or mark a \
                     pair with `crm {kind} not-duplicate A B`"
                ));
            }
        }
    }
    Ok(exit::OK)
}

/// `merge`: preview, confirm, merge at the previewed versions.
pub async fn merge(kind: Kind, args: MergeArgs, ctx: &Ctx) -> Result<u8> {
    if !args.dry_run {
        needs_terminal_or_yes(args.yes)?;
    }
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let mut ids = vec![resolve(&mut tx, kind, &args.keep).await?];
    for o in &args.others {
        let id = resolve(&mut tx, kind, o).await?;
        if ids.contains(&id) {
            return Err(exit::usage(format!("{o} names a {kind} already named")));
        }
        ids.push(id);
    }
    let mut take = BTreeMap::new();
    for t in &args.take {
        let Some((field, reference)) = t.split_once('=') else {
            return Err(exit::usage(format!(
                "--take {t}: write FIELD=ID, e.g. --take job_title={}",
                short_id(ids[1])
            )));
        };
        let field = field.trim();
        let known = dedupe::fields(kind);
        if !known.iter().any(|(name, _)| *name == field) {
            let names: Vec<&str> = known.iter().map(|(name, _)| *name).collect();
            return Err(exit::usage(format!(
                "--take {field}=...: unknown field; one of {}",
                names.join(", ")
            )));
        }
        let id = resolve(&mut tx, kind, reference.trim()).await?;
        take.insert(field.to_string(), id);
    }
    let mut request = MergeRequest {
        ids,
        take,
        dry_run: true,
        ..MergeRequest::default()
    };
    let preview = dedupe::merge(&mut tx, kind, &request).await?;
    tx.rollback().await?;
    if args.dry_run {
        print_outcome(ctx, &preview)?;
        return Ok(exit::OK);
    }
    let name = preview_name(&preview);
    if !confirm(
        args.yes,
        format!(
            "Merge {} other {kind}(s) into {name} ({})? {}",
            preview.merged_ids.len(),
            short_id(preview.survivor_id),
            moved_summary(&preview)
        ),
    )? {
        ctx.note("nothing merged");
        return Ok(exit::OK);
    }
    request.dry_run = false;
    request.versions = preview.versions.clone();
    let done = scope
        .run(async |tx| dedupe::merge(tx, kind, &request).await)
        .await?;
    print_outcome(ctx, &done)?;
    if ctx.format() == Format::Table
        && let Some(id) = done.merge_id
    {
        ctx.note(format!("undo with `crm {kind} unmerge {id}`"));
    }
    Ok(exit::OK)
}

fn preview_name(o: &MergeOutcome) -> String {
    match o.kind {
        Kind::Contact => {
            let f = o.record["first_name"].as_str().unwrap_or_default();
            let l = o.record["last_name"].as_str().unwrap_or_default();
            format!("{f} {l}").trim().to_string()
        }
        Kind::Company => o.record["name"].as_str().unwrap_or_default().to_string(),
    }
}

fn moved_summary(o: &MergeOutcome) -> String {
    let moved: Vec<String> = o
        .moved
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    if moved.is_empty() {
        "Nothing else moves.".into()
    } else {
        format!("Moves {}.", moved.join(", "))
    }
}

fn print_outcome(ctx: &Ctx, o: &MergeOutcome) -> Result<()> {
    match ctx.format() {
        Format::Table | Format::Csv => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let mut rows: Vec<Vec<String>> = vec![
                vec![
                    "merge_id".into(),
                    o.merge_id
                        .map_or_else(|| "(dry run: nothing changed)".into(), |m| m.to_string()),
                ],
                vec![
                    "survivor".into(),
                    format!("{} ({})", preview_name(o), o.survivor_id),
                ],
            ];
            for m in &o.merged_ids {
                rows.push(vec!["merged".into(), m.to_string()]);
            }
            for (field, id) in &o.taken {
                if *id != o.survivor_id {
                    rows.push(vec![format!("{field} from"), short_id(id)]);
                }
            }
            for (k, n) in &o.moved {
                if *n > 0 {
                    rows.push(vec![format!("moved {k}"), n.to_string()]);
                }
            }
            write_table(&mut out, &["", ""], rows)?;
            out.flush()?;
            Ok(())
        }
        f => print_json(f, o),
    }
}

/// `unmerge`: restore the records of a merge.
pub async fn unmerge(kind: Kind, args: UnmergeArgs, ctx: &Ctx) -> Result<u8> {
    let merge_id: Uuid = args
        .merge_id
        .trim()
        .parse()
        .map_err(|_| exit::usage("MERGE_ID is the full id `merge` printed"))?;
    needs_terminal_or_yes(args.yes)?;
    if !confirm(
        args.yes,
        format!("Undo merge {merge_id} and bring back the merged {kind}s?"),
    )? {
        ctx.note("nothing changed");
        return Ok(exit::OK);
    }
    let (_, _, scope) = ctx.scope().await?;
    let out = scope
        .run(async |tx| dedupe::unmerge(tx, kind, merge_id).await)
        .await?;
    match ctx.format() {
        Format::Table | Format::Csv => {
            let ids: Vec<String> = out.restored_ids.iter().map(Uuid::to_string).collect();
            ctx.note(format!(
                "restored {} and {}",
                out.survivor_id,
                ids.join(", ")
            ));
        }
        f => print_json(f, &out)?,
    }
    Ok(exit::OK)
}

/// `not-duplicate`: mark (or unmark) a pair.
pub async fn not_duplicate(kind: Kind, args: NotDuplicateArgs, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let a = resolve(&mut tx, kind, &args.a).await?;
    let b = resolve(&mut tx, kind, &args.b).await?;
    if a == b {
        return Err(exit::usage("A and B name the same record"));
    }
    let changed = if args.undo {
        dedupe::undismiss(&mut tx, kind, a, b).await?
    } else {
        dedupe::dismiss(&mut tx, kind, a, b).await?
    };
    tx.commit().await?;
    let msg = match (args.undo, changed) {
        (false, true) => "marked as not a duplicate: the pair is not proposed again",
        (false, false) => "already marked as not a duplicate",
        (true, true) => "mark removed: the pair may be proposed again",
        (true, false) => "the pair was not marked",
    };
    match ctx.format() {
        Format::Json | Format::Ndjson => print_json(
            ctx.format(),
            &serde_json::json!({ "ids": [a, b], "not_duplicate": !args.undo, "changed": changed }),
        )?,
        _ => ctx.note(msg),
    }
    Ok(exit::OK)
}
