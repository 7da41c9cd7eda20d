//! Keys: `handle_key` changes the state and returns the work to start. Pure: no I/O, so
//! every binding is unit tested.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::{App, Dialog, View};
use crate::command::Command;
use crate::{dialog, palette};

/// Applies one key to the state; returns the commands to run.
pub fn handle_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    // crossterm also reports releases and repeats on some terminals: presses only.
    if key.kind != KeyEventKind::Press {
        return Vec::new();
    }
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        app.quit = true;
        return Vec::new();
    }
    if app.dialog.is_some() {
        return dialog::key(app, key);
    }
    if app.board.filter_editing && app.view == View::Board {
        return filter_key(app, key);
    }
    if app.search.editing && app.view == View::Search {
        return search_key(app, key);
    }
    if let Some(cmds) = global_key(app, key) {
        return cmds;
    }
    match app.view {
        View::Board => board_key(app, key),
        View::Search => search_list_key(app, key),
        View::Due => due_key(app, key),
        View::Deal | View::Contact | View::Company => crate::detail_key::key(app, key),
        View::Duplicates => crate::dupes::key(app, key),
    }
}

/// Switches to a tab view, loading it when it has nothing yet.
pub fn goto(app: &mut App, view: View) -> Vec<Command> {
    app.back.clear();
    app.view = view;
    app.g_pending = false;
    match view {
        View::Board if app.board.data.is_none() && !app.board.loading => {
            app.board.loading = true;
            vec![Command::LoadBoard(None)]
        }
        View::Due => {
            app.due.loading = true;
            vec![Command::LoadDue]
        }
        View::Search => {
            app.search.editing = true;
            Vec::new()
        }
        View::Duplicates => refresh(app),
        _ => Vec::new(),
    }
}

/// Opens a detail view on top of the current one.
pub fn open(app: &mut App, view: View, cmd: Command) -> Vec<Command> {
    if app.view != view {
        app.back.push(app.view);
    }
    app.view = view;
    app.detail.loading = true;
    app.detail.activity = 0;
    app.detail.deal_row = 0;
    app.detail.in_deals = false;
    match &cmd {
        Command::LoadDeal(id) => app.detail.deal_id = Some(*id),
        Command::LoadContact(id) => app.detail.contact_id = Some(*id),
        Command::LoadCompany(id) => app.detail.company_id = Some(*id),
        _ => {}
    }
    vec![cmd]
}

/// The load that refreshes the current view.
pub fn refresh(app: &mut App) -> Vec<Command> {
    match app.view {
        View::Board => {
            app.board.loading = true;
            vec![Command::LoadBoard(
                app.board.data.as_ref().map(|b| b.pipeline_id),
            )]
        }
        View::Due => {
            app.due.loading = true;
            vec![Command::LoadDue]
        }
        View::Search => match app.search.query.trim() {
            "" => Vec::new(),
            _ if app.search.in_flight => {
                app.search.dirty = true;
                Vec::new()
            }
            q => {
                app.search.sent += 1;
                app.search.hits.loading = true;
                app.search.in_flight = true;
                app.search.dirty = false;
                vec![Command::Search {
                    seq: app.search.sent,
                    query: q.to_string(),
                }]
            }
        },
        View::Deal => app
            .detail
            .deal_id
            .map(Command::LoadDeal)
            .into_iter()
            .collect(),
        View::Contact => app
            .detail
            .contact_id
            .map(Command::LoadContact)
            .into_iter()
            .collect(),
        View::Company => app
            .detail
            .company_id
            .map(Command::LoadCompany)
            .into_iter()
            .collect(),
        View::Duplicates => {
            app.dupes.groups.loading = true;
            vec![Command::LoadDuplicates(app.dupes.kind)]
        }
    }
}

/// Keys that work in every view (outside dialogs and text input). `None`: not one of them.
fn global_key(app: &mut App, key: KeyEvent) -> Option<Vec<Command>> {
    let cmds = match key.code {
        KeyCode::Char('q') => {
            app.quit = true;
            Vec::new()
        }
        KeyCode::Char('?') | KeyCode::F(1) => {
            app.dialog = Some(Dialog::Help);
            Vec::new()
        }
        KeyCode::Char(':') => {
            app.dialog = Some(Dialog::Palette {
                input: String::new(),
                selected: 0,
            });
            Vec::new()
        }
        KeyCode::Char(c @ '1'..='3') if !app.board.move_pending => {
            goto(app, View::TABS[c as usize - '1' as usize])
        }
        KeyCode::Tab if matches!(app.view, View::Board | View::Search | View::Due) => {
            let i = View::TABS.iter().position(|v| *v == app.view).unwrap_or(0);
            goto(app, View::TABS[(i + 1) % View::TABS.len()])
        }
        KeyCode::BackTab if matches!(app.view, View::Board | View::Search | View::Due) => {
            let i = View::TABS.iter().position(|v| *v == app.view).unwrap_or(0);
            goto(
                app,
                View::TABS[(i + View::TABS.len() - 1) % View::TABS.len()],
            )
        }
        KeyCode::Char('r') => {
            app.banner = None;
            refresh(app)
        }
        KeyCode::Esc if app.board.move_pending => {
            app.board.move_pending = false;
            Vec::new()
        }
        KeyCode::Esc if app.banner.is_some() => {
            app.banner = None;
            Vec::new()
        }
        KeyCode::Esc | KeyCode::Backspace if !app.back.is_empty() => {
            app.view = app.back.pop().unwrap_or(View::Board);
            refresh_if_board(app)
        }
        _ => return None,
    };
    Some(cmds)
}

