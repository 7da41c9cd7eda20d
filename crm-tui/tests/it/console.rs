//! The console's logic against a real database seeded like `crm demo`: keys go through
//! `handle_key`, the commands they return run against crm-core and their messages go
//! through `update::apply`, exactly as the loop does, one after another.

use crm_core::Scope;
use crm_core::domain::DealStatus;
use crm_core::store::deal::{self, DealPatch};
use crm_core::testing::TestDb;
use crm_tools::demo;
use crm_tui::app::{App, Dialog, Identity, View};
use crm_tui::command::{Command, execute};
use crm_tui::key::handle_key;
use crm_tui::update::apply;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub async fn seeded() -> (TestDb, Scope) {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Demo Handels GmbH").await;
    demo::seed(&db.crm.scope(org, owner), 60)
        .await
        .expect("demo data");
    let (katrin, _) = db
        .crm
        .user_by_email(org, "katrin.weiss@vertrieb.example")
        .await
        .expect("the demo's sales manager");
    let scope = db.crm.scope(org, katrin);
    (db, scope)
}

/// Runs commands and the follow-ups their messages ask for until none is left.
async fn settle(app: &mut App, scope: &Scope, mut cmds: Vec<Command>) {
    while !cmds.is_empty() {
        let cmd = cmds.remove(0);
        let msg = execute(scope, cmd).await;
        cmds.extend(apply(app, msg));
    }
}

async fn keys(app: &mut App, scope: &Scope, codes: &[KeyCode]) {
    for code in codes {
        let cmds = handle_key(app, KeyEvent::from(*code));
        settle(app, scope, cmds).await;
    }
}

async fn console(scope: &Scope) -> App {
    let mut app = App::new(
        Identity {
            org: "Demo Handels GmbH".into(),
            user: "katrin.weiss@vertrieb.example".into(),
            role: "manager".into(),
            id: Some(scope.actor()),
        },
        chrono::Local::now().date_naive(),
    );
    settle(
        &mut app,
        scope,
        vec![Command::LoadBoard(None), Command::LoadLostReasons],
    )
    .await;
    app
}

