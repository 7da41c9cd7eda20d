//! Key handling: every binding a user relies on, without a database.

use chrono::NaiveDate;
use crm_core::ListEntryId;
use crm_core::search::Hit;
use crm_core::store::list::ListEntry;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::handle_key;
use crate::app::{App, Dialog, Identity, View};
use crate::command::{Command, Message};
use crate::update::apply;

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn chars(app: &mut App, s: &str) -> Vec<Command> {
    s.chars()
        .flat_map(|c| handle_key(app, press(KeyCode::Char(c))))
        .collect()
}

fn app() -> App {
    let mut app = App::new(
        Identity::default(),
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
    );
    app.board.data = Some(crate::bench::synthetic_board(12));
    app.board.refilter();
    app.lost_reasons = ["price", "competitor", "no_budget"]
        .iter()
        .enumerate()
        .map(|(i, k)| ListEntry {
            id: ListEntryId::new(),
            key: k.to_string(),
            label_en: k.to_string(),
            label_de: k.to_string(),
            position: i as i32,
            active: true,
        })
        .collect();
    app
}

#[test]
fn quit_keys_and_only_presses_count() {
    let mut a = app();
    let mut release = press(KeyCode::Char('q'));
    release.kind = KeyEventKind::Release;
    handle_key(&mut a, release);
    assert!(!a.quit, "a key release does nothing");
    handle_key(&mut a, press(KeyCode::Char('q')));
    assert!(a.quit);
    let mut a = app();
    handle_key(
        &mut a,
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
    );
    assert!(a.quit);
}

#[test]
fn board_navigation_stays_in_range() {
    let mut a = app();
    handle_key(&mut a, press(KeyCode::Char('h')));
    assert_eq!(a.board.col, 0);
    for _ in 0..10 {
        handle_key(&mut a, press(KeyCode::Char('l')));
    }
    assert_eq!(a.board.col, 5, "six stages");
    for _ in 0..5 {
        handle_key(&mut a, press(KeyCode::Char('j')));
    }
    assert_eq!(a.board.rows[5], 1, "two cards in the last stage");
    chars(&mut a, "gg");
    assert_eq!(a.board.rows[5], 0);
    handle_key(&mut a, press(KeyCode::Char('G')));
    assert_eq!(a.board.rows[5], 1);
}

#[test]
fn shift_l_moves_the_card_at_once_and_asks_for_a_checked_move() {
    let mut a = app();
    let card = a.board.selected().unwrap().clone();
    let target = a.board.stage(1).unwrap().0;
    let cmds = handle_key(&mut a, press(KeyCode::Char('L')));
    match cmds.as_slice() {
        [
            Command::Move {
                id, stage, version, ..
            },
        ] => {
            assert_eq!((*id, *stage, *version), (card.id, target, card.version));
        }
        other => panic!("expected one move, got {other:?}"),
    }
    assert_eq!(a.board.col, 1, "the selection follows the card");
    assert_eq!(a.board.selected().unwrap().id, card.id);
    let shifted = KeyEvent::new(KeyCode::Left, KeyModifiers::SHIFT);
    assert!(matches!(
        handle_key(&mut a, shifted).as_slice(),
        [Command::Move { .. }]
    ));
    assert_eq!(a.board.col, 0);
    assert!(
        handle_key(&mut a, press(KeyCode::Char('H'))).is_empty(),
        "no stage before the first"
    );
}

#[test]
fn m_then_a_number_moves_to_that_stage() {
    let mut a = app();
    let target = a.board.stage(3).unwrap().0;
    assert!(chars(&mut a, "m").is_empty());
    let cmds = chars(&mut a, "4");
    assert!(matches!(cmds.as_slice(), [Command::Move { stage, .. }] if *stage == target));
    assert_eq!(a.view, View::Board, "the digit did not switch tabs");
}

#[test]
fn win_and_lose_with_a_reason() {
    let mut a = app();
    let first = a.board.selected().unwrap().id;
    let cmds = chars(&mut a, "w");
    assert!(matches!(cmds.as_slice(), [Command::Win { id, .. }] if *id == first));
    assert_ne!(
        a.board.selected().map(|c| c.id),
        Some(first),
        "a won deal leaves the board"
    );

    let second = a.board.selected().unwrap().id;
    chars(&mut a, "x");
    assert!(matches!(a.dialog, Some(Dialog::Lose { .. })));
    chars(&mut a, "j");
    handle_key(&mut a, press(KeyCode::Tab));
    chars(&mut a, "zu teuer");
    let cmds = handle_key(&mut a, press(KeyCode::Enter));
    match cmds.as_slice() {
        [
            Command::Lose {
                id, reason, note, ..
            },
        ] => {
            assert_eq!(*id, second);
            assert_eq!(reason, "competitor");
            assert_eq!(note.as_deref(), Some("zu teuer"));
        }
        other => panic!("expected a lose, got {other:?}"),
    }
    assert!(a.dialog.is_none());

    chars(&mut a, "x");
    handle_key(&mut a, press(KeyCode::Esc));
    assert!(a.dialog.is_none(), "Esc cancels the lose dialog");
}

