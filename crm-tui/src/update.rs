//! Messages from tasks: `apply` folds them into the state and returns follow-up work
//! (reloads after a change). Pure, like the key handler.

use crm_core::DealId;
use crm_core::console::{Board, Card};
use crm_core::domain::DealStatus;
use crm_core::search::Hit;
use crm_core::store::deal::Deal;

use crate::app::{App, Dialog, Live, Retry, View};
use crate::command::{Command, Failure, Message, Outcome};
use crate::{fmt, key};

/// Applies one message.
pub fn apply(app: &mut App, msg: Message) -> Vec<Command> {
    match msg {
        Message::Board(r) => board_loaded(app, r),
        Message::LostReasons(r) => {
            match r {
                Ok(l) => app.lost_reasons = l,
                Err(e) => failed(app, e),
            }
            Vec::new()
        }
        Message::Due(r) => {
            match r {
                Ok(items) => {
                    clear_unavailable(app);
                    app.due.set(items);
                }
                Err(e) => {
                    app.due.loading = false;
                    failed(app, e);
                }
            }
            Vec::new()
        }
        Message::Deal(r) => {
            app.detail.loading = false;
            match r {
                Ok(d) if app.detail.deal_id == Some(d.deal.id) => {
                    clear_unavailable(app);
                    app.detail.deal = Some(*d);
                }
                Ok(_) => {}
                Err(e) => failed(app, e),
            }
            Vec::new()
        }
        Message::Contact(r) => {
            app.detail.loading = false;
            match r {
                Ok(c) if app.detail.contact_id == Some(c.contact.id) => {
                    app.detail.contact = Some(*c);
                }
                Ok(_) => {}
                Err(e) => failed(app, e),
            }
            Vec::new()
        }
        Message::Company(r) => {
            app.detail.loading = false;
            match r {
                Ok(c) if app.detail.company_id == Some(c.company.id) => {
                    app.detail.company = Some(*c);
                }
                Ok(_) => {}
                Err(e) => failed(app, e),
            }
            Vec::new()
        }
        Message::Hits(seq, r) => hits(app, seq, r),
        Message::DealChanged(what, deal) => deal_changed(app, what, &deal),
        Message::Stale {
            attempted,
            now,
            id,
            retry,
        } => stale(app, attempted, *now, id, retry),
        Message::DealFailed(id, e) => {
            app.board.forget(id);
            failed(app, e);
            key::refresh(app)
        }
        Message::FormFailed(e) => form_failed(app, e),
        Message::ContactCreated(c) => {
            close_form(app);
            app.info("contact created");
            key::open(app, View::Contact, Command::LoadContact(c.id))
        }
        Message::ActivityChanged(what, _) => {
            close_form(app);
            app.info(format!("activity {what}"));
            let mut cmds = key::refresh(app);
            if app.view != View::Due && app.due.loading {
                cmds.push(Command::LoadDue);
            }
            cmds
        }
        Message::ActivityFailed(e) => {
            failed(app, e);
            key::refresh(app)
        }
        Message::Changed(entities) => changed_elsewhere(app, &entities),
        Message::Live(up) => {
            app.live = if up {
                Live::Connected
            } else {
                Live::Reconnecting
            };
            Vec::new()
        }
        Message::Duplicates(kind, r) => duplicates_loaded(app, kind, r),
        Message::Merged(r) => merged(app, *r),
        Message::Dismissed(r) => dismissed(app, r),
    }
}

/// Candidate groups arrived; an answer for the kind no longer shown is out of date.
fn duplicates_loaded(
    app: &mut App,
    kind: crm_core::dedupe::Kind,
    r: Outcome<Vec<crm_core::dedupe::Group>>,
) -> Vec<Command> {
    if kind == app.dupes.kind {
        match r {
            Ok(groups) => {
                clear_unavailable(app);
                app.dupes.groups.set(groups);
                app.dupes.clamp();
            }
            Err(e) => {
                app.dupes.groups.loading = false;
                failed(app, e);
            }
        }
    }
    Vec::new()
}

/// A merge finished: the banner says how to undo it, and the groups are read again.
fn merged(app: &mut App, r: Outcome<crm_core::dedupe::MergeOutcome>) -> Vec<Command> {
    match r {
        Ok(o) => {
            app.dupes.open = false;
            let undo = o
                .merge_id
                .map(|id| format!("; undo: crm {} unmerge {id}", o.kind))
                .unwrap_or_default();
            app.info(format!(
                "merged {} into one {}{undo}",
                o.merged_ids.len() + 1,
                o.kind
            ));
        }
        Err(e) => failed(app, e),
    }
    reload_duplicates(app)
}

