//! `crm lexware` as a process against a mock of the Lexware Office API: not configured,
//! configure, search, import, voucher refresh with open amounts on `company show`, and a
//! sync summary.

use crm_core::testing::TestDb;
use serde_json::json;
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Run, crm, crm_with};

const ID: &str = "be9475f4-ef80-442b-8ab9-3ab8b1a2aeb9";

fn contact() -> serde_json::Value {
    json!({"id": ID, "version": 4, "roles": {"customer": {"number": 10307}},
           "company": {"name": "Testfirma & Söhne", "contactPersons": [{"firstName": "Max", "lastName": "Mustermann", "emailAddress": "max@testfirma.de"}]},
           "addresses": {"billing": [{"street": "Hauptstr. 5", "zip": "12345", "city": "Musterort", "countryCode": "DE"}]},
           "emailAddresses": {"business": ["info@testfirma.de"]}, "note": "Notizen", "archived": false})
}

async fn mock() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/profile"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"companyName": "Mock"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/contacts"))
        .and(query_param("name", "Testfirma &amp; S"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"content": [contact()], "first": true, "last": true,
            "totalPages": 1, "totalElements": 1, "numberOfElements": 1, "size": 250, "number": 0})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/v1/contacts/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(contact()))
        .mount(&server)
        .await;
    Mock::given(method("GET")).and(path("/v1/voucherlist")).and(query_param("contactId", ID))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"content": [
            {"id": "f3d3ae48-30d9-4b56-973a-b3159cbe743c", "voucherType": "invoice", "voucherStatus": "open",
             "voucherNumber": "RE1012", "voucherDate": "2026-11-14T00:00:00.000+01:00", "updatedDate": "2026-11-14T16:52:21.000+01:00",
             "dueDate": "2026-11-24T00:00:00.000+01:00", "contactId": ID, "contactName": "Testfirma & Söhne",
             "totalAmount": 99.8, "openAmount": 74.8, "currency": "EUR", "archived": false}],
            "first": true, "last": true, "totalPages": 1, "totalElements": 1, "numberOfElements": 1, "size": 250, "number": 0})))
        .mount(&server).await;
    server
}

fn lx(db: &TestDb, uri: &str, args: &[&str]) -> Run {
    let mut all = vec!["--format", "json", "lexware"];
    all.extend_from_slice(args);
    crm_with(
        Some(db),
        &all,
        "",
        &[("LEXWARE_API_URL", uri), ("LEXWARE_API_KEY", "")],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configure_search_import_refresh_and_sync_through_the_cli() {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Lex GmbH",
            "--admin-email",
            "a@x.test",
            "--no-password",
        ],
    )
    .expect(0);
    let server = mock().await;
    let uri = server.uri();

    let status = lx(&db, &uri, &["status"]).expect(0).json();
    assert_eq!(status["configured"], false);
    let e = lx(&db, &uri, &["search", "Testfirma"]).expect(1);
    assert!(e.stderr.contains("not configured"), "{}", e.stderr);

    crm_with(
        Some(&db),
        &["lexware", "configure", "--api-key-stdin"],
        "secret-key-4711\n",
        &[("LEXWARE_API_KEY", "")],
    )
    .expect(0);
    let status = lx(&db, &uri, &["status"]).expect(0);
    assert!(
        !status.stdout.contains("secret-key-4711") && !status.stderr.contains("secret-key-4711")
    );
    let status = status.json();
    assert_eq!(
        (status["configured"].clone(), status["reachable"].clone()),
        (json!(true), json!(true))
    );

    let found = lx(&db, &uri, &["search", "Testfirma & S"]).expect(0).json();
    assert_eq!(found[0]["id"], ID);
    assert_eq!(found[0]["customer_number"], 10307);

    let imported = lx(&db, &uri, &["import", ID]).expect(0).json();
    assert_eq!(imported["created_in_crm"], true);
    let company = imported["target"]["id"].as_str().unwrap().to_string();

    let refreshed = lx(&db, &uri, &["vouchers", "refresh"]).expect(0).json();
    assert_eq!(refreshed["vouchers"], 1);
    let shown = crm(&db, &["company", "show", &company]).expect(0).json();
    assert_eq!(shown["name"], "Testfirma & Söhne");
    assert_eq!(
        shown["lexware_open_amounts"]["by_currency"],
        json!([["EUR", "74.80"]])
    );

    let summary = lx(&db, &uri, &["sync"]).expect(0).json();
    for key in ["pushed", "pulled", "conflicts", "skipped", "failed"] {
        assert_eq!(summary[key], 0, "{key}: {summary}");
    }
    assert_eq!(summary["unchanged"], 1);
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests
            .iter()
            .all(|r| r.headers.get("authorization").unwrap() == "Bearer secret-key-4711")
    );
}
