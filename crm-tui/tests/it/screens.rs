//! Screens as `insta` snapshots over `TestBackend` at 80×24 and 120×40. The fixtures use
//! fixed dates and a fixed "today", and no id is ever drawn, so nothing needs filtering.

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use crm_core::console::DealDetail;
use crm_core::domain::{ActivityType, DealStatus, OwnerRole};
use crm_core::search::Hit;
use crm_core::store::activity::Activity;
use crm_core::store::deal::{Deal, StageChange};
use crm_core::store::list::ListEntry;
use crm_core::store::owner::Owner;
use crm_core::{ActivityId, DealId, ListEntryId};
use crm_tui::app::{App, Dialog, Identity, View};
use crm_tui::bench::synthetic_board;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rust_decimal::Decimal;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
}

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
}

fn app() -> App {
    let mut app = App::new(
        Identity {
            org: "Demo Handels GmbH".into(),
            user: "anna@demo.de".into(),
            role: "manager".into(),
            id: None,
        },
        today(),
    );
    app.color = false;
    app.german = true;
    // Times are shown in the local zone: fix it so snapshots match on every machine.
    app.zone = crm_core::domain::Zone::parse("Europe/Berlin").unwrap();
    app.board.data = Some(synthetic_board(40));
    app.board.refilter();
    app.lost_reasons = [
        ("price", "Preis"),
        ("competitor", "Wettbewerber"),
        ("no_budget", "Kein Budget"),
        ("timing", "Zeitpunkt"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (k, de))| ListEntry {
        id: ListEntryId::new(),
        key: k.to_string(),
        label_en: k.to_string(),
        label_de: de.to_string(),
        position: i as i32,
        active: true,
    })
    .collect();
    app
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| crm_tui::view::draw(app, f)).unwrap();
    let buf = term.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn snap(name: &str, app: &App) {
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(app, w, h));
    }
}

fn deal(board: &crm_core::console::Board) -> Deal {
    let stage = board.columns[2].stage_id;
    Deal {
        id: DealId::new(),
        title: "Rahmenvertrag 2027".into(),
        value: Decimal::new(1_250_000, 2),
        currency: "EUR".into(),
        pipeline_id: board.pipeline_id,
        pipeline: "Vertrieb DACH".into(),
        stage_id: stage,
        stage: "Angebot".into(),
        probability: Decimal::from(40),
        contact_id: None,
        contact: Some("Jürgen Müller".into()),
        company_id: None,
        company: Some("Müller Maschinenbau GmbH".into()),
        status: DealStatus::Open,
        lost_reason: None,
        lost_reason_text: None,
        expected_close_date: NaiveDate::from_ymd_opt(2026, 11, 30),
        closed_at: None,
        owners: vec![Owner {
            user_id: board.users[0].id,
            role: OwnerRole::Owner,
        }],
        custom: serde_json::json!({}),
        version: 3,
        created_at: at(2, 9),
        updated_at: at(20, 9),
        deleted_at: None,
    }
}

fn activity(
    subject: &str,
    kind: ActivityType,
    due: DateTime<Utc>,
    overdue: bool,
    done: bool,
) -> Activity {
    Activity {
        id: ActivityId::new(),
        kind,
        subject: subject.into(),
        body: None,
        due_at: Some(due),
        done_at: done.then_some(due),
        overdue,
        assignee_id: None,
        assignee: Some("Anna Schmidt".into()),
        contact_id: None,
        contact: Some("Jürgen Müller".into()),
        company_id: None,
        company: Some("Müller Maschinenbau GmbH".into()),
        deal_id: None,
        deal: Some("Rahmenvertrag 2027".into()),
        version: 1,
        created_at: at(1, 9),
        updated_at: at(1, 9),
        deleted_at: None,
    }
}

fn with_deal(mut app: App) -> App {
    let board = synthetic_board(1);
    let d = deal(&board);
    let history = [
        (None, "Lead", 2),
        (Some("Lead"), "Qualifiziert", 9),
        (Some("Qualifiziert"), "Angebot", 20),
    ]
    .iter()
    .map(|(from, to, day)| StageChange {
        id: uuid::Uuid::nil(),
        from_stage_id: None,
        from_stage: from.map(str::to_string),
        to_stage_id: None,
        to_stage: Some(to.to_string()),
        moved_at: at(*day, 10),
        actor_id: Some(board.users[0].id),
    })
    .collect();
    app.detail.deal_id = Some(d.id);
    app.detail.deal = Some(DealDetail {
        deal: d,
        history,
        activities: vec![
            activity(
                "Angebot nachfassen",
                ActivityType::Call,
                at(28, 10),
                true,
                false,
            ),
            activity(
                "Angebot geschickt",
                ActivityType::Email,
                at(20, 11),
                false,
                true,
            ),
        ],
        stages: Vec::new(),
        users: board.users,
    });
    app.back.push(View::Board);
    app.view = View::Deal;
    app
}

#[test]
fn board() {
    snap("board", &app());
}

#[test]
fn board_filtered_with_a_stage_selected() {
    let mut a = app();
    a.board.filter.input = "#vip".into();
    a.board.refilter();
    a.board.col = 3;
    a.board.rows[3] = 1;
    snap("board_filtered", &a);
}

#[test]
fn deal_detail() {
    snap("deal", &with_deal(app()));
}

#[test]
fn lose_dialog() {
    let mut a = with_deal(app());
    a.dialog = Some(Dialog::Lose {
        id: DealId::new(),
        title: "Rahmenvertrag 2027".into(),
        version: 3,
        reason: 1,
        note: "kam 10 % günstiger".into(),
        in_note: true,
        error: None,
    });
    snap("lose", &a);
}

