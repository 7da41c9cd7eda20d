//! Duplicates on the way in (issue 17, item 5), as processes: `contact add` and `company add`
//! warn on stderr, `import contacts` lists `warnings`, when a new record is a likely duplicate
//! of an existing one; records alike in nothing that counts do not warn.

use crm_core::testing::TestDb;
use serde_json::Value;

use crate::support::{Run, crm, crm_with};

async fn org() -> TestDb {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Eingang GmbH",
            "--admin-email",
            "a@x.test",
            "--no-password",
        ],
    )
    .expect(0);
    db
}

fn id_of(run: &Run) -> String {
    run.json()["id"].as_str().expect("id").to_string()
}

fn warnings(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| l.contains("likely a duplicate"))
        .collect()
}

#[tokio::test]
async fn contact_add_warns_of_a_likely_duplicate() {
    let db = org().await;
    crm(&db, &["company", "add", "--name", "Acme Werkzeuge GmbH"]).expect(0);
    let add = |first: &str, last: &str, extra: &[&str]| {
        let mut args = vec!["contact", "add", "--first-name", first, "--last-name", last];
        args.extend_from_slice(extra);
        crm(&db, &args).expect(0)
    };
    let at_acme = ["--company", "Acme Werkzeuge GmbH"];
    let first = add("Jürgen", "Müller", &at_acme);
    assert!(warnings(&first).is_empty(), "{}", first.stderr);
    let first = id_of(&first);

    // The same person spelled without umlauts at the same company: warned, and still added.
    let second = add("Juergen", "Mueller", &at_acme);
    let w = warnings(&second);
    assert_eq!(w.len(), 1, "{}", second.stderr);
    assert!(
        w[0].contains(&first) && w[0].contains("same_company"),
        "{}",
        w[0]
    );
    assert!(!w[0].contains("Mueller"), "no personal data: {}", w[0]);
    second.json();

    // A colleague with another name is no duplicate.
    let colleague = add("Tom", "Wagner", &at_acme);
    assert!(warnings(&colleague).is_empty(), "{}", colleague.stderr);

    // A shared phone number, written differently, with the same name.
    let anna = add("Anna", "Becker", &["--phone", "+49 30 1234567"]);
    assert!(warnings(&anna).is_empty(), "{}", anna.stderr);
    let anna = id_of(&anna);
    let again = add("Anna", "Becker", &["--phone", "+49 (30) 123 45 67"]);
    let w = warnings(&again);
    assert_eq!(w.len(), 1, "{}", again.stderr);
    assert!(w[0].contains(&anna) && w[0].contains("phone"), "{}", w[0]);
}

#[tokio::test]
async fn company_add_warns_of_a_likely_duplicate() {
    let db = org().await;
    let a = crm(
        &db,
        &["company", "add", "--name", "Müller Maschinenbau GmbH"],
    )
    .expect(0);
    assert!(warnings(&a).is_empty(), "{}", a.stderr);
    let a = id_of(&a);
    let b = crm(
        &db,
        &[
            "company",
            "add",
            "--name",
            "Mueller Maschinenbau GmbH & Co. KG",
        ],
    )
    .expect(0);
    let w = warnings(&b);
    assert_eq!(w.len(), 1, "{}", b.stderr);
    assert!(w[0].contains(&a) && w[0].contains("same_name"), "{}", w[0]);
    let c = crm(&db, &["company", "add", "--name", "Schmidt Logistik AG"]).expect(0);
    assert!(warnings(&c).is_empty(), "{}", c.stderr);
}

#[tokio::test]
async fn import_lists_likely_duplicates_in_its_warnings() {
    let db = org().await;
    let existing = crm(
        &db,
        &[
            "contact",
            "add",
            "--first-name",
            "Jürgen",
            "--last-name",
            "Müller",
            "--email",
            "juergen@acme.example",
        ],
    )
    .expect(0);
    let existing = id_of(&existing);
    // Line 2: the same person with an initial and another address at the same domain;
    // line 3: someone else; lines 4 and 5 look alike but are both new, so neither is an
    // existing record's duplicate.
    let csv = "first_name,last_name,email\n\
               J.,Müller,j.mueller@acme.example\n\
               Erika,Mustermann,erika@other.example\n\
               Lena,Schulz,lena@y.example\n\
               Lena,Schulz,lena.schulz@y.example\n";
    let run = crm_with(
        Some(&db),
        &["--format", "json", "import", "contacts", "-"],
        csv,
        &[],
    )
    .expect(0);
    let s = run.json();
    assert_eq!(s["created"], 4, "{s}");
    let dupes: Vec<&Value> = s["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["field"] == "duplicate")
        .collect();
    assert_eq!(dupes.len(), 1, "{s}");
    assert_eq!(dupes[0]["line"], 2, "{s}");
    let message = dupes[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&existing) && message.contains("initials"),
        "{message}"
    );
}
