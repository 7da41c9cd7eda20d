//! Keys inside dialogs (help, lose, conflict, palette, forms) and the functions that open
//! them. Pure, like [`crate::key`].

use std::str::FromStr as _;

use crm_core::DealId;
use crm_core::domain::ActivityType;
use crm_core::domain::Zone;
use crm_core::store::activity::NewActivity;
use crm_core::store::contact::NewContact;
use crm_core::store::deal::DealPatch;
use crossterm::event::{KeyCode, KeyEvent};

use crate::app::{App, Dialog, FormKind, Link, Retry};
use crate::command::Command;
use crate::form::Form;
use crate::{fmt, key, palette};

/// Opens the lose dialog for a deal.
pub fn open_lose(app: &mut App, id: DealId, title: String, version: i32) {
    app.dialog = Some(Dialog::Lose {
        id,
        title,
        version,
        reason: 0,
        note: String::new(),
        in_note: false,
        error: if app.lost_reasons.is_empty() {
            Some("no lost reasons loaded yet; press r to retry".into())
        } else {
            None
        },
    });
}

/// Opens the form for a new activity linked to `link`.
pub fn open_activity_form(app: &mut App, link: Link) {
    app.dialog = Some(Dialog::Form(Form::new(
        FormKind::NewActivity(link),
        "New activity",
        &[
            (
                "kind",
                "Kind (note, call, task, meeting, email, followup)",
                "task".into(),
            ),
            ("subject", "Subject", String::new()),
            (
                "due_at",
                "Due (31.12.2026 14:30, tomorrow, +2d, 3h; empty: none)",
                "tomorrow".into(),
            ),
        ],
    )));
}

/// Opens the quick-add form for a contact.
pub fn open_contact_form(app: &mut App) {
    app.dialog = Some(Dialog::Form(Form::new(
        FormKind::NewContact,
        "New contact",
        &[
            ("first_name", "First name", String::new()),
            ("last_name", "Last name", String::new()),
            ("email", "E-mail", String::new()),
            ("phone", "Phone", String::new()),
        ],
    )));
}

/// Opens the edit form of the deal shown.
pub fn open_deal_form(app: &mut App) {
    let Some(d) = app.detail.deal.as_ref().map(|d| &d.deal) else {
        return;
    };
    let close = d
        .expected_close_date
        .map(|c| fmt::date(c, app.german))
        .unwrap_or_default();
    let form = Form::new(
        FormKind::EditDeal {
            id: d.id,
            version: d.version,
        },
        "Edit deal",
        &[
            ("title", "Title", d.title.clone()),
            ("value", "Value", d.value.to_string()),
            ("currency", "Currency", d.currency.clone()),
            ("expected_close_date", "Expected close (31.12.2026)", close),
        ],
    );
    app.dialog = Some(Dialog::Form(form));
}

/// Applies a key to the open dialog.
pub fn key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    let Some(dialog) = app.dialog.take() else {
        return Vec::new();
    };
    let (keep, cmds) = match dialog {
        Dialog::Help => help_key(key),
        Dialog::Lose { .. } => lose_key(app, dialog, key),
        Dialog::Conflict { .. } => conflict_key(app, dialog, key),
        Dialog::Palette { input, selected } => palette::key(app, input, selected, key),
        Dialog::Form(form) => form_key(app, form, key),
        d @ Dialog::Merge { .. } => crate::dupes::merge_key(d, key),
    };
    if app.dialog.is_none() {
        app.dialog = keep;
    }
    cmds
}

fn help_key(key: KeyEvent) -> (Option<Dialog>, Vec<Command>) {
    match key.code {
        KeyCode::Esc | KeyCode::Char('?' | 'q') | KeyCode::Enter => (None, Vec::new()),
        _ => (Some(Dialog::Help), Vec::new()),
    }
}

fn lose_key(app: &mut App, mut dialog: Dialog, key: KeyEvent) -> (Option<Dialog>, Vec<Command>) {
    let n = app.lost_reasons.len();
    let Dialog::Lose {
        id,
        version,
        reason,
        note,
        in_note,
        ..
    } = &mut dialog
    else {
        return (None, Vec::new());
    };
    match key.code {
        KeyCode::Esc => return (None, Vec::new()),
        KeyCode::Tab | KeyCode::BackTab => *in_note = !*in_note,
        KeyCode::Enter => {
            let Some(r) = app.lost_reasons.get(*reason) else {
                return (Some(dialog), vec![Command::LoadLostReasons]);
            };
            let cmd = Command::Lose {
                id: *id,
                reason: r.key.clone(),
                note: Some(note.trim().to_string()).filter(|n| !n.is_empty()),
                version: *version,
            };
            if app.board.selected().is_some_and(|c| c.id == *id) {
                app.board.remember();
            }
            app.board.remove_card(*id);
            return (None, vec![cmd]);
        }
        KeyCode::Backspace if *in_note => {
            note.pop();
        }
        KeyCode::Char(c) if *in_note => note.push(c),
        KeyCode::Down | KeyCode::Char('j') => *reason = (*reason + 1).min(n.saturating_sub(1)),
        KeyCode::Up | KeyCode::Char('k') => *reason = reason.saturating_sub(1),
        _ => {}
    }
    (Some(dialog), Vec::new())
}

