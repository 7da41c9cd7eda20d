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

fn dupe_groups() -> Vec<crm_core::dedupe::Group> {
    use crm_core::dedupe::{Group, Kind, Member, Pair, Reason};
    let id = uuid::Uuid::from_u128;
    let member = |n: u128, name: &str| Member {
        id: id(n),
        name: name.to_string(),
        detail: Some(format!("{n}@example.de")),
        updated_at: chrono::DateTime::UNIX_EPOCH,
    };
    vec![
        Group {
            kind: Kind::Contact,
            score: 0.99,
            reasons: vec![Reason::Email, Reason::SameName],
            ids: vec![id(1), id(2), id(3)],
            members: vec![
                member(1, "Anna Müller"),
                member(2, "Anna Mueller"),
                member(3, "A. Müller"),
            ],
            pairs: vec![Pair {
                ids: [id(1), id(2)],
                score: 0.99,
                reasons: vec![Reason::Email],
            }],
        },
        Group {
            kind: Kind::Contact,
            score: 0.8,
            reasons: vec![Reason::SimilarName],
            ids: vec![id(4), id(5)],
            members: vec![member(4, "Jörg Weber"), member(5, "Jörg Webre")],
            pairs: Vec::new(),
        },
    ]
}

/// The duplicates view, opened from the palette, with its groups loaded.
fn dupes_app() -> App {
    use crm_core::dedupe::Kind;
    let mut a = app();
    handle_key(&mut a, press(KeyCode::Char(':')));
    chars(&mut a, "dup");
    let cmds = handle_key(&mut a, press(KeyCode::Enter));
    assert_eq!(a.view, View::Duplicates);
    assert!(
        matches!(cmds[..], [Command::LoadDuplicates(Kind::Contact)]),
        "{cmds:?}"
    );
    assert!(a.dupes.groups.loading);
    apply(
        &mut a,
        Message::Duplicates(Kind::Contact, Ok(dupe_groups())),
    );
    assert!(!a.dupes.groups.loading);
    a
}

#[test]
fn duplicates_open_a_group_choose_the_survivor_and_merge_after_confirming() {
    use crm_core::dedupe::Kind;
    let id = uuid::Uuid::from_u128;
    let mut a = dupes_app();
    handle_key(&mut a, press(KeyCode::Enter));
    assert!(a.dupes.open);
    assert_eq!(a.dupes.survivor, 0, "the oldest survives by default");
    // The second record becomes the survivor: it goes first, the others follow.
    handle_key(&mut a, press(KeyCode::Char('j')));
    handle_key(&mut a, press(KeyCode::Char('s')));
    assert_eq!(a.dupes.survivor, 1);
    assert!(handle_key(&mut a, press(KeyCode::Char('m'))).is_empty());
    let Some(Dialog::Merge { ids, survivor, .. }) = &a.dialog else {
        panic!("merge asks first: {:?}", a.dialog);
    };
    assert_eq!(ids, &[id(2), id(1), id(3)]);
    assert_eq!(survivor, "Anna Mueller");
    // Esc cancels: nothing runs.
    assert!(handle_key(&mut a, press(KeyCode::Esc)).is_empty());
    assert!(a.dialog.is_none());
    handle_key(&mut a, press(KeyCode::Char('m')));
    let cmds = handle_key(&mut a, press(KeyCode::Enter));
    match &cmds[..] {
        [Command::Merge { kind, ids }] => {
            assert_eq!(*kind, Kind::Contact);
            assert_eq!(ids, &[id(2), id(1), id(3)]);
        }
        other => panic!("{other:?}"),
    }
    assert!(a.dialog.is_none());
    // Esc goes back from the group to the list.
    handle_key(&mut a, press(KeyCode::Esc));
    assert!(!a.dupes.open);
    assert_eq!(a.view, View::Duplicates);
}

#[test]
fn duplicates_not_a_duplicate_marks_the_selected_record_against_the_survivor() {
    use crm_core::dedupe::Kind;
    let id = uuid::Uuid::from_u128;
    let mut a = dupes_app();
    handle_key(&mut a, press(KeyCode::Char('j')));
    handle_key(&mut a, press(KeyCode::Enter));
    // On the survivor itself: nothing, with a hint.
    assert!(handle_key(&mut a, press(KeyCode::Char('n'))).is_empty());
    assert!(a.banner.is_some());
    handle_key(&mut a, press(KeyCode::Char('j')));
    let cmds = handle_key(&mut a, press(KeyCode::Char('n')));
    assert!(
        matches!(cmds[..], [Command::Dismiss { kind: Kind::Contact, a: x, b: y }] if x == id(4) && y == id(5)),
        "{cmds:?}"
    );
    // The answer reloads the groups.
    let cmds = apply(&mut a, Message::Dismissed(Ok(true)));
    assert!(
        matches!(cmds[..], [Command::LoadDuplicates(Kind::Contact)]),
        "{cmds:?}"
    );
}

#[test]
fn duplicates_switch_to_companies_and_drop_a_late_contact_answer() {
    use crm_core::dedupe::Kind;
    let mut a = dupes_app();
    let cmds = handle_key(&mut a, press(KeyCode::Char('t')));
    assert_eq!(a.dupes.kind, Kind::Company);
    assert!(
        matches!(cmds[..], [Command::LoadDuplicates(Kind::Company)]),
        "{cmds:?}"
    );
    assert!(a.dupes.groups.items.is_empty());
    apply(
        &mut a,
        Message::Duplicates(Kind::Contact, Ok(dupe_groups())),
    );
    assert!(
        a.dupes.groups.items.is_empty(),
        "a contact answer is out of date"
    );
    assert!(a.dupes.groups.loading);
}

#[test]
fn a_merge_reports_how_to_undo_it_and_reloads_the_groups() {
    use crm_core::dedupe::{Kind, MergeOutcome};
    let id = uuid::Uuid::from_u128;
    let mut a = dupes_app();
    handle_key(&mut a, press(KeyCode::Enter));
    let outcome = MergeOutcome {
        merge_id: Some(id(99)),
        kind: Kind::Contact,
        survivor_id: id(1),
        merged_ids: vec![id(2), id(3)],
        taken: Default::default(),
        moved: Default::default(),
        versions: Default::default(),
        dry_run: false,
        record: serde_json::Value::Null,
    };
    let cmds = apply(&mut a, Message::Merged(Box::new(Ok(outcome))));
    assert!(!a.dupes.open);
    let banner = a
        .banner
        .as_ref()
        .map(|b| b.text.clone())
        .unwrap_or_default();
    assert!(
        banner.contains("merged 3") && banner.contains(&format!("crm contact unmerge {}", id(99))),
        "{banner}"
    );
    assert!(
        matches!(cmds[..], [Command::LoadDuplicates(Kind::Contact)]),
        "{cmds:?}"
    );
}
