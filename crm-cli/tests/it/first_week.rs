//! Issue 15 ("a first week with `crm`"): broken pipes, `--org` on init / org create,
//! activities as first-class records, repeated --email / --phone, confirmations that name
//! what goes, empty tables, `crm man --out`, `-v`, `user team add`, bulk-edit, deals in
//! search, and the README's walk-through run top to bottom.

use std::io::Read as _;
use std::process::{Command, Stdio};

use crm_core::testing::TestDb;
use serde_json::Value;

use crate::support::{Run, crm, crm_with};

fn tmp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("crm-week-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn org(db: &TestDb) {
    crm(
        db,
        &[
            "init",
            "--org",
            "Woche GmbH",
            "--admin-email",
            "admin@woche.test",
            "--no-password",
        ],
    )
    .expect(0);
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

fn last8(id: &str) -> String {
    let digits: String = id.chars().filter(|c| *c != '-').collect();
    digits[digits.len() - 8..].to_string()
}

/// Runs `crm args` with stdout piped into a reader that takes `keep` bytes and closes; the
/// exit code and stderr.
fn closing_reader(db: &TestDb, args: &[&str], keep: usize) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crm"))
        .args(args)
        .env_remove("CRM_ORG")
        .env_remove("CRM_USER")
        .env("DATABASE_URL", db.url())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start crm");
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; keep];
    let mut got = 0;
    while got < keep {
        match out.read(&mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    drop(out);
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).ok();
    let status = child.wait().unwrap();
    (status.code().unwrap_or(-1), err)
}

// --- 3: a closed pipe is a quiet success -------------------------------------------------

#[tokio::test]
async fn a_closed_pipe_ends_quietly_with_0_on_every_output_path() {
    let db = TestDb::new().await;
    crm(&db, &["demo", "--contacts", "400"]).expect(0);
    let paths: &[&[&str]] = &[
        &["export", "contacts"],
        &["--format", "json", "export", "contacts"],
        &["--format", "ndjson", "export", "contacts"],
        &["--format", "vcard", "export", "contacts"],
        &["--excel", "export", "activities"],
        &["--format", "table", "contact", "list", "--all"],
        &["--format", "csv", "contact", "list", "--all"],
        &["--format", "json", "company", "list", "--all"],
        &["--format", "table", "activity", "list", "--all"],
        &["--format", "json", "deal", "list", "--all"],
        &["completions", "zsh"],
        &["completions", "bash"],
        &["generate", "contacts", "--size", "2000"],
    ];
    for args in paths {
        let full = crm_with(Some(&db), args, "", &[]).expect(0);
        assert!(
            full.stdout.len() > 64 * 1024,
            "{args:?} prints only {} bytes: not more than a pipe buffer",
            full.stdout.len()
        );
        let (code, stderr) = closing_reader(&db, args, 100);
        assert_eq!(code, 0, "{args:?}: exit {code}, stderr: {stderr}");
        assert!(stderr.is_empty(), "{args:?} said: {stderr}");
    }
    // The manual page is small: the reader closes before reading anything.
    let (code, stderr) = closing_reader(&db, &["man"], 0);
    assert_eq!((code, stderr.as_str()), (0, ""));
}

// --- 5: --org on init and org create ----------------------------------------------------