/// Coming back to the board after a change elsewhere: reload it.
fn refresh_if_board(app: &mut App) -> Vec<Command> {
    match app.view {
        View::Board | View::Due => refresh(app),
        _ => Vec::new(),
    }
}

/// Moves a selection in a list of `len` rows.
pub fn nav(sel: &mut usize, len: usize, key: &KeyEvent, g_pending: &mut bool) -> bool {
    let last = len.saturating_sub(1);
    match key.code {
        KeyCode::Down | KeyCode::Char('j') => *sel = (*sel + 1).min(last),
        KeyCode::Up | KeyCode::Char('k') => *sel = sel.saturating_sub(1),
        KeyCode::PageDown => *sel = (*sel + 10).min(last),
        KeyCode::PageUp => *sel = sel.saturating_sub(10),
        KeyCode::Home => *sel = 0,
        KeyCode::End | KeyCode::Char('G') => *sel = last,
        KeyCode::Char('g') if *g_pending => {
            *sel = 0;
            *g_pending = false;
        }
        KeyCode::Char('g') => {
            *g_pending = true;
            return true;
        }
        _ => return false,
    }
    *g_pending = false;
    true
}

fn board_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    if app.board.move_pending {
        app.board.move_pending = false;
        if let KeyCode::Char(c @ '1'..='9') = key.code {
            return move_to(app, c as usize - '1' as usize);
        }
        return Vec::new();
    }
    let cols = app.board.visible.len();
    match key.code {
        KeyCode::Left | KeyCode::Right if shift => {
            let step = if key.code == KeyCode::Left { -1 } else { 1 };
            move_by(app, step)
        }
        KeyCode::Char('H') => move_by(app, -1),
        KeyCode::Char('L') => move_by(app, 1),
        KeyCode::Left | KeyCode::Char('h') => {
            app.board.col = app.board.col.saturating_sub(1);
            Vec::new()
        }
        KeyCode::Right | KeyCode::Char('l') => {
            app.board.col = (app.board.col + 1).min(cols.saturating_sub(1));
            Vec::new()
        }
        KeyCode::Char('m') if app.board.selected().is_some() => {
            app.board.move_pending = true;
            Vec::new()
        }
        KeyCode::Char('/') => {
            app.board.filter_editing = true;
            Vec::new()
        }
        KeyCode::Char('p') => next_pipeline(app),
        KeyCode::Enter => match app.board.selected() {
            Some(card) => {
                let id = card.id;
                open(app, View::Deal, Command::LoadDeal(id))
            }
            None => Vec::new(),
        },
        KeyCode::Char('w') => match app.board.selected() {
            Some(card) => {
                let (id, version) = (card.id, card.version);
                app.board.remember();
                app.board.remove_card(id);
                vec![Command::Win { id, version }]
            }
            None => Vec::new(),
        },
        KeyCode::Char('x') => {
            let card = app
                .board
                .selected()
                .map(|c| (c.id, c.title.clone(), c.version));
            if let Some((id, title, version)) = card {
                dialog::open_lose(app, id, title, version);
            }
            Vec::new()
        }
        KeyCode::Char('a') => {
            if let Some(id) = app.board.selected().map(|c| c.id) {
                dialog::open_activity_form(app, crate::app::Link::Deal(id));
            }
            Vec::new()
        }
        _ => {
            let col = app.board.col;
            let len = app.board.visible.get(col).map_or(0, Vec::len);
            if let Some(sel) = app.board.rows.get_mut(col) {
                nav(sel, len, &key, &mut app.g_pending);
            }
            Vec::new()
        }
    }
}

