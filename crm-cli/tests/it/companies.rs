//! `crm company` and `crm list` as processes: JSON output, the ways to name a company,
//! validation, conflicts, deletion, relationships, the admin lists and permissions.

use crm_core::testing::TestDb;
use serde_json::Value;

use crate::support::{crm, crm_with};

async fn org() -> TestDb {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Firmen AG",
            "--admin-email",
            "a@x.test",
            "--no-password",
        ],
    )
    .expect(0);
    db
}

/// Adds a company with flags and returns it as printed.
fn add(db: &TestDb, args: &[&str]) -> Value {
    let mut all = vec!["company", "add"];
    all.extend_from_slice(args);
    crm(db, &all).expect(0).json()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn add_by_flags_and_json_then_list_and_show_by_every_kind_of_reference() {
    let db = org().await;
    let m = add(
        &db,
        &[
            "--name",
            "Müller Maschinenbau GmbH",
            "--vat-id",
            "de 136 695 976",
            "--industry",
            "Maschinenbau",
            "--account-type",
            "Kunde",
            "--website",
            "www.mueller-maschinen.de",
            "--city",
            "Köln",
            "--country",
            "de",
            "--employees",
            "120",
            "--tag",
            "Premium",
            "--tag",
            "NRW",
        ],
    );
    assert_eq!(m["vat_id"], "DE136695976", "VAT normalised");
    assert_eq!(
        m["industry"], "mechanical_engineering",
        "German label → key"
    );
    assert_eq!(m["account_type"], "customer");
    assert_eq!(m["domain"], "mueller-maschinen.de", "domain derived");
    assert_eq!(m["billing_country"], "DE");
    assert_eq!(m["size"], "medium");
    assert_eq!(m["tags"], serde_json::json!(["NRW", "Premium"]));
    assert_eq!(m["version"], 1);
    assert_eq!(m["relationships"], serde_json::json!([]));

    let json = r#"{"name": "Zürcher Treuhand AG", "vat_id": "CHE-116.281.710 MWST",
        "domain": "zuercher-treuhand.ch", "industry": "finance", "billing_city": "Zürich",
        "billing_country": "CH", "emails": [{"email": "info@zuercher-treuhand.ch"}],
        "tags": ["Schweiz"]}"#;
    let z = crm_with(
        Some(&db),
        &["--format", "json", "company", "add", "--json", "-"],
        json,
        &[],
    )
    .expect(0)
    .json();
    assert_eq!(z["vat_id"], "CHE116281710");
    assert_eq!(
        z["email"], "info@zuercher-treuhand.ch",
        "first address is primary"
    );
    // Flags and --json together are a usage mistake; an unknown key is named.
    crm_with(
        Some(&db),
        &["company", "add", "--json", "-", "--name", "X"],
        "{}",
        &[],
    )
    .expect(2);
    let typo = crm_with(
        Some(&db),
        &["company", "add", "--json", "-"],
        r#"{"name": "X", "nmae": "Y"}"#,
        &[],
    )
    .expect(5);
    assert!(typo.stderr.contains("nmae"), "{}", typo.stderr);
    let bad_type = crm_with(
        Some(&db),
        &["company", "add", "--json", "-"],
        r#"{"name": "X", "employees": "many"}"#,
        &[],
    )
    .expect(5);
    assert!(bad_type.stderr.contains("employees"), "{}", bad_type.stderr);

    // List: JSON array of company objects, filters.
    let all = crm(&db, &["company", "list"]).expect(0).json();
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Müller Maschinenbau GmbH", "Zürcher Treuhand AG"]);
    assert_eq!(all[0]["contacts"], 0);
    let swiss = crm(&db, &["company", "list", "--tag", "schweiz"])
        .expect(0)
        .json();
    assert_eq!(swiss.as_array().unwrap().len(), 1);
    let text = crm(&db, &["company", "list", "--text", "mueller"])
        .expect(0)
        .json();
    assert_eq!(text[0]["name"], "Müller Maschinenbau GmbH");
    let industry = crm(&db, &["company", "list", "--industry", "finance"])
        .expect(0)
        .json();
    assert_eq!(industry[0]["name"], "Zürcher Treuhand AG");
    crm(&db, &["company", "list", "--industry", "raumfahrt"]).expect(3);
    // Paging: one per page, the cursor on stderr continues.
    let page = crm(&db, &["company", "list", "--limit", "1"]).expect(0);
    assert_eq!(page.json().as_array().unwrap().len(), 1);
    let cursor = page
        .stderr
        .split("--after ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no cursor: {}", page.stderr));
    let next = crm(&db, &["company", "list", "--limit", "1", "--after", cursor])
        .expect(0)
        .json();
    assert_eq!(next[0]["name"], "Zürcher Treuhand AG");
    let every = crm(&db, &["company", "list", "--limit", "1", "--all"]).expect(0);
    assert_eq!(every.json().as_array().unwrap().len(), 2);
    assert!(!every.stderr.contains("--after"), "{}", every.stderr);
    // CSV has a header row.
    let csv = crm_with(Some(&db), &["--format", "csv", "company", "list"], "", &[]).expect(0);
    assert!(csv.stdout.starts_with("id,name,domain"), "{}", csv.stdout);

    // Show by full id, id prefix, the short id lists show, VAT, domain and name.
    let mid = id_of(&m);
    let hex: String = mid.chars().filter(|c| *c != '-').collect();
    for reference in [
        mid.clone(),
        mid[..18].to_string(),
        hex[hex.len() - 8..].to_string(),
        "DE 136 695 976".to_string(),
        "https://www.mueller-maschinen.de/".to_string(),
        "MUELLER maschinenbau gmbh".to_string(),
    ] {
        let shown = crm(&db, &["company", "show", &reference]).expect(0).json();
        assert_eq!(shown["id"], mid.as_str(), "reference {reference}");
        assert!(shown["relationships"].is_array());
    }
    let unknown = crm(&db, &["company", "show", "Nirgendwo GmbH"]).expect(3);
    assert!(unknown.stderr.contains("not found"), "{}", unknown.stderr);

    // Two companies with the same name: ambiguous, exit 2 naming both ids.
    let twin = add(&db, &["--name", "müller maschinenbau gmbh"]);
    let amb = crm(&db, &["company", "show", "Müller Maschinenbau GmbH"]).expect(2);
    assert!(amb.stderr.contains(&mid), "{}", amb.stderr);
    assert!(amb.stderr.contains(&id_of(&twin)), "{}", amb.stderr);
}

