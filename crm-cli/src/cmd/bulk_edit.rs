//! `crm contact|company|deal bulk-edit`: the edit flags shared by the three, reading ids
//! from stdin, and printing crm-core's bulk summary.

use std::io::Read as _;

use anyhow::Result;
use clap::Args;
use crm_core::Tx;
use crm_core::bulk::{self, BulkEdit, BulkKind, BulkSummary};
use uuid::Uuid;

use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;

/// What to change, and how.
#[derive(Debug, Args)]
#[command(next_help_heading = "Edit")]
pub struct EditArgs {
    /// Take the records from stdin instead of the filters: one per line (an id, at least 4
    /// digits of it, or what `show` takes; the first comma- or tab-separated cell counts, so
    /// `crm contact list --format csv` can be piped in; a header line `id` is skipped).
    #[arg(long)]
    pub stdin: bool,
    /// Add this tag (repeatable).
    #[arg(long = "add-tag", value_name = "TAG")]
    pub add_tags: Vec<String>,
    /// Remove this tag (repeatable; case does not matter).
    #[arg(long = "remove-tag", value_name = "TAG")]
    pub remove_tags: Vec<String>,
    /// Set a field (repeatable): `--set status=inactive`, `--set job_title=` clears it. The
    /// names are the JSON keys of `show --format json`.
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// Show what would change (the same checks as a real run), write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Records per transaction.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
}

impl EditArgs {
    /// The edit for `kind`, checked before anything is read (exit 5 names the field).
    pub fn edit(&self, kind: BulkKind) -> Result<BulkEdit> {
        let mut edit = BulkEdit {
            add_tags: self.add_tags.clone(),
            remove_tags: self.remove_tags.clone(),
            ..BulkEdit::default()
        };
        for pair in &self.set {
            let Some((field, value)) = pair.split_once('=') else {
                return Err(exit::usage(
                    "--set takes FIELD=VALUE (an empty VALUE clears it)",
                ));
            };
            edit.set(kind, field, value)?;
        }
        bulk::check(kind, &edit)?;
        Ok(edit)
    }
}

/// The references on stdin, one per line, with their line numbers.
pub fn stdin_references() -> Result<Vec<(usize, String)>> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    Ok(text
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let cell = line
                .split([',', '\t', ';'])
                .next()
                .unwrap_or_default()
                .trim()
                .trim_matches('"')
                .trim();
            (!cell.is_empty() && !cell.starts_with('#') && !cell.eq_ignore_ascii_case("id"))
                .then(|| (i + 1, cell.to_string()))
        })
        .collect())
}

/// Resolves every stdin reference with `resolve` before anything changes; any that does not
/// resolve stops the run (exit 3, or 2 when malformed) naming the lines.
pub async fn resolve_all<F>(
    tx: &mut Tx,
    refs: Vec<(usize, String)>,
    mut resolve: F,
) -> Result<Vec<Uuid>>
where
    F: AsyncFnMut(&mut Tx, &str) -> Result<Uuid>,
{
    let mut ids = Vec::with_capacity(refs.len());
    let mut bad: Vec<String> = Vec::new();
    let mut code = exit::NOT_FOUND;
    for (line, reference) in refs {
        match resolve(tx, &reference).await {
            Ok(id) => {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            Err(e) => {
                if exit::code_for(&e) == exit::USAGE {
                    code = exit::USAGE;
                }
                bad.push(format!("line {line}: {}", exit::message(&e)));
            }
        }
    }
    if !bad.is_empty() {
        return Err(exit::coded(
            code,
            format!(
                "nothing changed; stdin names records that cannot be found:\n  {}",
                bad.join("\n  ")
            ),
        ));
    }
    Ok(ids)
}

/// Runs the edit and prints the summary; exit 5 when any record was refused.
pub async fn run(
    ctx: &Ctx,
    scope: &crm_core::Scope,
    kind: BulkKind,
    ids: Vec<Uuid>,
    args: &EditArgs,
    edit: BulkEdit,
) -> Result<u8> {
    let summary = bulk::run(
        scope,
        kind,
        &ids,
        &edit,
        args.dry_run,
        args.batch_size as usize,
    )
    .await?;
    print(ctx, &summary)?;
    Ok(if summary.failed > 0 {
        exit::VALIDATION
    } else {
        exit::OK
    })
}

fn print(ctx: &Ctx, s: &BulkSummary) -> Result<()> {
    match ctx.format() {
        Format::Json | Format::Ndjson => crate::output::print_json(ctx.format(), s),
        _ => {
            let mut text = format!(
                "{}bulk edit of {}: {} selected, {} {}, {} unchanged, {} failed ({} {})",
                if s.dry_run { "dry run: " } else { "" },
                s.kind.as_str(),
                s.selected,
                s.changed,
                if s.dry_run { "would change" } else { "changed" },
                s.unchanged,
                s.failed,
                s.batches,
                if s.batches == 1 {
                    "transaction"
                } else {
                    "transactions"
                },
            );
            for e in &s.errors {
                text.push_str(&format!(
                    "\n  {}: {}",
                    crate::output::short_id(e.id),
                    e.message
                ));
            }
            crate::output::text(&text)
        }
    }
}

/// Runs a `bulk-edit` of `kind`: on the records named on stdin (`--stdin`, each resolved
/// with `resolve`) or else on every record `select` returns (the list filters), read in one
/// transaction before anything changes; prints the summary.
pub async fn select_and_run<R, S>(
    ctx: &Ctx,
    scope: &crm_core::Scope,
    kind: BulkKind,
    args: &EditArgs,
    edit: BulkEdit,
    resolve: R,
    select: S,
) -> Result<u8>
where
    R: AsyncFnMut(&mut Tx, &str) -> Result<Uuid>,
    S: AsyncFnOnce(&mut Tx) -> Result<Vec<Uuid>>,
{
    let mut tx = scope.begin().await?;
    let ids = if args.stdin {
        let refs = stdin_references()?;
        resolve_all(&mut tx, refs, resolve).await?
    } else {
        select(&mut tx).await?
    };
    tx.commit().await?;
    run(ctx, scope, kind, ids, args, edit).await
}