fn conflict_key(app: &mut App, dialog: Dialog, key: KeyEvent) -> (Option<Dialog>, Vec<Command>) {
    let Dialog::Conflict {
        id, version, retry, ..
    } = &dialog
    else {
        return (None, Vec::new());
    };
    match key.code {
        KeyCode::Esc | KeyCode::Char('r') => (None, key::refresh(app)),
        KeyCode::Char('f') => {
            let cmd = match retry.clone() {
                Some(Retry::Move { stage, name }) => Command::Move {
                    id: *id,
                    stage,
                    name,
                    version: *version,
                },
                Some(Retry::Win) => Command::Win {
                    id: *id,
                    version: *version,
                },
                None => return (Some(dialog), Vec::new()),
            };
            (None, vec![cmd])
        }
        _ => (Some(dialog), Vec::new()),
    }
}

fn form_key(app: &mut App, mut form: Form, key: KeyEvent) -> (Option<Dialog>, Vec<Command>) {
    if form.saving && key.code != KeyCode::Esc {
        return (Some(Dialog::Form(form)), Vec::new());
    }
    match key.code {
        KeyCode::Esc => return (None, Vec::new()),
        KeyCode::Tab | KeyCode::Down => form.next(),
        KeyCode::BackTab | KeyCode::Up => form.prev(),
        KeyCode::Backspace => form.pop(),
        KeyCode::Char(c) => form.push(c),
        KeyCode::Enter => match submit(&form, app.zone, app.me.id) {
            Ok(cmd) => {
                form.saving = true;
                form.error = None;
                return (Some(Dialog::Form(form)), vec![cmd]);
            }
            Err(errors) => form.set_errors(&errors),
        },
        _ => {}
    }
    (Some(Dialog::Form(form)), Vec::new())
}

type FieldErrs = Vec<(String, String)>;

/// The command that saves `form`; what cannot even be read (a date, a kind) is reported on
/// its field here, every other rule by crm-core.
pub fn submit(form: &Form, zone: Zone, me: Option<crm_core::UserId>) -> Result<Command, FieldErrs> {
    let opt = |k: &str| Some(form.value(k).trim().to_string()).filter(|v| !v.is_empty());
    match form.kind {
        FormKind::EditDeal { id, version } => {
            let close = fmt::parse_day(form.value("expected_close_date"), zone)
                .map_err(|m| vec![("expected_close_date".to_string(), m)])?;
            Ok(Command::UpdateDeal(
                id,
                DealPatch {
                    version,
                    title: Some(form.value("title").to_string()),
                    value: Some(form.value("value").to_string()),
                    currency: opt("currency"),
                    expected_close_date: Some(close),
                    ..DealPatch::default()
                },
            ))
        }
        FormKind::NewContact => Ok(Command::CreateContact(Box::new(NewContact {
            first_name: form.value("first_name").trim().to_string(),
            last_name: form.value("last_name").trim().to_string(),
            email: opt("email"),
            phone: opt("phone"),
            ..NewContact::default()
        }))),
        FormKind::NewActivity(link) => {
            let mut errors = Vec::new();
            let kind = ActivityType::from_str(form.value("kind").trim()).unwrap_or_else(|_| {
                errors.push((
                    "kind".to_string(),
                    "one of note, call, email, meeting, task, followup".to_string(),
                ));
                ActivityType::Note
            });
            let due = fmt::parse_due(form.value("due_at"), zone).unwrap_or_else(|m| {
                errors.push(("due_at".to_string(), m));
                None
            });
            if !errors.is_empty() {
                return Err(errors);
            }
            let mut new = NewActivity {
                kind,
                subject: form.value("subject").to_string(),
                due_at: due,
                assignee_id: me,
                ..NewActivity::default()
            };
            match link {
                Link::Deal(id) => new.deal_id = Some(id),
                Link::Contact(id) => new.contact_id = Some(id),
                Link::Company(id) => new.company_id = Some(id),
            }
            Ok(Command::CreateActivity(Box::new(new)))
        }
    }
}
