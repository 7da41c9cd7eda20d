//! `crm contact` as a process: add by flags and JSON, naming contacts by id, digits and
//! e-mail, the exit codes of bad input, delete / restore, paging, CSV, broken pipes, merge.

use std::io::Read as _;
use std::process::{Command, Stdio};

use crm_core::testing::TestDb;
use serde_json::{Value, json};

use crate::support::{Run, crm, crm_with};

/// A fresh database with one organization, made through the binary.
async fn setup() -> TestDb {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Kontakt GmbH",
            "--admin-email",
            "a@x.test",
            "--no-password",
        ],
    )
    .expect(0);
    db
}

fn contact(db: &TestDb, args: &[&str]) -> Run {
    let mut all = vec!["contact"];
    all.extend_from_slice(args);
    crm(db, &all)
}

/// `crm --format json contact ARGS` with `stdin`.
fn contact_stdin(db: &TestDb, args: &[&str], stdin: &str) -> Run {
    let mut all = vec!["--format", "json", "contact"];
    all.extend_from_slice(args);
    crm_with(Some(db), &all, stdin, &[])
}

fn add(db: &TestDb, first: &str, last: &str, email: &str) -> Value {
    contact(
        db,
        &[
            "add",
            "--first-name",
            first,
            "--last-name",
            last,
            "--email",
            email,
        ],
    )
    .expect(0)
    .json()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// The id's 32 hex digits.
fn digits(id: &str) -> String {
    id.replace('-', "")
}

/// The cursor printed on stderr under a page that has more.
fn cursor(run: &Run) -> Option<String> {
    let at = run.stderr.find("--after ")?;
    run.stderr[at + 8..]
        .split_whitespace()
        .next()
        .map(str::to_string)
}

#[tokio::test]
async fn add_by_flags_and_by_json_and_show_by_id_digits_and_email() {
    let db = setup().await;
    let jm = contact(
        &db,
        &[
            "add",
            "--first-name",
            "Jürgen",
            "--last-name",
            "Müller",
            "--email",
            "juergen@mueller.de",
            "--phone",
            "030 1234567",
            "--job-title",
            "CTO",
            "--city",
            "Berlin",
            "--tag",
            "VIP",
            "--tag",
            "Kunde",
            "--birthday",
            "1975-04-01",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(jm["first_name"], "Jürgen");
    assert_eq!(jm["email"], "juergen@mueller.de");
    assert_eq!(jm["phone"], "+49301234567", "phones are stored as E.164");
    assert_eq!(jm["tags"], json!(["Kunde", "VIP"]));
    assert_eq!(jm["birthday"], "1975-04-01");
    assert_eq!(jm["version"], 1);

    let input = json!({
        "first_name": "Anna",
        "last_name": "Schmidt",
        "email": "anna@example.ch",
        "emails": [{"email": "anna.privat@example.ch", "kind": "personal"}],
        "phone": "+41 44 123 45 67",
        "tags": ["Lead"],
        "source": "event"
    });
    let anna = contact_stdin(&db, &["add", "--json", "-"], &input.to_string())
        .expect(0)
        .json();
    assert_eq!(anna["last_name"], "Schmidt");
    assert_eq!(anna["source"], "event");
    assert_eq!(anna["emails"].as_array().unwrap().len(), 2);
    let id = id_of(&anna);

    // By full id, by the last 8 digits (what the table shows), by any e-mail address.
    let hex = digits(&id);
    for reference in [
        id.as_str(),
        &hex[hex.len() - 8..],
        "anna@example.ch",
        "ANNA.PRIVAT@example.ch",
    ] {
        let shown = contact(&db, &["show", reference]).expect(0).json();
        assert_eq!(shown["id"], anna["id"], "{reference}");
    }
    // `show` prints the keys `add --json -` reads.
    let shown = contact(&db, &["show", &id]).expect(0).json();
    for key in ["first_name", "last_name", "email", "phone", "tags"] {
        assert!(shown.get(key).is_some(), "show lacks {key}: {shown}");
    }

    // The table form names the columns and shows the short id.
    let table = crm_with(
        Some(&db),
        &["--format", "table", "contact", "list"],
        "",
        &[],
    )
    .expect(0);
    assert!(table.stdout.contains("company"), "{}", table.stdout);
    assert!(
        table.stdout.contains(&hex[hex.len() - 8..]),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("Jürgen Müller"), "{}", table.stdout);
    let card = crm_with(
        Some(&db),
        &["--format", "table", "contact", "show", &id],
        "",
        &[],
    )
    .expect(0);
    assert!(
        card.stdout.contains("anna@example.ch (work) *"),
        "{}",
        card.stdout
    );
    assert!(card.stdout.contains("anna.privat@example.ch (personal)"));
    assert!(card.stdout.contains("+41441234567"), "{}", card.stdout);
}

#[tokio::test]
async fn show_by_prefix_ambiguous_prefix_and_unknown_references() {
    let db = setup().await;
    let first = id_of(&add(&db, "Eva", "Erste", "eva@example.de"));
    let hex1 = digits(&first);
    assert_eq!(
        contact(&db, &["show", &hex1[..8]]).expect(0).json()["id"],
        first.as_str()
    );
    assert_eq!(
        contact(&db, &["show", &first[..13]]).expect(0).json()["id"],
        first.as_str(),
        "a prefix written with its dash"
    );

    let second = id_of(&add(&db, "Zoe", "Zweite", "zoe@example.de"));
    // Ids begin with their creation time: two contacts made now share a prefix.
    let hex2 = digits(&second);
    let common = hex1
        .chars()
        .zip(hex2.chars())
        .take_while(|(a, b)| a == b)
        .count();
    assert!(
        common >= 4,
        "ids made a moment apart share their first digits"
    );
    let run = contact(&db, &["show", &hex1[..common]]).expect(2);
    assert!(run.stderr.contains("ambiguous"), "{}", run.stderr);
    assert_eq!(
        contact(&db, &["show", &hex1[..common + 1]])
            .expect(0)
            .json()["id"],
        first.as_str()
    );

    let run = contact(&db, &["show", "0190abcd-0000-7000-8000-000000000000"]).expect(3);
    assert!(run.stderr.contains("not found"), "{}", run.stderr);
    contact(&db, &["show", "nobody@example.de"]).expect(3);
    let run = contact(&db, &["show", "xyz"]).expect(2);
    assert!(run.stderr.contains("id"), "{}", run.stderr);
}

#[tokio::test]
async fn bad_input_is_named_and_not_echoed() {
    let db = setup().await;
    let run = contact(
        &db,
        &["add", "--first-name", "Max", "--email", "max-at-example.de"],
    )
    .expect(5);
    assert!(run.stderr.contains("email"), "{}", run.stderr);
    assert!(!run.stderr.contains("max-at-example"), "{}", run.stderr);

    // Every invalid field at once.
    let run = contact(
        &db,
        &[
            "add",
            "--first-name",
            "Max",
            "--email",
            "kaputt",
            "--birthday",
            "1.2.1990",
        ],
    )
    .expect(5);
    assert!(run.stderr.contains("birthday"), "{}", run.stderr);

    // JSON with a misspelt key names the key; wrong values are not quoted back.
    let run = contact_stdin(
        &db,
        &["add", "--json", "-"],
        r#"{"firstname": "Max", "email": "max@example.de"}"#,
    )
    .expect(5);
    assert!(run.stderr.contains("firstname"), "{}", run.stderr);
    let run = contact_stdin(
        &db,
        &["add", "--json", "-"],
        r#"{"first_name": "Max", "tags": "geheim@example.de"}"#,
    )
    .expect(5);
    assert!(!run.stderr.contains("geheim"), "{}", run.stderr);
    contact_stdin(&db, &["add", "--json", "-"], "[1, 2]").expect(5);

    // Flags and JSON together, and a missing required argument, are usage errors.
    contact_stdin(&db, &["add", "--json", "-", "--first-name", "Max"], "{}").expect(2);
    contact(&db, &["show"]).expect(2);
    contact(&db, &["list", "--status", "dormant"]).expect(2);

    // An unknown company is not found.
    contact(
        &db,
        &["add", "--first-name", "Max", "--company", "Niemand GmbH"],
    )
    .expect(3);
    assert_eq!(
        contact(&db, &["list"]).expect(0).json(),
        json!([]),
        "nothing was written"
    );
}

#[tokio::test]
async fn edit_changes_only_given_fields_and_a_stale_version_is_a_conflict() {
    let db = setup().await;
    let c = contact(
        &db,
        &[
            "add",
            "--first-name",
            "Lena",
            "--last-name",
            "Lang",
            "--email",
            "lena@example.de",
            "--city",
            "Köln",
            "--job-title",
            "CFO",
        ],
    )
    .expect(0)
    .json();
    let id = id_of(&c);
    let edited = contact(
        &db,
        &[
            "edit",
            "lena@example.de",
            "--version",
            "1",
            "--city",
            "Bern",
            "--clear",
            "job-title",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(edited["city"], "Bern");
    assert_eq!(edited["job_title"], Value::Null);
    assert_eq!(edited["last_name"], "Lang", "untouched fields stay");
    assert_eq!(edited["version"], 2);

    let run = contact(&db, &["edit", &id, "--version", "1", "--city", "Zürich"]).expect(4);
    assert!(run.stderr.contains("reload"), "{}", run.stderr);
    assert_eq!(
        contact(&db, &["show", &id]).expect(0).json()["city"],
        "Bern"
    );

    let run = contact(&db, &["edit", &id, "--city", "Zürich"]).expect(2);
    assert!(run.stderr.contains("--version"), "{}", run.stderr);

    // `show` output, changed and fed back, is an edit at the version it was read at.
    let mut shown = contact(&db, &["show", &id]).expect(0).json();
    shown["city"] = json!("Basel");
    shown["tags"] = json!(["Partner"]);
    let again = contact_stdin(&db, &["edit", &id, "--json", "-"], &shown.to_string())
        .expect(0)
        .json();
    assert_eq!(again["city"], "Basel");
    assert_eq!(again["tags"], json!(["Partner"]));
    assert_eq!(again["email"], "lena@example.de");
    // The same document again is stale now.
    contact_stdin(&db, &["edit", &id, "--json", "-"], &shown.to_string()).expect(4);
}

#[tokio::test]
async fn postal_addresses_are_added_shown_edited_through_json_and_checked() {
    let db = setup().await;
    let c = contact(
        &db,
        &[
            "add",
            "--first-name",
            "Paula",
            "--last-name",
            "Post",
            "--street",
            "Hauptstraße 1",
            "--postal-code",
            "50667",
            "--city",
            "Köln",
            "--country",
            "Deutschland",
            "--home-street",
            "Gartenweg 2",
            "--home-postal-code",
            "8001",
            "--home-city",
            "Zürich",
            "--home-country",
            "ch",
        ],
    )
    .expect(0)
    .json();
    let id = id_of(&c);
    let shown = contact(&db, &["show", &id]).expect(0).json();
    assert_eq!(shown["street"], "Hauptstraße 1");
    assert_eq!(shown["postal_code"], "50667");
    assert_eq!(shown["city"], "Köln");
    assert_eq!(
        shown["country"], "DE",
        "a country name is stored as its code"
    );
    assert_eq!(shown["home_street"], "Gartenweg 2");
    assert_eq!(shown["home_postal_code"], "8001");
    assert_eq!(shown["home_city"], "Zürich");
    assert_eq!(shown["home_country"], "CH");
    let text = contact(&db, &["show", &id, "--format", "table"]).expect(0);
    assert!(text.stdout.contains("Hauptstraße 1"), "{}", text.stdout);

    // `show` output with a changed street, fed back to `edit`, is stored.
    let mut edited = shown.clone();
    edited["street"] = json!("Ringstraße 9");
    edited["home_country"] = Value::Null;
    let after = contact_stdin(&db, &["edit", &id, "--json", "-"], &edited.to_string())
        .expect(0)
        .json();
    assert_eq!(after["street"], "Ringstraße 9");
    assert_eq!(after["version"], 2);
    let stored = contact(&db, &["show", &id]).expect(0).json();
    assert_eq!(stored["street"], "Ringstraße 9");
    assert_eq!(stored["home_country"], Value::Null, "null clears");
    assert_eq!(stored["home_city"], "Zürich", "untouched fields stay");

    // A country that is neither a code nor a known name is named; nothing changes.
    let run = contact(
        &db,
        &["edit", &id, "--version", "2", "--country", "Atlantis"],
    )
    .expect(5);
    assert!(run.stderr.contains("country"), "{}", run.stderr);
    assert!(!run.stderr.contains("Atlantis"), "{}", run.stderr);
    let run = contact(
        &db,
        &["add", "--first-name", "Otto", "--home-country", "Nirgendwo"],
    )
    .expect(5);
    assert!(run.stderr.contains("home_country"), "{}", run.stderr);
    assert_eq!(contact(&db, &["show", &id]).expect(0).json()["version"], 2);
    assert_eq!(
        contact(&db, &["list"])
            .expect(0)
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn delete_needs_yes_without_a_terminal_and_restore_brings_it_back() {
    let db = setup().await;
    let id = id_of(&add(&db, "Otto", "Weg", "otto@example.de"));
    let run = contact(&db, &["delete", &id]).expect(2);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    contact(&db, &["show", &id]).expect(0);

    let stale = contact(&db, &["delete", &id, "--version", "7", "--yes"]).expect(4);
    assert!(stale.stderr.contains("reload"), "{}", stale.stderr);

    let out = contact(&db, &["delete", "otto@example.de", "--yes"])
        .expect(0)
        .json();
    assert_eq!(out["id"], id.as_str());
    assert_eq!(out["deleted"], true);
    contact(&db, &["show", &id]).expect(3);
    assert_eq!(contact(&db, &["list"]).expect(0).json(), json!([]));
    let deleted = contact(&db, &["list", "--deleted"]).expect(0).json();
    assert_eq!(deleted[0]["id"], id.as_str());

    // Restored by the digits the table shows.
    let hex = digits(&id);
    let restored = contact(&db, &["restore", &hex[hex.len() - 8..]])
        .expect(0)
        .json();
    assert_eq!(restored["deleted_at"], Value::Null);
    contact(&db, &["show", "otto@example.de"]).expect(0);
    contact(&db, &["restore", &id]).expect(4);
}

#[tokio::test]
async fn list_prints_the_contract_keys_pages_with_a_cursor_and_filters() {
    let db = setup().await;
    let mut ids = Vec::new();
    for (i, (first, last)) in [
        ("Jörg", "Müller"),
        ("Anna", "Schmidt"),
        ("Ben", "Becker"),
        ("Clara", "Wagner"),
        ("Dora", "Fischer"),
    ]
    .into_iter()
    .enumerate()
    {
        let email = format!("p{i}@example.de");
        let mut args = vec![
            "add",
            "--first-name",
            first,
            "--last-name",
            last,
            "--email",
            &email,
        ];
        if i % 2 == 0 {
            args.extend(["--tag", "Messe"]);
        }
        ids.push(id_of(&contact(&db, &args).expect(0).json()));
    }

    let all = contact(&db, &["list"]).expect(0).json();
    let rows = all.as_array().unwrap();
    assert_eq!(rows.len(), 5);
    for key in [
        "id",
        "first_name",
        "last_name",
        "email",
        "company",
        "tags",
        "created_at",
        "phone",
        "job_title",
        "city",
        "status",
        "version",
        "updated_at",
    ] {
        assert!(rows[0].get(key).is_some(), "list lacks {key}: {}", rows[0]);
    }
    assert_eq!(rows[0]["company"], Value::Null);
    assert!(rows[0]["tags"].is_array());
    assert!(chrono::DateTime::parse_from_rfc3339(rows[0]["created_at"].as_str().unwrap()).is_ok());
    let listed: Vec<String> = rows.iter().map(id_of).collect();
    assert_eq!(listed, ids, "oldest first");

    // Pages of 2 with the cursor from stderr, until no cursor is printed.
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..5 {
        let mut args = vec!["list", "--limit", "2"];
        if let Some(a) = &after {
            args.extend(["--after", a.as_str()]);
        }
        let run = contact(&db, &args).expect(0);
        let page = run.json();
        assert!(page.as_array().unwrap().len() <= 2);
        paged.extend(page.as_array().unwrap().iter().map(id_of));
        after = cursor(&run);
        if after.is_none() {
            break;
        }
    }
    assert_eq!(paged, ids);
    contact(&db, &["list", "--after", "not-a-cursor"]).expect(2);

    // --all streams every page as one array; it ignores the page limit.
    let everything = contact(&db, &["list", "--all"]).expect(0);
    assert_eq!(everything.json().as_array().unwrap().len(), 5);
    assert!(cursor(&everything).is_none());
    // NDJSON: one object per line.
    let nd = crm_with(
        Some(&db),
        &["--format", "ndjson", "contact", "list", "--all"],
        "",
        &[],
    )
    .expect(0);
    assert_eq!(nd.stdout.lines().count(), 5);

    // Filters.
    assert_eq!(
        contact(&db, &["list", "--tag", "messe"])
            .expect(0)
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let found = contact(&db, &["list", "--text", "Mueller"])
        .expect(0)
        .json();
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["first_name"], "Jörg");
    assert_eq!(
        contact(&db, &["list", "--created-after", "2999-01-01"])
            .expect(0)
            .json(),
        json!([])
    );

    // CSV: a header row, then one row per contact.
    let csv = crm_with(Some(&db), &["--format", "csv", "contact", "list"], "", &[]).expect(0);
    let mut lines = csv.stdout.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("id,first_name,last_name,email,phone,company"),
        "{header}"
    );
    assert_eq!(lines.count(), 5);
}

#[tokio::test]
async fn a_closed_pipe_is_a_quiet_success() {
    let db = setup().await;
    let mut csv = String::from("first_name,last_name,email\n");
    for i in 0..3000 {
        csv.push_str(&format!("Vorname{i},Nachname{i},person{i}@example.de\n"));
    }
    let import = crm_with(
        Some(&db),
        &["--format", "json", "import", "contacts", "-"],
        &csv,
        &[],
    )
    .expect(0);
    assert_eq!(import.json()["created"], 3000);

    for format in ["json", "csv", "table"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crm"))
            .args(["--format", format, "contact", "list", "--all"])
            .env("DATABASE_URL", db.url())
            .env_remove("CRM_ORG")
            .env_remove("CRM_USER")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start crm");
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 512];
        stdout.read_exact(&mut first).expect("some output");
        drop(stdout);
        let out = child.wait_with_output().expect("wait for crm");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{format}: {stderr}");
        assert!(!stderr.contains("error"), "{format}: {stderr}");
    }
}

#[tokio::test]
async fn duplicates_are_found_and_merged() {
    let db = setup().await;
    let keep = add(&db, "Karl", "Kühn", "karl@kuehn.de");
    let remove = contact(
        &db,
        &[
            "add",
            "--first-name",
            "KARL",
            "--last-name",
            "Kuehn",
            "--email",
            "k.kuehn@privat.de",
            "--tag",
            "Alt",
            "--city",
            "Hamburg",
        ],
    )
    .expect(0)
    .json();
    add(&db, "Other", "Person", "other@example.de");
    let (keep_id, remove_id) = (id_of(&keep), id_of(&remove));

    // The same name with nothing else in common scores below the default threshold
    // (issue 17): namesakes are shown only when asked for.
    assert_eq!(contact(&db, &["duplicates"]).expect(0).json(), json!([]));
    let groups = contact(&db, &["duplicates", "--min-score", "0.5"])
        .expect(0)
        .json();
    assert_eq!(groups.as_array().unwrap().len(), 1, "{groups}");
    assert!(
        groups[0]["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("same_name"))
    );
    assert_eq!(groups[0]["ids"], json!([keep_id, remove_id]));

    contact(&db, &["merge", &keep_id, &remove_id]).expect(2);
    contact(&db, &["merge", &keep_id, "karl@kuehn.de", "--yes"]).expect(2);
    // A dry run shows the result and changes nothing.
    let preview = contact(&db, &["merge", &keep_id, &remove_id, "--dry-run"])
        .expect(0)
        .json();
    assert_eq!(preview["merge_id"], Value::Null);
    assert_eq!(preview["record"]["city"], "Hamburg");
    contact(&db, &["show", &remove_id]).expect(0);
    let out = contact(&db, &["merge", &keep_id, "k.kuehn@privat.de", "--yes"])
        .expect(0)
        .json();
    let merge_id = out["merge_id"].as_str().expect("a merge id").to_string();
    let merged = &out["record"];
    assert_eq!(merged["id"], keep_id.as_str());
    assert_eq!(
        merged["email"], "karl@kuehn.de",
        "keep's primary e-mail stays"
    );
    assert_eq!(merged["city"], "Hamburg", "empty fields are filled");
    assert_eq!(merged["tags"], json!(["Alt"]));
    let emails: Vec<&str> = merged["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["email"].as_str().unwrap())
        .collect();
    assert!(emails.contains(&"k.kuehn@privat.de"), "{emails:?}");
    contact(&db, &["show", &remove_id]).expect(3);
    // The moved address now finds the kept contact.
    assert_eq!(
        contact(&db, &["show", "k.kuehn@privat.de"])
            .expect(0)
            .json()["id"],
        keep_id.as_str()
    );
    assert_eq!(
        contact(&db, &["duplicates", "--min-score", "0"])
            .expect(0)
            .json(),
        json!([])
    );
    // Undo: both contacts are back as they were.
    contact(&db, &["unmerge", &merge_id, "--yes"]).expect(0);
    let back = contact(&db, &["show", &remove_id]).expect(0).json();
    assert_eq!(back["city"], "Hamburg");
    assert_eq!(back["email"], "k.kuehn@privat.de");
    let kept = contact(&db, &["show", &keep_id]).expect(0).json();
    assert_eq!(kept["city"], Value::Null);
    assert_eq!(kept["tags"], json!([]));
    // Marked as not the same person, the pair is no longer proposed.
    contact(&db, &["not-duplicate", &keep_id, &remove_id]).expect(0);
    assert_eq!(
        contact(&db, &["duplicates", "--min-score", "0.5"])
            .expect(0)
            .json(),
        json!([])
    );
    contact(&db, &["unmerge", &merge_id, "--yes"]).expect(4);
}