#[tokio::test]
async fn moving_a_deal_on_the_board_is_saved_and_audited_as_the_user() {
    let (_db, scope) = seeded().await;
    let mut app = console(&scope).await;
    let board = app.board.data.as_ref().expect("board loaded");
    assert!(board.columns.len() >= 2);
    let col = app
        .board
        .visible
        .iter()
        .position(|v| !v.is_empty())
        .expect("an open deal");
    app.board.col = col;
    let card = app.board.selected().unwrap().clone();
    let target = app.board.stage(col + 1).map(|(s, _)| s);
    keys(&mut app, &scope, &[KeyCode::Char('L')]).await;
    let Some(target) = target else { return };
    let stored = scope
        .run(async |tx| deal::get(tx, card.id).await)
        .await
        .unwrap();
    assert_eq!(stored.stage_id, target);
    assert_eq!(app.board.selected().map(|c| c.id), Some(card.id));
    assert_eq!(
        app.board.selected().map(|c| c.version),
        Some(stored.version),
        "the card carries the new version"
    );
    let log = scope
        .run(async |tx| {
            crm_core::audit::log(
                tx,
                &crm_core::audit::AuditFilter {
                    entity_id: Some(card.id.uuid()),
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    let moved = log.iter().find(|e| e.action == "move").expect("audited");
    assert_eq!(moved.actor_id, Some(scope.actor()));
    // The board draws at 80×24 with the moved card in its new column.
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| crm_tui::view::draw(&app, f)).unwrap();
}

#[tokio::test]
async fn a_stale_card_shows_a_conflict_and_can_be_applied_to_the_new_version() {
    let (_db, scope) = seeded().await;
    let mut app = console(&scope).await;
    app.board.col = app
        .board
        .visible
        .iter()
        .position(|v| !v.is_empty())
        .unwrap();
    let card = app.board.selected().unwrap().clone();
    // Someone else changes the deal after the board was read.
    scope
        .run(async |tx| {
            deal::update(
                tx,
                card.id,
                DealPatch {
                    version: card.version,
                    value: Some("99999".into()),
                    ..DealPatch::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    keys(&mut app, &scope, &[KeyCode::Char('w')]).await;
    let Some(Dialog::Conflict { changes, .. }) = &app.dialog else {
        panic!("expected the conflict dialog, got {:?}", app.dialog);
    };
    assert!(
        changes
            .iter()
            .any(|(field, _, now)| field == "Value" && now.contains("99"))
    );
    let still = scope
        .run(async |tx| deal::get(tx, card.id).await)
        .await
        .unwrap();
    assert_eq!(still.status, DealStatus::Open, "nothing was overwritten");
    keys(&mut app, &scope, &[KeyCode::Char('f')]).await;
    let won = scope
        .run(async |tx| deal::get(tx, card.id).await)
        .await
        .unwrap();
    assert_eq!(won.status, DealStatus::Won);
    assert_eq!(
        won.value.to_string(),
        "99999.00",
        "the other change is kept"
    );
}

#[tokio::test]
async fn losing_a_deal_needs_a_reason_from_the_list() {
    let (_db, scope) = seeded().await;
    let mut app = console(&scope).await;
    assert!(!app.lost_reasons.is_empty());
    app.board.col = app
        .board
        .visible
        .iter()
        .position(|v| !v.is_empty())
        .unwrap();
    let id = app.board.selected().unwrap().id;
    let mut codes = vec![KeyCode::Char('x'), KeyCode::Down, KeyCode::Tab];
    codes.extend("zu spät".chars().map(KeyCode::Char));
    codes.push(KeyCode::Enter);
    keys(&mut app, &scope, &codes).await;
    let lost = scope.run(async |tx| deal::get(tx, id).await).await.unwrap();
    assert_eq!(lost.status, DealStatus::Lost);
    assert_eq!(
        lost.lost_reason.as_deref(),
        Some(app.lost_reasons[1].key.as_str())
    );
    assert_eq!(lost.lost_reason_text.as_deref(), Some("zu spät"));
    assert!(
        app.board.selected().is_none_or(|c| c.id != id),
        "gone from the board"
    );
}

#[tokio::test]
async fn search_finds_a_misspelled_umlaut_name_and_opens_the_contact() {
    let (_db, scope) = seeded().await;
    let mut app = console(&scope).await;
    let mut codes = vec![KeyCode::Char('2')];
    codes.extend("Jurgen Muler".chars().map(KeyCode::Char));
    keys(&mut app, &scope, &codes).await;
    let hit = app.search.hits.items.first().expect("a hit");
    assert_eq!(hit.name, "Jürgen Müller");
    keys(&mut app, &scope, &[KeyCode::Enter]).await;
    assert_eq!(app.view, View::Contact);
    let c = app.detail.contact.as_ref().expect("contact loaded");
    assert_eq!(c.contact.last_name, "Müller");
    assert!(!c.deals.is_empty(), "the demo gives Jürgen deals");
}

#[tokio::test]
async fn an_activity_added_with_a_due_time_shows_up_as_due_and_can_be_done() {
    let (_db, scope) = seeded().await;
    let mut app = console(&scope).await;
    app.board.col = app
        .board
        .visible
        .iter()
        .position(|v| !v.is_empty())
        .unwrap();
    let mut codes = vec![KeyCode::Char('a'), KeyCode::Tab];
    codes.extend("Rückruf".chars().map(KeyCode::Char));
    codes.push(KeyCode::Tab);
    codes.extend(std::iter::repeat_n(KeyCode::Backspace, 8));
    codes.extend("now".chars().map(KeyCode::Char));
    codes.push(KeyCode::Enter);
    keys(&mut app, &scope, &codes).await;
    assert!(app.dialog.is_none(), "saved: {:?}", app.dialog);
    keys(&mut app, &scope, &[KeyCode::Char('3')]).await;
    let pos = app
        .due
        .items
        .iter()
        .position(|a| a.subject == "Rückruf")
        .expect("due today, assigned to me");
    app.due.selected = pos;
    let id = app.due.items[pos].id;
    keys(&mut app, &scope, &[KeyCode::Char(' ')]).await;
    let a = scope
        .run(async |tx| crm_core::store::activity::get(tx, id).await)
        .await
        .unwrap();
    assert!(a.done_at.is_some());
    assert!(
        app.due.items.iter().all(|x| x.id != id),
        "gone from the due list"
    );
}

#[tokio::test]
async fn field_errors_from_crm_core_show_under_the_field() {
    let (_db, scope) = seeded().await;
    let mut app = console(&scope).await;
    let mut codes = vec![KeyCode::Char('2'), KeyCode::Esc, KeyCode::Char('n')];
    codes.extend("Eva".chars().map(KeyCode::Char));
    codes.push(KeyCode::Tab);
    codes.push(KeyCode::Tab);
    codes.extend("not-an-address".chars().map(KeyCode::Char));
    codes.push(KeyCode::Enter);
    keys(&mut app, &scope, &codes).await;
    let Some(Dialog::Form(form)) = &app.dialog else {
        panic!("the form stays open");
    };
    assert!(form.fields[2].error.is_some(), "{form:?}");
    assert_eq!(form.focus, 2);
}

#[tokio::test]
async fn duplicates_are_merged_after_confirming_and_a_dismissed_pair_is_not_proposed_again() {
    use crm_core::store::contact::{self, NewContact};
    let (_db, scope) = seeded().await;
    let person = |first: &str, last: &str, email: &str| NewContact {
        first_name: first.into(),
        last_name: last.into(),
        email: Some(email.into()),
        phone: Some("+49 171 5550123".into()),
        ..NewContact::default()
    };
    let (a, b, c) = scope
        .run(async |tx| {
            let a = contact::create(tx, person("Quirin", "Zauberstab", "qz@one.example")).await?;
            let b = contact::create(tx, person("Quirin", "Zauberstba", "qz@two.example")).await?;
            let c = contact::create(tx, person("Xaver", "Quellwasser", "xq@one.example")).await?;
            let d = contact::create(tx, person("Xaver", "Quellwassre", "xq@two.example")).await?;
            let _ = d;
            Ok((a.id.uuid(), b.id.uuid(), c.id.uuid()))
        })
        .await
        .unwrap();
    let mut app = console(&scope).await;
    let mut codes = vec![KeyCode::Char(':')];
    codes.extend("duplicates".chars().map(KeyCode::Char));
    codes.push(KeyCode::Enter);
    keys(&mut app, &scope, &codes).await;
    assert_eq!(app.view, View::Duplicates);
    let pos = |app: &App, id: uuid::Uuid| {
        app.dupes
            .groups
            .items
            .iter()
            .position(|g| g.ids.contains(&id))
    };
    // Select the Zauberstab group, open it, make the newer record the survivor, merge.
    let i = pos(&app, a).expect("the planted pair is proposed");
    app.dupes.groups.selected = i;
    keys(&mut app, &scope, &[KeyCode::Enter, KeyCode::Char('j')]).await;
    let newer = app.dupes.group().unwrap().ids[1];
    let older = app.dupes.group().unwrap().ids[0];
    keys(&mut app, &scope, &[KeyCode::Char('s'), KeyCode::Char('m')]).await;
    assert!(matches!(app.dialog, Some(Dialog::Merge { .. })));
    keys(&mut app, &scope, &[KeyCode::Enter]).await;
    let banner = app.banner.as_ref().expect("a banner").text.clone();
    assert!(banner.contains("unmerge"), "{banner}");
    assert!(pos(&app, a).is_none(), "merged: no longer proposed");
    let (kept, gone) = scope
        .run(async |tx| {
            Ok((
                contact::get_including_deleted(tx, newer.into()).await?,
                contact::get_including_deleted(tx, older.into()).await?,
            ))
        })
        .await
        .unwrap();
    assert!(kept.deleted_at.is_none(), "the chosen survivor is kept");
    assert!(gone.deleted_at.is_some(), "the other is a tombstone");
    assert!([a, b].contains(&newer));

    // The Quellwasser pair: not a duplicate, never proposed again.
    let i = pos(&app, c).expect("the second pair is proposed");
    app.dupes.groups.selected = i;
    keys(
        &mut app,
        &scope,
        &[KeyCode::Enter, KeyCode::Char('j'), KeyCode::Char('n')],
    )
    .await;
    assert!(pos(&app, c).is_none(), "dismissed: no longer proposed");
}
