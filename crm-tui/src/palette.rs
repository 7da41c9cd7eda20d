//! The `:` command palette: views, pipelines by name and actions, matched fuzzily (the
//! typed letters in order, anywhere in the entry).

use crm_core::PipelineId;
use crossterm::event::{KeyCode, KeyEvent};

use crate::app::{App, Dialog, View};
use crate::command::Command;
use crate::{dialog, key};

/// What an entry does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Go to a view.
    View(View),
    /// Show a pipeline's board.
    Pipeline(PipelineId),
    /// Quick-add a contact.
    NewContact,
    /// The duplicate groups of a kind.
    Duplicates(crm_core::dedupe::Kind),
    /// Show the help.
    Help,
    /// Quit.
    Quit,
}

/// Every entry: label and target.
pub fn entries(app: &App) -> Vec<(String, Target)> {
    let mut out = vec![
        ("board".to_string(), Target::View(View::Board)),
        ("contacts".to_string(), Target::View(View::Search)),
        ("companies".to_string(), Target::View(View::Search)),
        ("activities".to_string(), Target::View(View::Due)),
        ("due".to_string(), Target::View(View::Due)),
        ("new contact".to_string(), Target::NewContact),
        (
            "duplicates".to_string(),
            Target::Duplicates(crm_core::dedupe::Kind::Contact),
        ),
        (
            "duplicate companies".to_string(),
            Target::Duplicates(crm_core::dedupe::Kind::Company),
        ),
        ("help".to_string(), Target::Help),
        ("quit".to_string(), Target::Quit),
    ];
    if let Some(b) = &app.board.data {
        for (id, name) in &b.pipelines {
            out.push((format!("pipeline {name}"), Target::Pipeline(*id)));
        }
    }
    out
}

/// Whether `typed` is a subsequence of `label` (ignoring case).
pub fn fuzzy(label: &str, typed: &str) -> bool {
    let mut chars = label.chars().flat_map(char::to_lowercase);
    typed
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace())
        .all(|t| chars.any(|c| c == t))
}

/// The entries matching `typed`, best first (prefix matches before others).
pub fn matches(app: &App, typed: &str) -> Vec<(String, Target)> {
    let mut m: Vec<(String, Target)> = entries(app)
        .into_iter()
        .filter(|(label, _)| fuzzy(label, typed))
        .collect();
    let t = typed.trim().to_lowercase();
    m.sort_by_key(|(label, _)| !label.starts_with(&t));
    m
}

/// A key in the palette.
pub fn key(
    app: &mut App,
    mut input: String,
    mut selected: usize,
    key: KeyEvent,
) -> (Option<Dialog>, Vec<Command>) {
    match key.code {
        KeyCode::Esc => return (None, Vec::new()),
        KeyCode::Enter => {
            let Some((_, target)) = matches(app, &input).into_iter().nth(selected) else {
                return (Some(Dialog::Palette { input, selected }), Vec::new());
            };
            return (None, run(app, target));
        }
        KeyCode::Down | KeyCode::Tab => selected += 1,
        KeyCode::Up | KeyCode::BackTab => selected = selected.saturating_sub(1),
        KeyCode::Backspace => {
            input.pop();
            selected = 0;
        }
        KeyCode::Char(c) => {
            input.push(c);
            selected = 0;
        }
        _ => {}
    }
    let n = matches(app, &input).len();
    selected = selected.min(n.saturating_sub(1));
    (Some(Dialog::Palette { input, selected }), Vec::new())
}

fn run(app: &mut App, target: Target) -> Vec<Command> {
    match target {
        Target::View(v) => key::goto(app, v),
        Target::Pipeline(id) => {
            let mut cmds = key::goto(app, View::Board);
            if !cmds.iter().any(|c| matches!(c, Command::LoadBoard(_))) {
                cmds.push(Command::LoadBoard(Some(id)));
            } else {
                cmds = vec![Command::LoadBoard(Some(id))];
            }
            app.board.loading = true;
            cmds
        }
        Target::NewContact => {
            dialog::open_contact_form(app);
            Vec::new()
        }
        Target::Duplicates(kind) => {
            if app.dupes.kind != kind {
                app.dupes = crate::app::DupesState {
                    kind,
                    ..Default::default()
                };
            }
            key::goto(app, View::Duplicates)
        }
        Target::Help => {
            app.dialog = Some(Dialog::Help);
            Vec::new()
        }
        Target::Quit => {
            app.quit = true;
            Vec::new()
        }
    }
}
