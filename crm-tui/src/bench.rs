//! `crm-tui --bench`: the console's speed. Time per frame of a board with 10,000 open deals
//! (drawn over ratatui's `TestBackend`, no terminal needed); with a database, the time from
//! connecting to the first full board and the keystroke-to-results latency of search as
//! you type. Prints figures; never fails on time.

use std::time::{Duration, Instant};

use chrono::{Local, NaiveDate};
use crm_core::console::{self, Board, Card, Column, Person};
use crm_core::search;
use crm_core::{Crm, DealId, LocalCluster, PipelineId, StageId, UserId};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rust_decimal::Decimal;

use crate::app::{App, Identity};
use crate::key::handle_key;

/// A board of `deals` open deals over six stages, as crm-core would load it.
pub fn synthetic_board(deals: usize) -> Board {
    let users: Vec<Person> = ["Anna Schmidt", "Ben Krüger", "Clara Weiß"]
        .iter()
        .map(|n| Person {
            id: UserId::new(),
            name: n.to_string(),
            initials: n.split(' ').filter_map(|w| w.chars().next()).collect(),
        })
        .collect();
    let mut columns: Vec<Column> = [
        "Lead",
        "Qualifiziert",
        "Angebot",
        "Verhandlung",
        "Vertrag",
        "Onboarding",
    ]
    .iter()
    .enumerate()
    .map(|(i, n)| Column {
        stage_id: StageId::new(),
        name: n.to_string(),
        probability: Decimal::from(10 + 15 * i as i64),
        cards: Vec::new(),
    })
    .collect();
    let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default();
    for i in 0..deals {
        let col = i % columns.len();
        let stage_id = columns[col].stage_id;
        columns[col].cards.push(Card {
            id: DealId::new(),
            stage_id,
            title: format!("Rahmenvertrag {i}"),
            value: Decimal::from(1_000 + (i as i64 * 37) % 90_000),
            currency: if i % 10 == 0 {
                "CHF".into()
            } else {
                "EUR".into()
            },
            company: Some(format!("Müller Maschinenbau {i}")),
            contact: Some(format!("Kunde {i}")),
            expected_close_date: today.checked_add_days(chrono::Days::new((i % 90) as u64)),
            days_in_stage: (i % 40) as i32,
            owner_ids: vec![users[i % users.len()].id],
            tags: if i % 3 == 0 {
                vec!["vip".into()]
            } else {
                Vec::new()
            },
            overdue_activity: i % 17 == 0,
            version: 1,
        });
    }
    Board {
        pipeline_id: PipelineId::new(),
        pipeline: "Vertrieb DACH".into(),
        pipelines: Vec::new(),
        columns,
        users,
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Median time to draw one frame of a board with `deals` deals at `w`×`h`, and the median
/// time of one `j` keystroke (key handling plus redraw).
pub fn frame_time(deals: usize, w: u16, h: u16) -> (Duration, Duration) {
    let mut app = App::new(Identity::default(), Local::now().date_naive());
    app.board.data = Some(synthetic_board(deals));
    app.board.refilter();
    let Ok(mut term) = Terminal::new(TestBackend::new(w, h));
    let mut frames = Vec::new();
    for _ in 0..60 {
        let t = Instant::now();
        let _ = term.draw(|f| crate::view::draw(&app, f));
        frames.push(t.elapsed());
    }
    let mut keys = Vec::new();
    let down = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('j'));
    for _ in 0..200 {
        let t = Instant::now();
        let _ = handle_key(&mut app, down);
        let _ = term.draw(|f| crate::view::draw(&app, f));
        keys.push(t.elapsed());
    }
    (median(frames), median(keys))
}

/// Runs every measurement and prints it.
pub async fn run(url: Option<&str>, org: Option<&str>) -> anyhow::Result<()> {
    for (w, h) in [(80, 24), (200, 60)] {
        let (frame, key) = frame_time(10_000, w, h);
        let (frame_small, _) = frame_time(100, w, h);
        println!(
            "board frame, 10,000 open deals, {w}x{h}: {:.2} ms (100 deals: {:.2} ms, ratio {:.1}); keystroke + redraw {:.2} ms",
            ms(frame),
            ms(frame_small),
            ms(frame) / ms(frame_small).max(0.001),
            ms(key)
        );
    }
    let t = Instant::now();
    let crm = match url.filter(|u| !u.is_empty()) {
        Some(u) => Crm::connect(u).await?,
        None => Crm::open_local(&LocalCluster::default_home()).await?,
    };
    let orgs = crm.organizations().await?;
    let org = match org {
        Some(slug) => crm.organization_by_slug(slug).await?,
        None => orgs
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("no organization; run `crm demo`"))?,
    };
    let scope = crm.scope(org.id, crm.first_owner(org.id).await?);
    let board = scope.run(async |tx| console::board(tx, None).await).await?;
    let first = t.elapsed();
    let deals: usize = board.columns.iter().map(|c| c.cards.len()).sum();
    println!(
        "start to first full board ({deals} open deals, database running): {:.1} ms",
        ms(first)
    );
    // Search as you type: every prefix of a few names, with an umlaut spelled out and a typo.
    let mut lat = Vec::new();
    for word in ["Mueller", "Schmitd", "Koehler", "Weiss", "Bergmann"] {
        for n in 2..=word.len() {
            let q = &word[..n];
            let t = Instant::now();
            scope
                .run(async |tx| search::search(tx, q, 50).await)
                .await?;
            lat.push(t.elapsed());
        }
    }
    let n = lat.len();
    let max = lat.iter().max().copied().unwrap_or_default();
    println!(
        "search keystroke to results ({n} keystrokes): median {:.1} ms, max {:.1} ms",
        ms(median(lat)),
        ms(max)
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