#[tokio::test]
async fn crm_org_from_the_environment_is_never_a_new_organizations_name() {
    let db = TestDb::new().await;
    let env = [("CRM_ORG", "acme")];
    // Only the environment names an organization: init refuses (it is not a new name).
    let refused = crm_with(
        Some(&db),
        &["init", "--admin-email", "a@acme.test", "--no-password"],
        "",
        &env,
    )
    .expect(2);
    assert!(refused.stderr.contains("--org NAME"), "{}", refused.stderr);
    // Typed on the command line, --org is the new name (the contract of `crm init`).
    let created = crm_with(
        Some(&db),
        &[
            "--format",
            "json",
            "init",
            "--org",
            "Acme GmbH",
            "--slug",
            "acme",
            "--admin-email",
            "a@acme.test",
            "--no-password",
        ],
        "",
        &env,
    )
    .expect(0)
    .json();
    assert_eq!(created["name"], "Acme GmbH");
    // org create takes --name; CRM_ORG (now an existing slug) does not become the name.
    let second = crm_with(
        Some(&db),
        &[
            "--format",
            "json",
            "org",
            "create",
            "--name",
            "Zweite AG",
            "--admin-email",
            "b@zweite.test",
            "--no-password",
        ],
        "",
        &env,
    )
    .expect(0)
    .json();
    assert_eq!(second["name"], "Zweite AG");
    crm_with(
        Some(&db),
        &[
            "org",
            "create",
            "--admin-email",
            "c@x.test",
            "--no-password",
        ],
        "",
        &env,
    )
    .expect(2);
    let help = crm_with(None, &["init", "--help"], "", &[]).expect(0);
    let words = help.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("--org is the new organization's name"),
        "{}",
        help.stdout
    );
}

// --- 6: activities ------------------------------------------------------------------------

