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