#[tokio::test]
async fn validation_and_conflicts_have_their_exit_codes() {
    let db = org().await;
    let bad = crm(
        &db,
        &[
            "company",
            "add",
            "--name",
            "Kaputt GmbH",
            "--vat-id",
            "DE136695975",
            "--website",
            "not a site",
        ],
    )
    .expect(5);
    assert!(bad.stderr.contains("vat_id"), "{}", bad.stderr);
    assert!(bad.stderr.contains("website"), "{}", bad.stderr);
    assert!(
        !bad.stderr.contains("DE136695975"),
        "no echo: {}",
        bad.stderr
    );
    // --name is required with flags.
    let no_name = crm(&db, &["company", "add", "--city", "Bonn"]).expect(2);
    assert!(no_name.stderr.contains("--name"), "{}", no_name.stderr);
    // An inactive or unknown industry is a validation error naming the field.
    let unknown = crm(
        &db,
        &["company", "add", "--name", "A", "--industry", "Raumfahrt"],
    )
    .expect(5);
    assert!(unknown.stderr.contains("industry"), "{}", unknown.stderr);

    let a = add(&db, &["--name", "Alpha GmbH", "--vat-id", "DE136695976"]);
    let dup = crm(
        &db,
        &[
            "company",
            "add",
            "--name",
            "Beta GmbH",
            "--vat-id",
            "DE 136695976",
        ],
    )
    .expect(4);
    assert!(dup.stderr.contains("VAT"), "{}", dup.stderr);

    // Edit with the version read, then again with the stale one.
    let id = id_of(&a);
    let edited = crm(
        &db,
        &[
            "company",
            "edit",
            &id,
            "--version",
            "1",
            "--city",
            "Bonn",
            "--tag",
            "neu",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(edited["billing_city"], "Bonn");
    assert_eq!(edited["version"], 2);
    let stale = crm(
        &db,
        &["company", "edit", &id, "--version", "1", "--city", "Köln"],
    )
    .expect(4);
    assert!(stale.stderr.contains("reload"), "{}", stale.stderr);
    // --version is required with flags; --clear empties a field; JSON edits too.
    crm(&db, &["company", "edit", &id, "--city", "Köln"]).expect(2);
    let cleared = crm(
        &db,
        &["company", "edit", &id, "--version", "2", "--clear", "city"],
    )
    .expect(0)
    .json();
    assert!(cleared["billing_city"].is_null());
    let via_json = crm_with(
        Some(&db),
        &[
            "--format",
            "json",
            "company",
            "edit",
            "DE136695976",
            "--json",
            "-",
        ],
        r#"{"version": 3, "name": "Alpha Holding GmbH", "tax_id": "5133/081/50"}"#,
        &[],
    )
    .expect(0)
    .json();
    assert_eq!(via_json["name"], "Alpha Holding GmbH");
    assert_eq!(via_json["tax_id"], "5133/081/50");
    assert_eq!(via_json["tags"], serde_json::json!(["neu"]), "unchanged");
    // show | edit --json - round-trips (read-only keys are ignored).
    let shown = crm(&db, &["company", "show", &id]).expect(0).stdout;
    let same = crm_with(
        Some(&db),
        &["--format", "json", "company", "edit", &id, "--json", "-"],
        &shown,
        &[],
    )
    .expect(0)
    .json();
    assert_eq!(same["name"], "Alpha Holding GmbH");
}

#[tokio::test]
async fn delete_needs_yes_without_a_terminal_and_restore_brings_it_back() {
    let db = org().await;
    let c = add(&db, &["--name", "Weg GmbH", "--vat-id", "ATU13585627"]);
    let id = id_of(&c);
    let refused = crm(&db, &["company", "delete", &id]).expect(2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    crm(&db, &["company", "show", &id]).expect(0);
    // A stale version is refused even with --yes.
    crm(&db, &["company", "delete", &id, "--version", "7", "--yes"]).expect(4);
    let deleted = crm(&db, &["company", "delete", "ATU13585627", "--yes"])
        .expect(0)
        .json();
    assert_eq!(deleted["deleted"], true);
    crm(&db, &["company", "show", &id]).expect(3);
    crm(&db, &["company", "show", "Weg GmbH"]).expect(3);
    assert_eq!(
        crm(&db, &["company", "list"]).expect(0).json(),
        serde_json::json!([])
    );
    let gone = crm(&db, &["company", "list", "--deleted"]).expect(0).json();
    assert_eq!(gone[0]["id"], id.as_str());
    let restored = crm(&db, &["company", "restore", "Weg GmbH"])
        .expect(0)
        .json();
    assert!(restored["deleted_at"].is_null());
    crm(&db, &["company", "show", &id]).expect(0);
    // Restoring a live company is a conflict.
    crm(&db, &["company", "restore", &id]).expect(4);
}

#[tokio::test]
async fn relationships_are_seen_from_both_sides_and_self_relation_is_refused() {
    let db = org().await;
    let holding = add(&db, &["--name", "Holding AG"]);
    add(&db, &["--name", "Tochter GmbH", "--domain", "tochter.de"]);
    let rel = crm(
        &db,
        &[
            "company",
            "relate",
            "Holding AG",
            "tochter.de",
            "--type",
            "parent_of",
            "--note",
            "100 %",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(rel["type_key"], "parent_of");
    assert_eq!(rel["direction"], "outgoing");
    assert_eq!(rel["other_company_name"], "Tochter GmbH");
    let rel_id = rel["id"].as_str().unwrap().to_string();

    let from_child = crm(&db, &["company", "relationships", "Tochter GmbH"])
        .expect(0)
        .json();
    assert_eq!(from_child.as_array().unwrap().len(), 1);
    assert_eq!(from_child[0]["direction"], "incoming");
    assert_eq!(from_child[0]["other_company_id"], holding["id"]);
    let shown = crm(&db, &["company", "show", "Holding AG"])
        .expect(0)
        .json();
    assert_eq!(shown["relationships"][0]["id"], rel_id.as_str());

    // The same relationship twice is a conflict; by German label it is the same type.
    crm(
        &db,
        &[
            "company",
            "relate",
            "Holding AG",
            "Tochter GmbH",
            "--type",
            "Muttergesellschaft von",
        ],
    )
    .expect(4);
    let own = crm(
        &db,
        &[
            "company",
            "relate",
            "Holding AG",
            "Holding AG",
            "--type",
            "partner_of",
        ],
    )
    .expect(5);
    assert!(own.stderr.contains("itself"), "{}", own.stderr);
    let bad_type = crm(
        &db,
        &[
            "company",
            "relate",
            "Holding AG",
            "Tochter GmbH",
            "--type",
            "sibling",
        ],
    )
    .expect(5);
    assert!(bad_type.stderr.contains("type"), "{}", bad_type.stderr);

    crm(&db, &["company", "unrelate", &rel_id]).expect(2);
    crm(&db, &["company", "unrelate", &rel_id, "--dry-run"]).expect(0);
    crm(&db, &["company", "unrelate", &rel_id, "--yes"]).expect(0);
    assert_eq!(
        crm(&db, &["company", "relationships", "Holding AG"])
            .expect(0)
            .json(),
        serde_json::json!([])
    );
    crm(&db, &["company", "unrelate", &rel_id, "--yes"]).expect(3);
    crm(&db, &["company", "unrelate", "not-a-uuid", "--yes"]).expect(2);
}

#[tokio::test]
async fn admin_lists_can_be_changed_but_entries_in_use_are_not_removed() {
    let db = org().await;
    let industries = crm(&db, &["list", "show", "industries"]).expect(0).json();
    assert!(
        industries
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["key"] == "mechanical_engineering" && e["label_de"] == "Maschinenbau")
    );
    let added = crm(
        &db,
        &[
            "list",
            "add",
            "industries",
            "--key",
            "aerospace",
            "--en",
            "Aerospace",
            "--de",
            "Luft- und Raumfahrt",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(added["key"], "aerospace");
    assert_eq!(added["active"], true);
    crm(
        &db,
        &[
            "list",
            "add",
            "industry",
            "--key",
            "aerospace",
            "--en",
            "Space",
        ],
    )
    .expect(4);
    crm(
        &db,
        &[
            "list",
            "add",
            "industries",
            "--key",
            "Bad Key!",
            "--en",
            "X",
        ],
    )
    .expect(5);
    crm(&db, &["list", "show", "colours"]).expect(2);

    // Rename keeps the key and the label not given.
    let renamed = crm(
        &db,
        &[
            "list",
            "rename",
            "industries",
            "aerospace",
            "--en",
            "Aerospace & Defence",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(renamed["label_en"], "Aerospace & Defence");
    assert_eq!(renamed["label_de"], "Luft- und Raumfahrt");

    // In use: removal refused (exit 4); deactivated: new companies cannot choose it.
    add(
        &db,
        &["--name", "Orbit GmbH", "--industry", "Luft- und Raumfahrt"],
    );
    let refused = crm(&db, &["list", "remove", "industries", "aerospace", "--yes"]).expect(4);
    crm(
        &db,
        &["list", "remove", "industries", "aerospace", "--dry-run"],
    )
    .expect(4);
    assert!(refused.stderr.contains("deactivate"), "{}", refused.stderr);
    let off = crm(&db, &["list", "deactivate", "industries", "aerospace"])
        .expect(0)
        .json();
    assert_eq!(off["active"], false);
    crm(
        &db,
        &[
            "company",
            "add",
            "--name",
            "Rakete AG",
            "--industry",
            "aerospace",
        ],
    )
    .expect(5);
    crm(&db, &["list", "activate", "industries", "aerospace"]).expect(0);
    add(&db, &["--name", "Rakete AG", "--industry", "aerospace"]);

    // An unused entry can be removed; an unknown one is not found.
    crm(
        &db,
        &[
            "list",
            "add",
            "lost-reasons",
            "--key",
            "weather",
            "--en",
            "Weather",
        ],
    )
    .expect(0);
    crm(&db, &["list", "remove", "lost-reasons", "weather"]).expect(2);
    crm(
        &db,
        &["list", "remove", "lost-reasons", "weather", "--dry-run"],
    )
    .expect(0);
    crm(&db, &["list", "remove", "lost-reasons", "weather", "--yes"]).expect(0);
    let lost = crm(&db, &["list", "show", "lost_reasons"]).expect(0).json();
    assert!(
        !lost
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["key"] == "weather")
    );
    let missing = crm(&db, &["list", "remove", "lost-reasons", "weather", "--yes"]).expect(3);
    assert!(
        missing.stderr.contains("crm list show"),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn a_plain_user_cannot_change_lists_but_can_read_and_add_companies() {
    let db = org().await;
    crm(
        &db,
        &[
            "user",
            "add",
            "--email",
            "u@x.test",
            "--role",
            "user",
            "--no-password",
        ],
    )
    .expect(0);
    let denied = crm(
        &db,
        &[
            "--as",
            "u@x.test",
            "list",
            "add",
            "industries",
            "--key",
            "aerospace",
            "--en",
            "Aerospace",
        ],
    )
    .expect(6);
    assert!(denied.stderr.contains("permission"), "{}", denied.stderr);
    crm(&db, &["--as", "u@x.test", "list", "show", "account-types"]).expect(0);
    crm(
        &db,
        &[
            "--as",
            "u@x.test",
            "company",
            "add",
            "--name",
            "Nutzer GmbH",
        ],
    )
    .expect(0);
    // Nothing was added by the refused command.
    let industries = crm(&db, &["list", "show", "industries"]).expect(0).json();
    assert!(
        !industries
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["key"] == "aerospace")
    );
}
