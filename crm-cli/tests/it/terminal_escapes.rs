//! Terminal escapes (issue 14, item 9): control characters are refused in single-line
//! fields on input (exit 5, naming the field) and shown escaped, never raw, in tables.

use crm_core::testing::TestDb;

use crate::support::{crm, crm_with};

const EVIL: &str = "Mal\u{1b}]0;pwned\u{7}lory";

async fn setup() -> TestDb {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Escape GmbH",
            "--admin-email",
            "admin@escape.test",
            "--no-password",
        ],
    )
    .expect(0);
    db
}

#[tokio::test]
async fn control_characters_are_refused_on_input_and_escaped_in_tables() {
    let db = setup().await;
    // Flags and JSON input alike: exit 5, the field named, the value not echoed.
    let run = crm(
        &db,
        &["contact", "add", "--first-name", EVIL, "--last-name", "X"],
    )
    .expect(5);
    assert!(run.stderr.contains("first_name"), "{}", run.stderr);
    assert!(run.stderr.contains("control characters"), "{}", run.stderr);
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
    let json = serde_json::json!({"first_name": "Anna", "last_name": "X", "city": "Bern\nZürich"})
        .to_string();
    let run = crm_with(
        Some(&db),
        &["--format", "json", "contact", "add", "--json", "-"],
        &json,
        &[],
    )
    .expect(5);
    assert!(run.stderr.contains("city"), "{}", run.stderr);
    let run = crm(&db, &["company", "add", "--name", EVIL]).expect(5);
    assert!(run.stderr.contains("name"), "{}", run.stderr);
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);

    // An import row with one fails alone; the others are imported.
    let dir = std::env::temp_dir().join(format!(
        "crm-escapes-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("in.csv");
    std::fs::write(
        &file,
        format!(
            "Vorname;Nachname;E-Mail\nGute;Zeile;gut@escape.test\n{EVIL};Böse;boese@escape.test\n"
        ),
    )
    .unwrap();
    let summary = crm(&db, &["import", "contacts", file.to_str().unwrap()])
        .expect(5)
        .json();
    assert_eq!(summary["created"], 1, "{summary}");
    assert_eq!(summary["failed"], 1, "{summary}");
    assert_eq!(summary["errors"][0]["line"], 3, "{summary}");
    assert_eq!(summary["errors"][0]["field"], "first_name", "{summary}");
    std::fs::remove_dir_all(&dir).ok();

    // A value stored before the rule (or by SQL) reaches the terminal escaped.
    let mut conn = db.owner().await;
    sqlx::query("update contacts set last_name = $1 where email_norm = 'gut@escape.test'")
        .bind(EVIL)
        .execute(&mut conn)
        .await
        .unwrap();
    for args in [
        &["--format", "table", "contact", "list"][..],
        &["--format", "table", "contact", "show", "gut@escape.test"][..],
    ] {
        let run = crm_with(Some(&db), args, "", &[]).expect(0);
        assert!(!run.stdout.contains('\u{1b}'), "{args:?}: {}", run.stdout);
        assert!(!run.stdout.contains('\u{7}'), "{args:?}: {}", run.stdout);
        assert!(
            run.stdout.contains("\\u{1b}]0;pwned"),
            "{args:?}: {}",
            run.stdout
        );
    }
    // JSON keeps the value exact (escaped by JSON itself).
    let shown = crm(&db, &["contact", "show", "gut@escape.test"])
        .expect(0)
        .json();
    assert_eq!(shown["last_name"], EVIL);
}
