//! Asking before destructive work: on a terminal, or `--yes`.

use std::io::IsTerminal as _;

use anyhow::Result;

use crate::exit;

/// Asks on the terminal; without one, `--yes` is required (exit 2).
pub fn confirm(yes: bool, prompt: String) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(exit::usage(
            "not asking without a terminal: pass --yes to confirm",
        ));
    }
    dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .interact()
        .map_err(|e| exit::coded(exit::ERROR, format!("cannot ask for confirmation: {e}")))
}

/// Without a terminal to ask on, `--yes` is required (exit 2).
pub fn needs_terminal_or_yes(yes: bool) -> Result<()> {
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !yes && !terminal {
        return Err(exit::usage(
            "not asking without a terminal: pass --yes to confirm",
        ));
    }
    Ok(())
}

/// Before destroying `target` (`"company Muster GmbH (1a2b3c4d)"`): with `dry_run`, prints
/// what would go and what depends on it (a JSON object for `--format json`, else a line) and
/// returns `false`; otherwise asks, naming the dependent records and the sums of open deals
/// ("Delete company …? It has 1 open deal (87,400.50 EUR), 1 contact."), or with `yes` says
/// so on stderr and returns `true`. Without a terminal, `yes` or `dry_run` is required.
pub fn before_destroying(
    ctx: &crate::ctx::Ctx,
    yes: bool,
    dry_run: bool,
    verb: &str,
    target: &str,
    dependents: &crm_core::store::dependents::Dependents,
) -> Result<bool> {
    let has = if dependents.is_empty() {
        String::new()
    } else {
        format!(" It has {dependents}.")
    };
    if dry_run {
        match ctx.format() {
            crate::cli::Format::Json | crate::cli::Format::Ndjson => {
                crate::output::print_json(
                    ctx.format(),
                    &serde_json::json!({
                        "dry_run": true,
                        "action": verb,
                        "target": target,
                        "dependents": dependents,
                        "summary": dependents.to_string(),
                    }),
                )?;
            }
            _ => crate::output::text(&format!(
                "dry run: would {verb} {target}.{has} Nothing changed."
            ))?,
        }
        return Ok(false);
    }
    let mut verb_cap = verb.to_string();
    if let Some(first) = verb_cap.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    if yes {
        ctx.note(format!("{verb_cap} {target}.{has}"));
        return Ok(true);
    }
    let go = confirm(false, format!("{verb_cap} {target}?{has}"))?;
    if !go {
        ctx.note("nothing changed");
    }
    Ok(go)
}

/// What a delete command asks about before it deletes (see [`before_destroying`]).
#[derive(Debug)]
pub struct Deletion<'a> {
    /// Do not ask.
    pub yes: bool,
    /// Show what would go, change nothing.
    pub dry_run: bool,
    /// What is deleted, as the question names it (`company Muster GmbH (1a2b3c4d)`).
    pub target: &'a str,
    /// What depends on it.
    pub dependents: &'a crm_core::store::dependents::Dependents,
}

/// Deletes after asking: when [`before_destroying`] agrees, runs `delete` in one
/// transaction and prints the JSON receipt `{"id": …, "deleted": true}` (for
/// `--format json|ndjson`). Returns whether anything was deleted.
pub async fn delete_after_asking(
    ctx: &crate::ctx::Ctx,
    scope: &crm_core::Scope,
    d: Deletion<'_>,
    id: impl serde::Serialize,
    delete: impl AsyncFnOnce(&mut crm_core::Tx) -> crm_core::Result<()>,
) -> Result<bool> {
    if !before_destroying(ctx, d.yes, d.dry_run, "delete", d.target, d.dependents)? {
        return Ok(false);
    }
    scope.run(delete).await?;
    crate::output::receipt(
        ctx.format(),
        &serde_json::json!({ "id": id, "deleted": true }),
    )?;
    Ok(true)
}