/// Cycles to the next pipeline.
fn next_pipeline(app: &mut App) -> Vec<Command> {
    let Some(board) = &app.board.data else {
        return Vec::new();
    };
    let i = board
        .pipelines
        .iter()
        .position(|(id, _)| *id == board.pipeline_id)
        .unwrap_or(0);
    let Some((next, _)) = board.pipelines.get((i + 1) % board.pipelines.len().max(1)) else {
        return Vec::new();
    };
    app.board.loading = true;
    vec![Command::LoadBoard(Some(*next))]
}

/// Moves the selected card `step` stages (optimistically on screen; the move runs with the
/// version check).
fn move_by(app: &mut App, step: isize) -> Vec<Command> {
    let target = app.board.col as isize + step;
    if target < 0 {
        return Vec::new();
    }
    move_to(app, target as usize)
}

/// Moves the selected card to column `col`.
pub fn move_to(app: &mut App, col: usize) -> Vec<Command> {
    let Some(card) = app.board.selected() else {
        return Vec::new();
    };
    let (id, version) = (card.id, card.version);
    let Some((stage, name)) = app.board.stage(col).map(|(s, n)| (s, n.to_string())) else {
        return Vec::new();
    };
    if col == app.board.col {
        return Vec::new();
    }
    app.board.remember();
    app.board.move_card(id, stage);
    vec![Command::Move {
        id,
        stage,
        name,
        version,
    }]
}

fn filter_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    match key.code {
        KeyCode::Esc => {
            app.board.filter.input.clear();
            app.board.filter_editing = false;
        }
        KeyCode::Enter => app.board.filter_editing = false,
        KeyCode::Backspace => {
            app.board.filter.input.pop();
        }
        KeyCode::Char(c) => app.board.filter.input.push(c),
        _ => return Vec::new(),
    }
    app.board.refilter();
    Vec::new()
}

/// The search line has the keys: typing searches as you type.
fn search_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    match key.code {
        KeyCode::Esc => {
            app.search.editing = false;
            Vec::new()
        }
        KeyCode::Enter => open_hit(app),
        KeyCode::Down => {
            let len = app.search.hits.items.len();
            app.search.hits.selected = (app.search.hits.selected + 1).min(len.saturating_sub(1));
            Vec::new()
        }
        KeyCode::Up => {
            app.search.hits.selected = app.search.hits.selected.saturating_sub(1);
            Vec::new()
        }
        KeyCode::Backspace => {
            app.search.query.pop();
            query_changed(app)
        }
        KeyCode::Char(c) => {
            app.search.query.push(c);
            query_changed(app)
        }
        _ => Vec::new(),
    }
}

/// A new query: sent at once; older answers arriving later are dropped.
fn query_changed(app: &mut App) -> Vec<Command> {
    app.search.hits.selected = 0;
    if app.search.query.trim().is_empty() {
        app.search.sent += 1;
        app.search.hits.set(Vec::new());
        return Vec::new();
    }
    refresh(app)
}

fn open_hit(app: &mut App) -> Vec<Command> {
    let Some(hit) = app.search.hits.current() else {
        return Vec::new();
    };
    let id = hit.id;
    app.search.editing = false;
    if hit.kind == "company" {
        open(app, View::Company, Command::LoadCompany(id.into()))
    } else if hit.kind == "deal" {
        open(app, View::Deal, Command::LoadDeal(id.into()))
    } else {
        open(app, View::Contact, Command::LoadContact(id.into()))
    }
}

fn search_list_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    match key.code {
        KeyCode::Char('/') | KeyCode::Char('i') => {
            app.search.editing = true;
            Vec::new()
        }
        KeyCode::Enter => open_hit(app),
        KeyCode::Char('n') => {
            dialog::open_contact_form(app);
            Vec::new()
        }
        _ => {
            let len = app.search.hits.items.len();
            nav(&mut app.search.hits.selected, len, &key, &mut app.g_pending);
            Vec::new()
        }
    }
}

fn due_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    match key.code {
        KeyCode::Char(' ') => crate::detail_key::complete(app),
        KeyCode::Char('s') => crate::detail_key::reschedule(app),
        KeyCode::Enter => {
            let Some(a) = app.due.current() else {
                return Vec::new();
            };
            if let Some(id) = a.deal_id {
                open(app, View::Deal, Command::LoadDeal(id))
            } else if let Some(id) = a.contact_id {
                open(app, View::Contact, Command::LoadContact(id))
            } else if let Some(id) = a.company_id {
                open(app, View::Company, Command::LoadCompany(id))
            } else {
                Vec::new()
            }
        }
        _ => {
            let len = app.due.items.len();
            nav(&mut app.due.selected, len, &key, &mut app.g_pending);
            Vec::new()
        }
    }
}

/// Entries of the palette are built in [`palette`]; this re-export keeps `key` the one
/// entry point for keyboard handling.
pub use palette::entries as palette_entries;

#[cfg(test)]
#[path = "key_tests.rs"]
mod tests;