#[tokio::test]
async fn activities_take_short_ids_and_can_be_edited_deleted_and_restored() {
    let db = TestDb::new().await;
    org(&db).await;
    crm(
        &db,
        &[
            "contact",
            "add",
            "--first-name",
            "Eva",
            "--email",
            "eva@woche.test",
        ],
    )
    .expect(0);
    let a = crm(
        &db,
        &[
            "activity",
            "add",
            "--contact",
            "eva@woche.test",
            "--type",
            "call",
            "--subject",
            "Rückruf",
            "--due",
            "tomorrow",
        ],
    )
    .expect(0)
    .json();
    let full = id(&a);
    let short = last8(&full);
    let prefix: String = full.chars().filter(|c| *c != '-').take(12).collect();
    let edited = crm(
        &db,
        &[
            "activity",
            "edit",
            &short,
            "--version",
            "1",
            "--subject",
            "Angebot besprechen",
            "--type",
            "meeting",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(
        (edited["subject"].as_str(), edited["kind"].as_str()),
        (Some("Angebot besprechen"), Some("meeting"))
    );
    // A stale version is a conflict, and nothing is written.
    crm(
        &db,
        &[
            "activity",
            "edit",
            &short,
            "--version",
            "1",
            "--subject",
            "x",
        ],
    )
    .expect(4);
    let done = crm(&db, &["activity", "done", &prefix]).expect(0).json();
    assert!(done["done_at"].is_string(), "{done}");
    // Malformed and unknown references.
    crm(&db, &["activity", "done", "zz"]).expect(2);
    crm(&db, &["activity", "done", "00000000"]).expect(3);
    // Delete: a dry run changes nothing, --yes deletes, restore brings it back.
    let dry = crm(&db, &["activity", "delete", &short, "--dry-run"])
        .expect(0)
        .json();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(
        crm(&db, &["activity", "list"])
            .expect(0)
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    crm(&db, &["activity", "delete", &short]).expect(2);
    crm(&db, &["activity", "delete", &short, "--yes"]).expect(0);
    assert_eq!(
        crm(&db, &["activity", "list"]).expect(0).json(),
        serde_json::json!([])
    );
    let back = crm(&db, &["activity", "restore", &short]).expect(0).json();
    assert_eq!(back["id"].as_str(), Some(full.as_str()));
    assert_eq!(
        crm(&db, &["activity", "list"])
            .expect(0)
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

// --- 7: repeated --email / --phone with kinds ------------------------------------------------

#[tokio::test]
async fn contact_add_takes_several_emails_and_phones_the_first_primary() {
    let db = TestDb::new().await;
    org(&db).await;
    let c = crm(
        &db,
        &[
            "contact",
            "add",
            "--first-name",
            "Jürgen",
            "--email",
            "work:j@firma.de",
            "--email",
            "personal:juergen@privat.de",
            "--phone",
            "mobile:+49 170 1234567",
            "--phone",
            "+49 30 1234567",
        ],
    )
    .expect(0)
    .json();
    let shown = crm(&db, &["contact", "show", &id(&c)]).expect(0).json();
    let emails: Vec<(String, String, bool)> = shown["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["email"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
                e["primary"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(
        emails.contains(&("j@firma.de".into(), "work".into(), true)),
        "{emails:?}"
    );
    assert!(
        emails.contains(&("juergen@privat.de".into(), "personal".into(), false)),
        "{emails:?}"
    );
    assert_eq!(shown["email"], "j@firma.de");
    let phones = shown["phones"].as_array().unwrap();
    assert_eq!(phones.len(), 2, "{shown}");
    let mobile = phones
        .iter()
        .find(|p| p["kind"] == "mobile")
        .expect("a mobile");
    assert_eq!(mobile["number"], "+491701234567");
    assert_eq!(mobile["primary"], true);
    // An unknown kind is refused without quoting the address.
    let bad = crm(
        &db,
        &[
            "contact",
            "add",
            "--first-name",
            "X",
            "--email",
            "boss:x@y.de",
        ],
    )
    .expect(5);
    assert!(
        bad.stderr.contains("work, personal or other"),
        "{}",
        bad.stderr
    );
    assert!(!bad.stderr.contains("x@y.de"), "{}", bad.stderr);
    // On edit, several addresses replace the list.
    crm(
        &db,
        &[
            "contact",
            "edit",
            &id(&c),
            "--version",
            "1",
            "--email",
            "neu@firma.de",
            "--email",
            "other:alt@firma.de",
        ],
    )
    .expect(0);
    let after = crm(&db, &["contact", "show", &id(&c)]).expect(0).json();
    assert_eq!(after["email"], "neu@firma.de");
    assert_eq!(after["emails"].as_array().unwrap().len(), 2, "{after}");
}

// --- 9: confirmations name what goes ---------------------------------------------------------

#[tokio::test]
async fn deleting_names_the_dependent_records_and_sums_and_dry_run_changes_nothing() {
    let db = TestDb::new().await;
    org(&db).await;
    crm(&db, &["company", "add", "--name", "Muster GmbH"]).expect(0);
    crm(
        &db,
        &[
            "contact",
            "add",
            "--first-name",
            "Max",
            "--email",
            "max@muster.de",
            "--company",
            "Muster GmbH",
        ],
    )
    .expect(0);
    crm(
        &db,
        &[
            "deal",
            "add",
            "--title",
            "Großauftrag",
            "--value",
            "87.400,50",
            "--company",
            "Muster GmbH",
        ],
    )
    .expect(0);
    let dry = crm(&db, &["company", "delete", "Muster GmbH", "--dry-run"])
        .expect(0)
        .json();
    assert_eq!(
        dry["summary"], "1 open deal (87,400.50 EUR), 1 contact",
        "{dry}"
    );
    assert_eq!(dry["dependents"]["open_value"][0]["amount"], "87400.50");
    let table = crm_with(
        Some(&db),
        &[
            "--format",
            "table",
            "company",
            "delete",
            "Muster GmbH",
            "--dry-run",
        ],
        "",
        &[],
    )
    .expect(0);
    assert!(
        table
            .stdout
            .contains("It has 1 open deal (87,400.50 EUR), 1 contact."),
        "{}",
        table.stdout
    );
    crm(&db, &["company", "show", "Muster GmbH"]).expect(0);
    // Without a terminal, --yes is needed; with it, stderr still says what went.
    crm(&db, &["company", "delete", "Muster GmbH"]).expect(2);
    let gone = crm(&db, &["company", "delete", "Muster GmbH", "--yes"]).expect(0);
    assert!(
        gone.stderr
            .contains("1 open deal (87,400.50 EUR), 1 contact"),
        "{}",
        gone.stderr
    );
    crm(&db, &["company", "show", "Muster GmbH"]).expect(3);
    // pipeline stage remove asks too, and takes --yes and --dry-run.
    crm(
        &db,
        &["pipeline", "stage", "add", "Prüfung", "--probability", "30"],
    )
    .expect(0);
    crm(&db, &["pipeline", "stage", "remove", "Prüfung"]).expect(2);
    let dry = crm(
        &db,
        &["pipeline", "stage", "remove", "Prüfung", "--dry-run"],
    )
    .expect(0)
    .json();
    assert_eq!(dry["dry_run"], true);
    let stages = |db: &TestDb| -> Vec<String> {
        crm(db, &["pipeline", "show"]).expect(0).json()["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(stages(&db).contains(&"Prüfung".to_string()));
    crm(&db, &["pipeline", "stage", "remove", "Prüfung", "--yes"]).expect(0);
    assert!(!stages(&db).contains(&"Prüfung".to_string()));
    // Deals and contacts too.
    let d = crm(&db, &["deal", "list"]).expect(0).json()[0].clone();
    let dry = crm(&db, &["deal", "delete", &id(&d), "--dry-run"])
        .expect(0)
        .json();
    assert!(
        dry["target"].as_str().unwrap().contains("87,400.50 EUR"),
        "{dry}"
    );
    crm(&db, &["contact", "delete", "max@muster.de", "--dry-run"]).expect(0);
    crm(&db, &["contact", "show", "max@muster.de"]).expect(0);
    // Deleting the organization names what it holds.
    let dry = crm(&db, &["gdpr", "delete-org", "--dry-run"])
        .expect(0)
        .json();
    assert_eq!(
        dry["summary"], "1 open deal (87,400.50 EUR), 1 contact",
        "{dry}"
    );
    crm(&db, &["org", "show"]).expect(0);
    let gone = crm(&db, &["gdpr", "delete-org", "--yes"]).expect(0);
    assert!(
        gone.stderr
            .contains("It has 1 open deal (87,400.50 EUR), 1 contact."),
        "{}",
        gone.stderr
    );
}

// --- 11: empty results, man pages, -v, team add ---------------------------------------------

#[tokio::test]
async fn empty_lists_close_the_table_and_say_so() {
    let db = TestDb::new().await;
    org(&db).await;
    for (group, noun) in [
        ("contact", "no contacts match"),
        ("company", "no companies match"),
        ("deal", "no deals match"),
        ("activity", "no activities match"),
    ] {
        let run = crm_with(Some(&db), &["--format", "table", group, "list"], "", &[]).expect(0);
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert!(
            lines.iter().any(|l| l.starts_with('└')),
            "{group}: the table is not closed:\n{}",
            run.stdout
        );
        assert!(!lines.iter().any(|l| l.starts_with('├')), "{}", run.stdout);
        assert_eq!(lines.last().copied(), Some(noun), "{}", run.stdout);
    }
    let due = crm_with(
        Some(&db),
        &["--format", "table", "activity", "due"],
        "",
        &[],
    )
    .expect(0);
    assert_eq!(
        due.stdout.lines().last(),
        Some("no activities match"),
        "{}",
        due.stdout
    );
}

#[test]
fn man_writes_a_page_for_every_page_it_refers_to() {
    let dir = tmp_dir("man");
    let run = crm_with(None, &["man", "--out", dir.to_str().unwrap()], "", &[]).expect(0);
    assert!(run.stderr.contains("manual pages"), "{}", run.stderr);
    let pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for page in [
        "crm.1",
        "crm-gdpr.1",
        "crm-gdpr-erase.1",
        "crm-contact-bulk-edit.1",
        "crm-man.1",
    ] {
        assert!(
            pages.contains(&page.to_string()),
            "{page} missing: {pages:?}"
        );
    }
    // Every `crm-...(1)` a page names exists.
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        for (i, _) in text.match_indices("(1)") {
            let before = &text[..i];
            let start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '\\'))
                .map_or(0, |p| p + 1);
            let name = before[start..].replace("\\-", "-").replace('\\', "");
            if name.starts_with("crm") {
                checked += 1;
                assert!(
                    pages.contains(&format!("{name}.1")),
                    "{page} refers to {name}(1), which is not there"
                );
            }
        }
    }
    assert!(checked > 20, "only {checked} references found");
    let help = crm_with(None, &["--help"], "", &[]).expect(0);
    assert!(
        help.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("man ")),
        "{}",
        help.stdout
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn verbose_shows_database_organization_actor_and_timing_and_teams_are_added() {
    let db = TestDb::new().await;
    org(&db).await;
    let run = crm_with(
        Some(&db),
        &["-v", "--format", "json", "contact", "list"],
        "",
        &[],
    )
    .expect(0);
    for what in ["database: ", "organization: ", "actor: user ", "took "] {
        assert!(
            run.stderr.contains(what),
            "-v lacks {what:?}: {}",
            run.stderr
        );
    }
    // The password of the URL never shows.
    let url = db.url();
    if let Some(password) = url
        .split_once("://")
        .and_then(|(_, r)| r.split_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, p)| p.to_string())
        .filter(|p| !p.is_empty())
    {
        assert!(!run.stderr.contains(&password), "{}", run.stderr);
    }
    crm(&db, &["user", "team", "add", "Vertrieb Nord"]).expect(0);
    crm(&db, &["user", "team", "create", "Vertrieb Süd"]).expect(0);
    let teams = crm(&db, &["user", "team", "list"]).expect(0).json();
    assert_eq!(teams.as_array().unwrap().len(), 2, "{teams}");
}

// --- 12: bulk-edit and deals in search ------------------------------------------------------

fn tags_of(db: &TestDb, tag: &str) -> usize {
    crm(db, &["contact", "list", "--tag", tag])
        .expect(0)
        .json()
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn bulk_edit_by_filters_or_stdin_with_dry_run_batches_and_a_summary() {
    let db = TestDb::new().await;
    org(&db).await;
    for (first, email) in [
        ("Anna", "anna@x.de"),
        ("Ben", "ben@x.de"),
        ("Cem", "cem@x.de"),
    ] {
        crm(
            &db,
            &[
                "contact",
                "add",
                "--first-name",
                first,
                "--email",
                email,
                "--tag",
                "Messe",
            ],
        )
        .expect(0);
    }
    crm(
        &db,
        &[
            "contact",
            "add",
            "--first-name",
            "Dora",
            "--email",
            "dora@x.de",
        ],
    )
    .expect(0);
    let audit_before = crm(&db, &["audit", "log", "--entity", "contact"])
        .expect(0)
        .json();
    let args = [
        "contact",
        "bulk-edit",
        "--tag",
        "Messe",
        "--add-tag",
        "VIP",
        "--remove-tag",
        "messe",
        "--batch-size",
        "2",
    ];
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let s = crm(&db, &dry).expect(0).json();
    assert_eq!(
        (
            &s["dry_run"],
            &s["selected"],
            &s["changed"],
            &s["failed"],
            &s["batches"]
        ),
        (
            &Value::Bool(true),
            &Value::from(3),
            &Value::from(3),
            &Value::from(0),
            &Value::from(2)
        ),
        "{s}"
    );
    assert_eq!((tags_of(&db, "VIP"), tags_of(&db, "Messe")), (0, 3));
    let s = crm(&db, &args).expect(0).json();
    assert_eq!(
        (&s["changed"], &s["batches"]),
        (&Value::from(3), &Value::from(2)),
        "{s}"
    );
    assert_eq!((tags_of(&db, "VIP"), tags_of(&db, "Messe")), (3, 0));
    // Audited: one entry per changed record.
    let audit_after = crm(&db, &["audit", "log", "--entity", "contact"])
        .expect(0)
        .json();
    assert_eq!(
        audit_after.as_array().unwrap().len(),
        audit_before.as_array().unwrap().len() + 3
    );
    // Again: nothing left to change.
    let s = crm(
        &db,
        &["contact", "bulk-edit", "--tag", "VIP", "--add-tag", "VIP"],
    )
    .expect(0)
    .json();
    assert_eq!(
        (&s["changed"], &s["unchanged"]),
        (&Value::from(0), &Value::from(3)),
        "{s}"
    );
    // By ids on stdin (as `contact list --format csv` prints them), setting a field.
    let csv = crm_with(
        Some(&db),
        &["--format", "csv", "contact", "list", "--tag", "VIP"],
        "",
        &[],
    )
    .expect(0);
    let s = crm_with(
        Some(&db),
        &[
            "--format",
            "json",
            "contact",
            "bulk-edit",
            "--stdin",
            "--set",
            "status=inactive",
        ],
        &csv.stdout,
        &[],
    )
    .expect(0)
    .json();
    assert_eq!(s["changed"], 3, "{s}");
    let inactive = crm(&db, &["contact", "list", "--status", "inactive"])
        .expect(0)
        .json();
    assert_eq!(inactive.as_array().unwrap().len(), 3);
    // One record that fails costs the others nothing: Dora keeps her name, "Nobody" has
    // only an address, which clearing would leave empty.
    crm(
        &db,
        &["contact", "add", "--email", "nobody@x.de", "--tag", "Leer"],
    )
    .expect(0);
    crm(
        &db,
        &[
            "contact",
            "edit",
            "dora@x.de",
            "--version",
            "1",
            "--tag",
            "Leer",
        ],
    )
    .expect(0);
    let s = crm(
        &db,
        &["contact", "bulk-edit", "--tag", "Leer", "--set", "email="],
    )
    .expect(5)
    .json();
    assert_eq!(
        (&s["changed"], &s["failed"]),
        (&Value::from(1), &Value::from(1)),
        "{s}"
    );
    assert!(
        !s["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nobody@"),
        "{s}"
    );
    crm(&db, &["contact", "show", "nobody@x.de"]).expect(0);
    // Bad edits are refused before anything is read.
    let bad = crm(&db, &["contact", "bulk-edit", "--set", "colour=red"]).expect(5);
    assert!(bad.stderr.contains("colour"), "{}", bad.stderr);
    crm(&db, &["contact", "bulk-edit", "--set", "status"]).expect(2);
    crm(&db, &["contact", "bulk-edit", "--tag", "VIP"]).expect(5);
    crm(&db, &["deal", "bulk-edit", "--add-tag", "x"]).expect(5);
    let unknown = crm_with(
        Some(&db),
        &["contact", "bulk-edit", "--stdin", "--add-tag", "x"],
        "id\nffffffff\n",
        &[],
    )
    .expect(3);
    assert!(unknown.stderr.contains("line 2"), "{}", unknown.stderr);
}

#[tokio::test]
async fn bulk_edit_of_companies_and_deals_and_search_finds_deals_by_title() {
    let db = TestDb::new().await;
    org(&db).await;
    crm(
        &db,
        &["company", "add", "--name", "Alpha AG", "--tag", "Kunde"],
    )
    .expect(0);
    crm(
        &db,
        &["company", "add", "--name", "Beta AG", "--tag", "Kunde"],
    )
    .expect(0);
    let s = crm(
        &db,
        &[
            "company",
            "bulk-edit",
            "--tag",
            "Kunde",
            "--add-tag",
            "DACH",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(s["changed"], 2, "{s}");
    let dach = crm(&db, &["company", "list", "--tag", "DACH"])
        .expect(0)
        .json();
    assert_eq!(dach.as_array().unwrap().len(), 2);
    crm(
        &db,
        &[
            "deal",
            "add",
            "--title",
            "Rahmenvertrag Wartung 2027",
            "--value",
            "1000",
            "--company",
            "Alpha AG",
        ],
    )
    .expect(0);
    crm(
        &db,
        &[
            "deal",
            "add",
            "--title",
            "Ersatzteile",
            "--value",
            "500",
            "--company",
            "Beta AG",
        ],
    )
    .expect(0);
    let s = crm(
        &db,
        &[
            "deal",
            "bulk-edit",
            "--company",
            "Alpha AG",
            "--set",
            "expected_close_date=2027-03-31",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(
        (&s["selected"], &s["changed"]),
        (&Value::from(1), &Value::from(1)),
        "{s}"
    );
    let deals = crm(&db, &["deal", "list"]).expect(0).json();
    let alpha = deals
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["title"] == "Rahmenvertrag Wartung 2027")
        .unwrap();
    assert_eq!(alpha["expected_close_date"], "2027-03-31", "{alpha}");
    // Search: by title, German spellings and typos as for contacts.
    for query in ["Rahmenvertrag", "rahmenvertrg wartung", "wartung"] {
        let hits = crm(&db, &["search", query]).expect(0).json();
        assert!(
            hits.as_array()
                .unwrap()
                .iter()
                .any(|h| h["kind"] == "deal" && h["name"] == "Rahmenvertrag Wartung 2027"),
            "{query}: {hits}"
        );
    }
}

// --- 13: the README's walk-through ----------------------------------------------------------

/// The first ```sh block after `heading` in README.md.
fn readme_block(readme: &str, heading: &str) -> String {
    let at = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README.md has no {heading}"));
    let start = readme[at..].find("```sh\n").expect("a sh block") + at + 6;
    let end = readme[start..].find("```").expect("the block's end") + start;
    readme[start..end].to_string()
}

#[tokio::test]
async fn readme_walkthrough_runs_top_to_bottom_as_written() {
    let db = TestDb::new().await;
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let dir = tmp_dir("readme");
    let transcript = dir.join("transcript.txt");
    // `crm` is the binary under test; each call's output goes to the transcript too. The
    // README's `alias crm=...` is not expanded in a script, so the function is used.
    let script = format!(
        "set -euo pipefail\n\
         crm() {{ printf '\\n### crm %s\\n' \"$*\" >> \"$TRANSCRIPT\"; \"$CRM_BIN\" \"$@\" | tee -a \"$TRANSCRIPT\"; }}\n\
         # The two commands: the main job first.\n\
         crm demo\n\
         {}\n{}",
        readme_block(&readme, "## Using `crm`"),
        readme_block(&readme, "## Data protection (`crm gdpr`)"),
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .env_remove("CRM_ORG")
        .env_remove("CRM_USER")
        .env("DATABASE_URL", db.url())
        .env("CRM_BIN", env!("CARGO_BIN_EXE_crm"))
        .env("TRANSCRIPT", &transcript)
        .env("NO_COLOR", "1")
        .output()
        .expect("run bash");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    let run = run.expect(0);
    let text = std::fs::read_to_string(&transcript).unwrap();
    let section = |command: &str| -> String {
        let marker = format!("### crm {command}");
        let at = text
            .find(&marker)
            .unwrap_or_else(|| panic!("`crm {command}` did not run: {}", run.stderr));
        let line_end = text[at..].find('\n').map_or(text.len(), |n| at + n + 1);
        let rest = &text[line_end..];
        rest[..rest.find("\n### crm ").unwrap_or(rest.len())].to_string()
    };
    // `activity due` right after `--due tomorrow` shows that activity.
    assert!(section("activity due --until tomorrow").contains("Rückruf"));
    // The deal was won in the README's own organization.
    assert!(
        section("deal win").contains("\"won\""),
        "{}",
        section("deal win")
    );
    // Consent was recorded while the contact still existed, and erasure came after it.
    assert!(section("gdpr consents --contact anna@example.de").contains("newsletter"));
    assert!(section("gdpr was-erased anna@example.de").contains("true"));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn bulk_edit_by_a_read_only_user_is_refused_with_exit_6() {
    let db = TestDb::new().await;
    org(&db).await;
    crm(
        &db,
        &["contact", "add", "--first-name", "Anna", "--tag", "A"],
    )
    .expect(0);
    crm(
        &db,
        &[
            "user",
            "add",
            "--email",
            "ro@woche.test",
            "--role",
            "read_only",
            "--no-password",
        ],
    )
    .expect(0);
    crm(
        &db,
        &[
            "--as",
            "ro@woche.test",
            "contact",
            "bulk-edit",
            "--tag",
            "A",
            "--add-tag",
            "B",
        ],
    )
    .expect(6);
    assert_eq!(tags_of(&db, "B"), 0);
}
