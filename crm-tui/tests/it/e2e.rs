//! The real `crm-tui` binary driven in tmux (`send-keys` / `capture-pane`) against a
//! database seeded like `crm demo`; the results are checked in the database and in the
//! audit log through crm-core. Skipped, saying so, where tmux is not installed (CI installs
//! it).

use std::process::Command;
use std::time::{Duration, Instant};

use crm_core::console;
use crm_core::domain::{ActivityType, DealStatus};
use crm_core::store::activity::{self, NewActivity};
use crm_core::store::deal;
use crm_core::{DealId, Scope};
use crm_tui::app::Filter;

/// A tmux session running one command; killed when dropped.
struct Tmux {
    name: String,
}

impl Tmux {
    fn start(command: &str) -> Tmux {
        let name = format!("crm-tui-e2e-{}", std::process::id());
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "120",
                "-y",
                "40",
                command,
            ])
            .status()
            .expect("run tmux")
            .success();
        assert!(ok, "tmux new-session failed");
        Tmux { name }
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.name];
        args.extend(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
    }

    fn text(&self, text: &str) {
        let args = ["send-keys", "-t", &self.name, "-l", text];
        assert!(Command::new("tmux").args(args).status().unwrap().success());
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `text` (a wait for the program, not a time limit on
    /// it: the bound only turns a hang into a failure with the screen attached).
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(60) {
                panic!("the screen never showed {text:?}; it shows:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}

fn tmux_missing() -> bool {
    Command::new("tmux").arg("-V").output().is_err()
}

/// A deal of the board that a text filter narrows down to alone: its column and a filter.
fn unique_card(board: &console::Board) -> (usize, DealId, String) {
    for (ci, col) in board.columns.iter().enumerate() {
        if ci + 1 >= board.columns.len() {
            break;
        }
        for card in &col.cards {
            let filter = Filter {
                input: card.title.clone(),
            };
            let hits = board
                .columns
                .iter()
                .flat_map(|c| &c.cards)
                .filter(|c| filter.matches(c, &[]))
                .count();
            if hits == 1 {
                return (ci, card.id, card.title.clone());
            }
        }
    }
    panic!("no deal with a title of its own on the demo board");
}

async fn actor_of(scope: &Scope, id: uuid::Uuid, action: &str) -> Option<crm_core::UserId> {
    let log = scope
        .run(async |tx| {
            crm_core::audit::log(
                tx,
                &crm_core::audit::AuditFilter {
                    entity_id: Some(id),
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    log.iter().rev().find(|e| e.action == action)?.actor_id
}

#[tokio::test(flavor = "multi_thread")]
async fn work_a_deal_search_and_finish_an_activity_in_the_real_binary() {
    if tmux_missing() {
        eprintln!(
            "SKIPPED: tmux is not installed (CI installs it); the end-to-end test did not run"
        );
        return;
    }
    let (db, scope) = crate::console::seeded().await;
    let board = scope
        .run(async |tx| console::board(tx, None).await)
        .await
        .unwrap();
    let (col, deal_id, title) = unique_card(&board);
    let reasons = scope
        .run(async |tx| console::lost_reasons(tx).await)
        .await
        .unwrap();
    let juergen = scope
        .run(async |tx| {
            crm_core::store::contact::find_by_email(tx, "juergen.mueller@schaefer-soehne.de").await
        })
        .await
        .unwrap();
    let call = scope
        .run(async |tx| {
            activity::create(
                tx,
                NewActivity {
                    kind: ActivityType::Call,
                    subject: "Rückruf wegen Angebot".into(),
                    due_at: Some(chrono::Utc::now() - chrono::Duration::hours(1)),
                    assignee_id: Some(tx.actor().id),
                    contact_id: Some(juergen.id),
                    ..NewActivity::default()
                },
            )
            .await
        })
        .await
        .unwrap();

    let bin = env!("CARGO_BIN_EXE_crm-tui");
    let cmd = format!(
        "env NO_COLOR=1 LANG=C.UTF-8 DATABASE_URL='{}' CRM_USER=katrin.weiss@vertrieb.example {bin}; sleep 30",
        db.url()
    );
    let tmux = Tmux::start(&cmd);
    tmux.wait_for(&format!("· {}", board.pipeline));
    tmux.wait_for("● live");

    // Narrow the board to the one deal, go to its stage, move it one stage on.
    tmux.text("/");
    tmux.text(&title);
    tmux.keys(&["Enter"]);
    for _ in 0..col {
        tmux.text("l");
    }
    tmux.text("L");
    tmux.wait_for("” moved");
    let moved = scope
        .run(async |tx| deal::get(tx, deal_id).await)
        .await
        .unwrap();
    assert_eq!(moved.stage_id, board.columns[col + 1].stage_id);
    assert_eq!(
        actor_of(&scope, deal_id.uuid(), "move").await,
        Some(scope.actor())
    );

    // Lose it with the second reason of the list.
    tmux.keys(&["Escape"]); // the banner
    tmux.text("x");
    tmux.wait_for("Lose deal");
    tmux.keys(&["Down", "Enter"]);
    tmux.wait_for("” lost");
    let lost = scope
        .run(async |tx| deal::get(tx, deal_id).await)
        .await
        .unwrap();
    assert_eq!(lost.status, DealStatus::Lost);
    assert_eq!(lost.lost_reason.as_deref(), Some(reasons[1].key.as_str()));
    assert_eq!(
        actor_of(&scope, deal_id.uuid(), "lose").await,
        Some(scope.actor())
    );

    // Search a contact with the umlauts misspelled, open it, finish the newest activity.
    tmux.keys(&["Escape", "Escape"]);
    tmux.text("2");
    tmux.text("Jurgen Muler");
    tmux.wait_for("Jürgen Müller");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Rückruf wegen Angebot");
    tmux.keys(&["Space"]);
    tmux.wait_for("activity done");
    let done = scope
        .run(async |tx| activity::get(tx, call.id).await)
        .await
        .unwrap();
    assert!(done.done_at.is_some());
    assert_eq!(
        actor_of(&scope, call.id.uuid(), "complete").await,
        Some(scope.actor())
    );

    tmux.text("q");
}
