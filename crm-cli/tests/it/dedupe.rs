//! `crm company duplicates | merge | unmerge` as processes (issue 17): the workflow end to
//! end with JSON output, `merge_id` and exit codes.

use crm_core::testing::TestDb;
use serde_json::{Value, json};

use crate::support::crm;

async fn org() -> TestDb {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Dubletten AG",
            "--admin-email",
            "a@x.test",
            "--no-password",
        ],
    )
    .expect(0);
    db
}

fn company(db: &TestDb, args: &[&str]) -> crate::support::Run {
    let mut all = vec!["company"];
    all.extend_from_slice(args);
    crm(db, &all)
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn company_duplicates_merge_and_unmerge_end_to_end() {
    let db = org().await;
    let a = company(&db, &["add", "--name", "Müller Maschinenbau GmbH"])
        .expect(0)
        .json();
    let b = company(
        &db,
        &[
            "add",
            "--name",
            "Mueller Maschinenbau GmbH & Co. KG",
            "--website",
            "https://www.mueller-maschinen.example/kontakt",
        ],
    )
    .expect(0)
    .json();
    company(&db, &["add", "--name", "Schmidt Logistik AG"]).expect(0);
    let (a, b) = (id_of(&a), id_of(&b));
    crm(
        &db,
        &[
            "contact",
            "add",
            "--first-name",
            "Kai",
            "--last-name",
            "Wendt",
            "--company",
            &b,
        ],
    )
    .expect(0);

    let groups = company(&db, &["duplicates"]).expect(0).json();
    assert_eq!(groups.as_array().unwrap().len(), 1, "{groups}");
    assert_eq!(groups[0]["ids"], json!([a, b]));
    assert_eq!(groups[0]["reasons"], json!(["same_name"]));
    assert!(groups[0]["score"].as_f64().unwrap() >= 0.75);
    // Filters and usage errors.
    assert_eq!(
        company(&db, &["duplicates", "--reason", "vat_id"])
            .expect(0)
            .json(),
        json!([])
    );
    company(&db, &["duplicates", "--reason", "colour"]).expect(2);
    company(&db, &["merge", &a, &b, "--take", "colour=1", "--yes"]).expect(2);
    company(
        &db,
        &["merge", &a, &b, "--take", &format!("website{b}"), "--yes"],
    )
    .expect(2);

    let out = company(
        &db,
        &["merge", &a, &b, "--take", &format!("website={b}"), "--yes"],
    )
    .expect(0)
    .json();
    let merge_id = out["merge_id"].as_str().expect("merge_id").to_string();
    assert_eq!(out["survivor_id"], a.as_str());
    assert_eq!(out["merged_ids"], json!([b]));
    assert_eq!(out["moved"]["contacts"], 1);
    assert_eq!(
        out["record"]["website"],
        "https://www.mueller-maschinen.example/kontakt"
    );
    company(&db, &["show", &b]).expect(3);
    assert_eq!(company(&db, &["duplicates"]).expect(0).json(), json!([]));

    // Someone edits the survivor: the undo is refused, naming what changed.
    let shown = company(&db, &["show", &a]).expect(0).json();
    let version = shown["version"].to_string();
    company(&db, &["edit", &a, "--version", &version, "--city", "Köln"]).expect(0);
    let refused = company(&db, &["unmerge", &merge_id, "--yes"]).expect(4);
    assert!(
        refused.stderr.contains("records themselves"),
        "{}",
        refused.stderr
    );
}

#[tokio::test]
async fn a_company_merge_undone_brings_everything_back() {
    let db = org().await;
    let a = id_of(
        &company(&db, &["add", "--name", "Eins GmbH"])
            .expect(0)
            .json(),
    );
    let b = id_of(
        &company(&db, &["add", "--name", "Eins AG", "--city", "Bonn"])
            .expect(0)
            .json(),
    );
    let out = company(&db, &["merge", &a, &b, "--yes"]).expect(0).json();
    assert_eq!(out["record"]["billing_city"], "Bonn");
    let merge_id = out["merge_id"].as_str().unwrap().to_string();
    let undone = company(&db, &["unmerge", &merge_id, "--yes"])
        .expect(0)
        .json();
    assert_eq!(undone["restored_ids"], json!([b]));
    assert_eq!(
        company(&db, &["show", &a]).expect(0).json()["billing_city"],
        Value::Null
    );
    assert_eq!(
        company(&db, &["show", &b]).expect(0).json()["billing_city"],
        "Bonn"
    );
    // A merge id is not reusable, and an unknown one is not found.
    company(&db, &["unmerge", &merge_id, "--yes"]).expect(4);
    company(
        &db,
        &["unmerge", "0190a0b0-0000-7000-8000-000000000000", "--yes"],
    )
    .expect(3);
    company(&db, &["unmerge", "nonsense", "--yes"]).expect(2);
}

/// `crm generate --duplicates` plants duplicates and writes the truth beside the file: after
/// `crm import`, anyone can score `crm contact duplicates` against it by e-mail address.
#[tokio::test]
async fn generated_duplicates_come_with_their_truth_and_are_found_after_an_import() {
    let dir = std::env::temp_dir().join(format!("crm-cli-dupes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("contacts.csv");
    let file_s = file.to_str().unwrap();
    let gen_args = [
        "generate",
        "contacts",
        "--size",
        "1000",
        "--duplicates",
        "10",
        "--out",
        file_s,
    ];
    crate::support::crm_with(None, &gen_args, "", &[]).expect(0);
    let truth = std::fs::read_to_string(dir.join("contacts.truth.csv")).unwrap();
    let mut lines = truth.lines();
    assert_eq!(
        lines.next(),
        Some("kind,variant,index_a,index_b,key_a,key_b")
    );
    let pairs: Vec<(String, String)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f[0], "contact");
            (f[4].to_string(), f[5].to_string())
        })
        .collect();
    assert_eq!(pairs.len(), 100, "10 % of 1,000 contacts");
    // Written to stdout, the truth needs a file of its own.
    crate::support::crm_with(
        None,
        &["generate", "contacts", "--duplicates", "5"],
        "",
        &[],
    )
    .expect(2);

    let db = org().await;
    let summary = crm(&db, &["import", "contacts", file_s]).expect(0).json();
    assert_eq!(summary["created"], 1100, "{summary}");
    let list = crm(&db, &["contact", "list", "--all"]).expect(0).json();
    let by_email: std::collections::HashMap<String, String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["email"].as_str().unwrap().to_string(), id_of(c)))
        .collect();
    let groups = crm(&db, &["contact", "duplicates", "--limit", "10000"])
        .expect(0)
        .json();
    let found: std::collections::HashSet<(String, String)> = groups
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["pairs"].as_array().unwrap().clone())
        .map(|p| {
            let ids = p["ids"].as_array().unwrap();
            let (a, b) = (ids[0].as_str().unwrap(), ids[1].as_str().unwrap());
            (a.min(b).to_string(), a.max(b).to_string())
        })
        .collect();
    let hits = pairs
        .iter()
        .filter(|(a, b)| {
            let (a, b) = (&by_email[a], &by_email[b]);
            found.contains(&(a.min(b).clone(), a.max(b).clone()))
        })
        .count();
    assert!(hits >= 90, "{hits} of 100 planted pairs found");
    std::fs::remove_dir_all(&dir).ok();
}