#[test]
fn conflict_dialog() {
    let mut a = app();
    a.dialog = Some(Dialog::Conflict {
        attempted: "Move to \"Vertrag\"".into(),
        id: DealId::new(),
        version: 4,
        changes: vec![
            ("Stage".into(), "Angebot".into(), "Verhandlung".into()),
            ("Value".into(), "8.900,00 €".into(), "9.400,00 €".into()),
        ],
        at: Some("02.12. 10:42".into()),
        retry: Some(crm_tui::app::Retry::Win),
    });
    snap("conflict", &a);
}

#[test]
fn search_results() {
    let mut a = app();
    a.view = View::Search;
    a.search.query = "Mülller".into();
    a.search.editing = true;
    a.search.hits.set(
        [
            (
                "contact",
                "Jürgen Müller",
                Some("j.mueller@mueller-maschinenbau.de"),
                0.82,
            ),
            ("company", "Müller Maschinenbau GmbH", None, 0.74),
            (
                "contact",
                "Petra Mueller",
                Some("petra@kanzlei-mueller.de"),
                0.7,
            ),
        ]
        .iter()
        .map(|(k, n, e, s)| Hit {
            kind: k.to_string(),
            id: uuid::Uuid::nil(),
            name: n.to_string(),
            email: e.map(str::to_string),
            score: *s,
        })
        .collect(),
    );
    snap("search", &a);
}

#[test]
fn due_list() {
    let mut a = app();
    a.view = View::Due;
    a.due.set(vec![
        activity(
            "Angebot nachfassen",
            ActivityType::Call,
            at(28, 10),
            true,
            false,
        ),
        activity(
            "Vertrag prüfen lassen",
            ActivityType::Task,
            at(30, 14),
            true,
            false,
        ),
        activity(
            "Termin vor Ort",
            ActivityType::Meeting,
            Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap(),
            false,
            false,
        ),
    ]);
    a.due.selected = 1;
    snap("due", &a);
}

#[test]
fn help() {
    let mut a = app();
    a.dialog = Some(Dialog::Help);
    snap("help", &a);
}

#[test]
fn error_banner_keeps_the_last_data() {
    let mut a = app();
    a.error("database unreachable — last data shown · r to retry");
    snap("error_banner", &a);
}

#[test]
fn palette() {
    let mut a = app();
    a.dialog = Some(Dialog::Palette {
        input: "pi".into(),
        selected: 0,
    });
    snap("palette", &a);
}

/// Issue 14, item 9: control characters stored in a name or subject are drawn as visible
/// escapes, not dropped silently or sent to the terminal.
#[test]
fn stored_control_characters_are_drawn_as_escapes() {
    let mut app = with_deal(app());
    let evil = "Mal\u{1b}]0;pwned\u{7}lory";
    let detail = app.detail.deal.as_mut().unwrap();
    detail.deal.contact = Some(evil.into());
    detail.activities[0].subject = evil.into();
    let screen = render(&app, 120, 40);
    assert!(
        !screen.contains('\u{1b}') && !screen.contains('\u{7}'),
        "{screen}"
    );
    assert!(
        screen.matches("Mal\\u{1b}]0;pwned\\u{7}lory").count() >= 2,
        "{screen}"
    );
}

fn duplicate_groups() -> Vec<crm_core::dedupe::Group> {
    use crm_core::dedupe::{Group, Kind, Member, Reason};
    let member = |n: u128, name: &str, detail: &str| Member {
        id: uuid::Uuid::from_u128(n),
        name: name.into(),
        detail: Some(detail.into()),
        updated_at: at(n as u32, 9),
    };
    vec![
        Group {
            kind: Kind::Contact,
            score: 0.99,
            reasons: vec![Reason::Email, Reason::SameName],
            ids: (1..=3).map(uuid::Uuid::from_u128).collect(),
            members: vec![
                member(1, "Anna Müller", "anna.mueller@nordlicht.de"),
                member(2, "Anna Mueller", "a.mueller@gmx.de"),
                member(3, "A. Müller", "anna.mueller@nordlicht.de"),
            ],
            pairs: Vec::new(),
        },
        Group {
            kind: Kind::Contact,
            score: 0.85,
            reasons: vec![Reason::SimilarName, Reason::SameCompany],
            ids: (4..=5).map(uuid::Uuid::from_u128).collect(),
            members: vec![
                member(4, "Jörg Schneider", "j.schneider@eifel-logistik.de"),
                member(5, "Jörg Schnieder", "joerg.schnieder@eifel-logistik.de"),
            ],
            pairs: Vec::new(),
        },
    ]
}

#[test]
fn duplicates_list() {
    let mut a = app();
    a.view = View::Duplicates;
    a.dupes.groups.set(duplicate_groups());
    a.dupes.groups.selected = 1;
    snap("duplicates", &a);
}

#[test]
fn duplicates_group_with_the_merge_confirmation() {
    let mut a = app();
    a.view = View::Duplicates;
    a.dupes.groups.set(duplicate_groups());
    a.dupes.open = true;
    a.dupes.member = 1;
    a.dupes.survivor = 1;
    snap("duplicates_group", &a);
    a.dialog = Some(Dialog::Merge {
        kind: crm_core::dedupe::Kind::Contact,
        ids: a.dupes.merge_ids(),
        survivor: "Anna Mueller".into(),
    });
    snap("duplicates_merge", &a);
}
