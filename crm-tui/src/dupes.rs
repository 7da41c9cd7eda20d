//! Keys of the duplicates view and its merge confirmation. Pure, like [`crate::key`].
//!
//! The list shows candidate groups (best first); `⏎` opens one: its records, the survivor
//! marked (the oldest at first). `s` makes the selected record the survivor, `m` asks to
//! merge the others into it, `n` marks the selected record as not a duplicate of the
//! survivor. `t` switches between contacts and companies.

use crm_core::dedupe::Kind;
use crossterm::event::{KeyCode, KeyEvent};

use crate::app::{App, Dialog};
use crate::command::Command;
use crate::key;

/// A key in the duplicates view (outside dialogs).
pub fn key(app: &mut App, k: KeyEvent) -> Vec<Command> {
    if app.dupes.open {
        group_key(app, k)
    } else {
        list_key(app, k)
    }
}

fn list_key(app: &mut App, k: KeyEvent) -> Vec<Command> {
    match k.code {
        KeyCode::Enter | KeyCode::Char('l') | KeyCode::Right => {
            if app.dupes.group().is_some() {
                app.dupes.open = true;
                app.dupes.member = 0;
                app.dupes.survivor = 0;
            }
            Vec::new()
        }
        KeyCode::Char('t') => {
            app.dupes.kind = match app.dupes.kind {
                Kind::Contact => Kind::Company,
                Kind::Company => Kind::Contact,
            };
            app.dupes.groups = Default::default();
            key::refresh(app)
        }
        _ => {
            let len = app.dupes.groups.items.len();
            key::nav(&mut app.dupes.groups.selected, len, &k, &mut app.g_pending);
            Vec::new()
        }
    }
}

fn group_key(app: &mut App, k: KeyEvent) -> Vec<Command> {
    let Some(g) = app.dupes.group() else {
        app.dupes.open = false;
        return Vec::new();
    };
    let (kind, len) = (g.kind, g.members.len());
    match k.code {
        KeyCode::Esc | KeyCode::Backspace | KeyCode::Char('h') | KeyCode::Left => {
            app.dupes.open = false;
            Vec::new()
        }
        KeyCode::Char('s') => {
            app.dupes.survivor = app.dupes.member.min(len.saturating_sub(1));
            Vec::new()
        }
        KeyCode::Char('m') => {
            let ids = app.dupes.merge_ids();
            let survivor = g
                .members
                .get(app.dupes.survivor)
                .map(|m| m.name.clone())
                .unwrap_or_default();
            if ids.len() >= 2 {
                app.dialog = Some(Dialog::Merge {
                    kind,
                    ids,
                    survivor,
                });
            }
            Vec::new()
        }
        KeyCode::Char('n') => {
            if app.dupes.member == app.dupes.survivor {
                app.info("select another record than the survivor (j/k), then n");
                return Vec::new();
            }
            let (Some(a), Some(b)) = (
                g.ids.get(app.dupes.survivor).copied(),
                g.ids.get(app.dupes.member).copied(),
            ) else {
                return Vec::new();
            };
            vec![Command::Dismiss { kind, a, b }]
        }
        _ => {
            key::nav(&mut app.dupes.member, len, &k, &mut app.g_pending);
            Vec::new()
        }
    }
}

/// A key in the merge confirmation: `⏎` or `y` merges, `Esc` or `n` cancels.
pub fn merge_key(dialog: Dialog, k: KeyEvent) -> (Option<Dialog>, Vec<Command>) {
    let Dialog::Merge { kind, ids, .. } = &dialog else {
        return (None, Vec::new());
    };
    match k.code {
        KeyCode::Enter | KeyCode::Char('y') => (
            None,
            vec![Command::Merge {
                kind: *kind,
                ids: ids.clone(),
            }],
        ),
        KeyCode::Esc | KeyCode::Char('n' | 'q') => (None, Vec::new()),
        _ => (Some(dialog), Vec::new()),
    }
}