/// A "not a duplicate" mark was written (or refused).
fn dismissed(app: &mut App, r: Outcome<bool>) -> Vec<Command> {
    match r {
        Ok(_) => app.info("marked as not a duplicate: never proposed again"),
        Err(e) => failed(app, e),
    }
    reload_duplicates(app)
}

/// After a merge or a mark: the groups again, when they are shown.
fn reload_duplicates(app: &mut App) -> Vec<Command> {
    if app.view == View::Duplicates {
        key::refresh(app)
    } else {
        Vec::new()
    }
}

/// A board arrived: shown, keeping the cursor unless another pipeline's board replaces it.
fn board_loaded(app: &mut App, r: Outcome<Board>) -> Vec<Command> {
    app.board.loading = false;
    match r {
        Ok(b) => {
            clear_unavailable(app);
            let switched = app
                .board
                .data
                .as_ref()
                .is_some_and(|old| old.pipeline_id != b.pipeline_id);
            if switched {
                app.board.col = 0;
                app.board.rows.clear();
            }
            app.board.data = Some(b);
            app.board.refilter();
        }
        Err(e) => failed(app, e),
    }
    Vec::new()
}

/// Search hits arrived for query number `seq`.
fn hits(app: &mut App, seq: u64, r: Outcome<Vec<Hit>>) -> Vec<Command> {
    app.search.in_flight = false;
    if app.search.dirty && app.view == View::Search {
        // The text changed meanwhile: ask for the newest text now.
        return key::refresh(app);
    }
    // An answer to an older query than the newest one sent is out of date.
    if seq == app.search.sent {
        match r {
            Ok(h) => app.search.hits.set(h),
            Err(e) => {
                app.search.hits.loading = false;
                failed(app, e);
            }
        }
    }
    Vec::new()
}

/// A change lost on the version check: the conflict dialog with what changed meanwhile.
fn stale(
    app: &mut App,
    attempted: String,
    now: Outcome<Deal>,
    id: DealId,
    retry: Option<Retry>,
) -> Vec<Command> {
    let seen = app.board.forget(id);
    match now {
        Ok(d) => {
            app.dialog = Some(Dialog::Conflict {
                attempted,
                id,
                version: d.version,
                changes: conflict_changes(app, seen.as_ref(), &d),
                at: Some(fmt::when(d.updated_at, app.german, app.zone)),
                retry: retry.filter(|_| d.status == DealStatus::Open),
            });
        }
        Err(e) => failed(app, e),
    }
    key::refresh(app)
}

/// A form's save failed: field errors go to their fields, anything else under the form.
fn form_failed(app: &mut App, e: Failure) -> Vec<Command> {
    match (&mut app.dialog, e) {
        (Some(Dialog::Form(form)), Failure::Invalid(errors)) => form.set_errors(&errors),
        (Some(Dialog::Form(form)), e) => {
            form.saving = false;
            form.error = Some(e.to_string());
        }
        (_, e) => failed(app, e),
    }
    Vec::new()
}

/// Ticks (of [`TICK_MS`]) between automatic retries when the database is unreachable.
pub const RETRY_TICKS: u32 = 5_000 / TICK_MS as u32;

/// The loop's tick in milliseconds (spinner, retries).
pub const TICK_MS: u64 = 150;

/// A load worked again: the unreachable banner goes.
fn clear_unavailable(app: &mut App) {
    if app.retry_in.is_some()
        || app
            .banner
            .as_ref()
            .is_some_and(|b| b.text.starts_with("database unreachable"))
    {
        app.retry_in = None;
        app.banner = None;
    }
}

/// Shows a failure. A lost database keeps the last data on screen and retries by itself
/// every 5 seconds (or at once with `r`); a refused permission is never retried.
fn failed(app: &mut App, e: Failure) {
    match e {
        Failure::Unavailable => {
            app.error("database unreachable — last data shown · retrying in 5 s · r now");
            app.retry_in = Some(RETRY_TICKS);
        }
        e => app.error(e.to_string()),
    }
}

/// One tick of the loop: the spinner moves; a pending retry counts down and reloads the
/// view when it is due.
pub fn tick(app: &mut App) -> Vec<Command> {
    app.tick = app.tick.wrapping_add(1);
    match app.retry_in {
        Some(0) => {
            app.retry_in = None;
            key::refresh(app)
        }
        Some(n) => {
            app.retry_in = Some(n - 1);
            Vec::new()
        }
        None => Vec::new(),
    }
}