#[test]
fn filter_by_owner_tag_and_text() {
    let mut a = app();
    let all: usize = a.board.visible.iter().map(Vec::len).sum();
    chars(&mut a, "/#vip");
    let vip: usize = a.board.visible.iter().map(Vec::len).sum();
    assert_eq!((all, vip), (12, 4));
    handle_key(&mut a, press(KeyCode::Enter));
    assert!(!a.board.filter_editing);
    chars(&mut a, "/");
    for _ in 0..4 {
        handle_key(&mut a, press(KeyCode::Backspace));
    }
    chars(&mut a, "@AS");
    let anna: usize = a.board.visible.iter().map(Vec::len).sum();
    assert_eq!(anna, 4, "every third deal is Anna Schmidt's");
    handle_key(&mut a, press(KeyCode::Esc));
    assert_eq!(a.board.visible.iter().map(Vec::len).sum::<usize>(), 12);
}

#[test]
fn search_as_you_type_runs_one_query_at_a_time_for_the_newest_text() {
    let mut a = app();
    chars(&mut a, "2");
    assert_eq!(a.view, View::Search);
    assert!(a.search.editing);
    let cmds = chars(&mut a, "Mü");
    assert!(
        matches!(cmds.as_slice(), [Command::Search { seq: 1, query }] if query == "M"),
        "one search at a time: {cmds:?}"
    );
    let hit = |name: &str| Hit {
        kind: "contact".into(),
        id: uuid_of(1),
        name: name.into(),
        email: None,
        score: 1.0,
    };
    let next = apply(&mut a, Message::Hits(1, Ok(vec![hit("old")])));
    assert!(
        matches!(next.as_slice(), [Command::Search { seq: 2, query }] if query == "Mü"),
        "the newest text is asked for when the running query returns"
    );
    assert!(
        a.search.hits.items.is_empty(),
        "no answer for an older text is shown"
    );
    apply(&mut a, Message::Hits(2, Ok(vec![hit("new")])));
    assert_eq!(a.search.hits.items[0].name, "new");
    let cmds = handle_key(&mut a, press(KeyCode::Enter));
    assert_eq!(a.view, View::Contact);
    assert!(matches!(cmds.as_slice(), [Command::LoadContact(_)]));
    handle_key(&mut a, press(KeyCode::Esc));
    assert_eq!(a.view, View::Search);
}

fn uuid_of(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}

#[test]
fn palette_jumps_fuzzily() {
    let mut a = app();
    chars(&mut a, ":");
    chars(&mut a, "actv");
    let cmds = handle_key(&mut a, press(KeyCode::Enter));
    assert_eq!(a.view, View::Due);
    assert!(matches!(cmds.as_slice(), [Command::LoadDue]));
    assert!(a.dialog.is_none());
}

#[test]
fn help_opens_and_closes() {
    let mut a = app();
    chars(&mut a, "?");
    assert!(matches!(a.dialog, Some(Dialog::Help)));
    chars(&mut a, "j");
    assert!(
        matches!(a.dialog, Some(Dialog::Help)),
        "other keys keep it open"
    );
    handle_key(&mut a, press(KeyCode::Esc));
    assert!(a.dialog.is_none());
}

#[test]
fn enter_opens_the_deal_and_esc_returns_to_a_fresh_board() {
    let mut a = app();
    let id = a.board.selected().unwrap().id;
    let cmds = handle_key(&mut a, press(KeyCode::Enter));
    assert!(matches!(cmds.as_slice(), [Command::LoadDeal(d)] if *d == id));
    assert_eq!(a.view, View::Deal);
    let cmds = handle_key(&mut a, press(KeyCode::Esc));
    assert_eq!(a.view, View::Board);
    assert!(matches!(cmds.as_slice(), [Command::LoadBoard(Some(_))]));
}

#[test]
fn an_unreadable_due_time_is_reported_on_its_field() {
    let mut a = app();
    chars(&mut a, "a");
    let Some(Dialog::Form(form)) = &a.dialog else {
        panic!("no form");
    };
    assert_eq!(form.value("kind"), "task");
    handle_key(&mut a, press(KeyCode::Tab));
    chars(&mut a, "Angebot nachfassen");
    handle_key(&mut a, press(KeyCode::Tab));
    for _ in 0.."tomorrow".len() {
        handle_key(&mut a, press(KeyCode::Backspace));
    }
    chars(&mut a, "someday");
    let cmds = handle_key(&mut a, press(KeyCode::Enter));
    assert!(cmds.is_empty());
    let Some(Dialog::Form(form)) = &a.dialog else {
        panic!("the form stays open");
    };
    assert!(form.fields[2].error.is_some());
    for _ in 0.."someday".len() {
        handle_key(&mut a, press(KeyCode::Backspace));
    }
    chars(&mut a, "+2d");
    let cmds = handle_key(&mut a, press(KeyCode::Enter));
    assert!(
        matches!(cmds.as_slice(), [Command::CreateActivity(n)] if n.deal_id.is_some() && n.due_at.is_some())
    );
}

#[test]
fn tabs_switch_views_and_keep_the_board_selection() {
    let mut a = app();
    chars(&mut a, "lj");
    chars(&mut a, "3");
    assert_eq!(a.view, View::Due);
    handle_key(&mut a, press(KeyCode::Tab));
    assert_eq!(a.view, View::Board);
    assert_eq!((a.board.col, a.board.rows[1]), (1, 1));
}
