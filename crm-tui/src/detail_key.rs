//! Keys of the deal, contact and company screens, and the activity actions they share with
//! the due list.

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent};

use crate::app::{App, Link, View};
use crate::command::Command;
use crate::{dialog, key};

/// A key on a detail screen.
pub fn key(app: &mut App, k: KeyEvent) -> Vec<Command> {
    match k.code {
        KeyCode::Char(' ') => return complete(app),
        KeyCode::Char('s') => return reschedule(app),
        KeyCode::Char('a') => {
            if let Some(link) = link(app) {
                dialog::open_activity_form(app, link);
            }
            return Vec::new();
        }
        _ => {}
    }
    match app.view {
        View::Deal => deal_key(app, k),
        _ => record_key(app, k),
    }
}

/// What the screen shows, as a link for a new activity.
fn link(app: &App) -> Option<Link> {
    match app.view {
        View::Deal => app.detail.deal.as_ref().map(|d| Link::Deal(d.deal.id)),
        View::Contact => app
            .detail
            .contact
            .as_ref()
            .map(|c| Link::Contact(c.contact.id)),
        View::Company => app
            .detail
            .company
            .as_ref()
            .map(|c| Link::Company(c.company.id)),
        _ => None,
    }
}

fn deal_key(app: &mut App, k: KeyEvent) -> Vec<Command> {
    let Some(d) = app.detail.deal.as_ref().map(|d| &d.deal) else {
        return Vec::new();
    };
    let (id, version, title) = (d.id, d.version, d.title.clone());
    match k.code {
        KeyCode::Char('e') => {
            dialog::open_deal_form(app);
            Vec::new()
        }
        KeyCode::Char('w') => vec![Command::Win { id, version }],
        KeyCode::Char('x') => {
            dialog::open_lose(app, id, title, version);
            Vec::new()
        }
        KeyCode::Char('o') => vec![Command::Reopen(id)],
        _ => {
            let n = app.detail_activities().len();
            key::nav(&mut app.detail.activity, n, &k, &mut app.g_pending);
            Vec::new()
        }
    }
}

fn record_key(app: &mut App, k: KeyEvent) -> Vec<Command> {
    let deals: Vec<_> = match app.view {
        View::Contact => app.detail.contact.as_ref().map(|c| &c.deals),
        _ => app.detail.company.as_ref().map(|c| &c.deals),
    }
    .map(|ds| ds.iter().map(|d| d.id).collect())
    .unwrap_or_default();
    match k.code {
        KeyCode::Tab | KeyCode::BackTab => {
            app.detail.in_deals = !app.detail.in_deals;
            Vec::new()
        }
        KeyCode::Enter if app.detail.in_deals => match deals.get(app.detail.deal_row) {
            Some(id) => key::open(app, View::Deal, Command::LoadDeal(*id)),
            None => Vec::new(),
        },
        _ if app.detail.in_deals => {
            key::nav(
                &mut app.detail.deal_row,
                deals.len(),
                &k,
                &mut app.g_pending,
            );
            Vec::new()
        }
        _ => {
            let n = app.detail_activities().len();
            key::nav(&mut app.detail.activity, n, &k, &mut app.g_pending);
            Vec::new()
        }
    }
}

/// Marks the selected activity done.
pub fn complete(app: &mut App) -> Vec<Command> {
    match app.selected_activity() {
        Some(a) if a.done_at.is_none() => vec![Command::Complete(a.id)],
        Some(_) => {
            app.info("already done");
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// Moves the selected activity's due time one day on (counting from now when it had none
/// or is overdue).
pub fn reschedule(app: &mut App) -> Vec<Command> {
    let Some(a) = app.selected_activity() else {
        return Vec::new();
    };
    let now = chrono::Utc::now();
    // An overdue one moves to tomorrow, not to another day in the past.
    let base = a.due_at.unwrap_or(now).max(now);
    vec![Command::Reschedule(
        a.id,
        a.version,
        base + Duration::days(1),
    )]
}