fn close_form(app: &mut App) {
    if matches!(app.dialog, Some(Dialog::Form(_))) {
        app.dialog = None;
    }
}

/// A deal change went through: update what is shown in place.
fn deal_changed(app: &mut App, what: &str, deal: &Deal) -> Vec<Command> {
    close_form(app);
    app.board.forget(deal.id);
    app.info(format!("“{}” {what}", fmt::fit(&deal.title, 40)));
    if let Some(board) = app.board.data.as_mut() {
        for col in &mut board.columns {
            for card in &mut col.cards {
                if card.id == deal.id {
                    card.version = deal.version;
                }
            }
        }
    }
    if deal.status != DealStatus::Open {
        app.board.remove_card(deal.id);
    }
    let mut cmds = Vec::new();
    if app.detail.deal_id == Some(deal.id) {
        cmds.push(Command::LoadDeal(deal.id));
    }
    if matches!(what, "reopened" | "saved") && app.board.data.is_some() {
        app.board.loading = true;
        cmds.push(Command::LoadBoard(
            app.board.data.as_ref().map(|b| b.pipeline_id),
        ));
    }
    cmds
}

/// What differs between the card as I saw it and the deal now.
fn conflict_changes(app: &App, seen: Option<&Card>, now: &Deal) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let Some(card) = seen else {
        return out;
    };
    let stage_name = app
        .board
        .data
        .as_ref()
        .and_then(|b| b.columns.iter().find(|c| c.stage_id == card.stage_id))
        .map(|c| c.name.clone());
    if card.stage_id != now.stage_id {
        out.push((
            "Stage".into(),
            stage_name.unwrap_or_else(|| "?".into()),
            now.stage.clone(),
        ));
    }
    if card.value != now.value || card.currency != now.currency {
        out.push((
            "Value".into(),
            fmt::money(card.value, &card.currency, app.german, true),
            fmt::money(now.value, &now.currency, app.german, true),
        ));
    }
    if card.title != now.title {
        out.push(("Title".into(), card.title.clone(), now.title.clone()));
    }
    if now.status != DealStatus::Open {
        out.push(("Status".into(), "open".into(), now.status.to_string()));
    }
    out
}

/// Records changed elsewhere: reload what shows them, unless a dialog is open (its data
/// would move under the user).
fn changed_elsewhere(app: &mut App, entities: &[String]) -> Vec<Command> {
    if app.dialog.is_some() {
        return Vec::new();
    }
    let touches = |e: &str| entities.iter().any(|x| x == e);
    let mut cmds = Vec::new();
    if (touches("deal") || touches("activity")) && app.board.data.is_some() && !app.board.loading {
        app.board.loading = true;
        cmds.push(Command::LoadBoard(
            app.board.data.as_ref().map(|b| b.pipeline_id),
        ));
    }
    if touches("activity") && app.view == View::Due {
        cmds.push(Command::LoadDue);
    }
    if matches!(app.view, View::Deal | View::Contact | View::Company) {
        cmds.extend(key::refresh(app));
    }
    cmds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Identity;

    #[test]
    fn an_unreachable_database_is_retried_by_itself_and_the_banner_goes_when_it_is_back() {
        let mut app = App::new(Identity::default(), chrono::NaiveDate::MIN);
        app.board.data = Some(crate::bench::synthetic_board(3));
        let cmds = apply(&mut app, Message::Board(Err(Failure::Unavailable)));
        assert!(cmds.is_empty());
        assert!(app.banner.as_ref().is_some_and(|b| b.error));
        assert!(app.board.data.is_some(), "the last data stays");
        let mut reloads = Vec::new();
        for _ in 0..=RETRY_TICKS {
            reloads.extend(tick(&mut app));
        }
        assert!(matches!(reloads.as_slice(), [Command::LoadBoard(_)]));
        apply(
            &mut app,
            Message::Board(Ok(crate::bench::synthetic_board(3))),
        );
        assert!(app.banner.is_none());
        assert_eq!(app.retry_in, None);
    }

    #[test]
    fn a_refused_permission_is_not_retried() {
        let mut app = App::new(Identity::default(), chrono::NaiveDate::MIN);
        apply(
            &mut app,
            Message::DealFailed(crm_core::DealId::new(), Failure::Denied("write".into())),
        );
        assert!(
            app.banner
                .as_ref()
                .is_some_and(|b| b.text.contains("permission denied"))
        );
        assert_eq!(app.retry_in, None);
    }
}
