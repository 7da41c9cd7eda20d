//! Before the console starts: log in with e-mail and password (through crm-core's session
//! API) and pick an organization, on the plain terminal.

use std::io::{BufRead as _, Write as _};

use anyhow::{Result, bail};
use crm_core::{Crm, OrgId};
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::terminal;

/// Asks for a line on stderr.
fn ask(prompt: &str) -> Result<String> {
    eprint!("{prompt}: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        bail!("no input");
    }
    Ok(line.trim().to_string())
}

/// Reads a password without echo.
fn password() -> Result<String> {
    eprint!("Password: ");
    std::io::stderr().flush()?;
    terminal::enable_raw_mode()?;
    let mut pw = String::new();
    let result = loop {
        match event::read() {
            Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => match k.code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Err(anyhow::anyhow!("cancelled"));
                }
                KeyCode::Esc => break Err(anyhow::anyhow!("cancelled")),
                KeyCode::Backspace => {
                    pw.pop();
                }
                KeyCode::Char(c) => pw.push(c),
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(e.into()),
        }
    };
    terminal::disable_raw_mode()?;
    eprintln!();
    result.map(|()| pw)
}

/// Logs in; three attempts. A wrong password and an unknown or locked account get the same
/// message, so the prompt does not reveal which accounts exist.
/// Returns the session's access token and the e-mail address.
pub async fn login(crm: &Crm, org: OrgId) -> Result<(String, String)> {
    eprintln!("Log in (or start with --as EMAIL / CRM_USER).");
    for _ in 0..3 {
        let email = ask("E-mail")?;
        let pw = password()?;
        match crm.login(org, &email, &pw).await {
            Ok(session) => return Ok((session.access_token, email)),
            Err(crm_core::Error::PermissionDenied(_) | crm_core::Error::NotFound { .. }) => {
                eprintln!(
                    "Login failed: wrong e-mail or password, or the account cannot log in now."
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    bail!("login failed three times")
}

/// Picks one of `names` by number.
pub fn pick(what: &str, names: &[String]) -> Result<usize> {
    for (i, n) in names.iter().enumerate() {
        eprintln!(
            "  {}  {}",
            i + 1,
            crm_core::domain::text::escape_for_terminal(n, false)
        );
    }
    loop {
        let a = ask(&format!("{what} (1-{})", names.len()))?;
        match a.parse::<usize>() {
            Ok(n) if (1..=names.len()).contains(&n) => return Ok(n - 1),
            _ => eprintln!("a number from 1 to {}", names.len()),
        }
    }
}
