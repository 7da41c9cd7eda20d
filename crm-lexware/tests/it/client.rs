//! The HTTP client against the mock: paging, error shapes, retries, encoding, the
//! voucher-list window.

use std::time::Duration;

use chrono::NaiveDate;
use crm_lexware::LexwareError;
use crm_lexware::client::contacts::ContactQuery;
use crm_lexware::client::vouchers::VoucherQuery;
use serde_json::json;
use uuid::Uuid;

use crate::mock::{Fault, Mock, StaleMode};
use crate::{KEY, client_for, client_with_timeout};

fn company(name: &str) -> serde_json::Value {
    json!({"company": {"name": name}, "emailAddresses": {"business": [format!("info@{}.de", name.to_lowercase().replace(' ', ""))]}})
}

#[tokio::test]
async fn search_follows_every_page_to_the_end() {
    let mock = Mock::start(None).await;
    for i in 0..600 {
        mock.add_contact(company(&format!("Firma {i:03}")));
    }
    let c = client_for(&mock.uri(), Duration::ZERO);
    let all = c
        .search_contacts(&ContactQuery {
            name: Some("firma".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 600);
    let pages = mock
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /v1/contacts?"))
        .count();
    assert_eq!(pages, 3, "250 per page: {:?}", mock.requests());
    assert_eq!(mock.rate_refusals(), 0);
}

#[tokio::test]
async fn search_strings_are_html_and_url_encoded() {
    let mock = Mock::start(None).await;
    let id = mock.add_contact(company("Johnson & Partner"));
    mock.add_contact(company("Johnson und Partner"));
    let c = client_for(&mock.uri(), Duration::ZERO);
    let hits = c
        .search_contacts(&ContactQuery {
            name: Some("johnson & partner".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        hits.iter()
            .map(|h| h.contact.id.unwrap())
            .collect::<Vec<_>>(),
        vec![id]
    );
    assert!(
        mock.requests()[0].contains("name=johnson%20%26amp%3B%20partner"),
        "{:?}",
        mock.requests()
    );
    // Too short a filter is refused before any request.
    let e = c
        .search_contacts(&ContactQuery {
            name: Some("jo".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(e, LexwareError::Core(crm_core::Error::Validation(_))),
        "{e}"
    );
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn legacy_and_regular_error_bodies_become_typed_errors_without_the_key() {
    let mock = Mock::start(None).await;
    let c = client_for(&mock.uri(), Duration::ZERO);
    let e = c
        .create_contact(&json!({"roles": {"customer": {}}}))
        .await
        .unwrap_err();
    match &e {
        LexwareError::Api {
            status: 406, body, ..
        } => assert!(body.names_field("company or person")),
        other => panic!("{other:?}"),
    }
    let q = VoucherQuery {
        types: "invoice".into(),
        statuses: "any".into(),
        contact_id: None,
        updated_from: None,
    };
    mock.inject_on("GET", "/v1/voucherlist", Fault::Status(400));
    let e = c.voucher_list(&q).await.unwrap_err();
    assert_eq!(e.status(), Some(400));
    let missing = c.get_contact(Uuid::now_v7()).await.unwrap_err();
    assert!(
        matches!(
            missing,
            LexwareError::Core(crm_core::Error::NotFound { .. })
        ),
        "{missing}"
    );
    for e in [e, missing] {
        assert!(!e.to_string().contains(KEY) && !format!("{e:?}").contains(KEY));
    }
    assert!(!format!("{c:?}").contains(KEY));
}

#[tokio::test]
async fn a_429_is_retried_for_any_method_honouring_retry_after() {
    let mock = Mock::start(None).await;
    let c = client_for(&mock.uri(), Duration::ZERO);
    mock.inject([Fault::RateLimited(Some(1)), Fault::RateLimited(None)]);
    let created = c.create_contact(&company("Neu")).await.unwrap();
    assert_eq!(
        mock.contact_count(),
        1,
        "a POST refused with 429 is safe to repeat"
    );
    assert_eq!(created.version, Some(1));
    let s = c.stats();
    assert_eq!((s.requests, s.rate_limited), (3, 2));
    // One second from the header plus the default (20 ms) for the bare 429.
    assert!(s.waited_ms >= 1_020, "{s:?}");
}

#[tokio::test]
async fn persistent_429s_give_up_with_a_clear_error() {
    let mock = Mock::start(None).await;
    let c = client_for(&mock.uri(), Duration::ZERO);
    mock.inject(std::iter::repeat_n(Fault::RateLimited(None), 5));
    let e = c.ping().await.unwrap_err();
    assert!(matches!(e, LexwareError::RateLimited(5)), "{e}");
}

#[tokio::test]
async fn server_errors_and_timeouts_are_retried_only_for_idempotent_requests() {
    let mock = Mock::start(None).await;
    let c = client_with_timeout(&mock.uri(), Duration::ZERO, Duration::from_millis(300));
    let id = mock.add_contact(company("Alt"));
    mock.inject([
        Fault::Status(503),
        Fault::Status(504),
        Fault::Slow(Duration::from_secs(2)),
    ]);
    let got = c.get_contact(id).await.unwrap();
    assert_eq!(got.contact.display_name(), "Alt");
    assert_eq!(mock.requests().len(), 4);

    mock.inject([Fault::Status(504)]);
    let e = c.create_contact(&company("Neu")).await.unwrap_err();
    assert_eq!(e.status(), Some(504));
    mock.inject([Fault::Slow(Duration::from_secs(2))]);
    let e = c.create_contact(&company("Neu")).await.unwrap_err();
    assert!(matches!(e, LexwareError::Timeout(_, false)), "{e}");
    assert!(e.to_string().contains("check in Lexware Office"));
    assert_eq!(
        mock.requests().len(),
        6,
        "a POST is never repeated after a 5xx or timeout"
    );
}

#[tokio::test]
async fn stale_versions_are_conflicts_in_both_modes() {
    for mode in [StaleMode::Conflict409, StaleMode::Invalid406] {
        let mock = Mock::start(None).await;
        mock.stale_mode(mode);
        let c = client_for(&mock.uri(), Duration::ZERO);
        let id = mock.add_contact(company("Alt"));
        let read = c.get_contact(id).await.unwrap();
        mock.edit_contact(id, |v| v["note"] = json!("edited in Lexware"));
        let e = c.update_contact(id, &read.raw).await.unwrap_err();
        assert!(matches!(e, LexwareError::VersionConflict), "{mode:?}: {e}");
        let mut fresh = c.get_contact(id).await.unwrap().raw;
        fresh["company"]["name"] = json!("Neu");
        let done = c.update_contact(id, &fresh).await.unwrap();
        assert_eq!(done.version, Some(3));
        assert_eq!(mock.contact(id)["note"], "edited in Lexware");
    }
}

fn voucher(i: usize, date: NaiveDate, contact: Uuid) -> serde_json::Value {
    json!({"id": Uuid::now_v7(), "voucherType": "invoice", "voucherStatus": "open",
           "voucherNumber": format!("RE{i}"), "voucherDate": format!("{date}T00:00:00.000+01:00"),
           "updatedDate": format!("{date}T10:00:00.000+01:00"), "contactId": contact,
           "contactName": "Kunde", "totalAmount": 100.0, "openAmount": 50.0, "currency": "EUR", "archived": false})
}

#[tokio::test]
async fn voucher_lists_beyond_the_10000_window_are_fetched_by_narrowing_dates() {
    let mock = Mock::start(None).await;
    let contact = Uuid::now_v7();
    let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    for i in 0..10_300 {
        mock.add_voucher(voucher(
            i,
            start + chrono::Duration::days((i % 2000) as i64),
            contact,
        ));
    }
    let c = client_for(&mock.uri(), Duration::ZERO);
    let all = c
        .voucher_list(&VoucherQuery::for_contact(contact, None))
        .await
        .unwrap();
    assert_eq!(all.len(), 10_300);
    let mut ids: Vec<Uuid> = all.iter().map(|v| v.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10_300);
    assert!(
        mock.requests()
            .iter()
            .any(|r| r.contains("voucherDateFrom="))
    );
    assert!(mock.requests().iter().all(|r| r.contains("size=250")));
}
