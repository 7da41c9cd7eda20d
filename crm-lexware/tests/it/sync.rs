//! Contacts, vouchers and the sync against the mock and a real database.

use std::time::Duration;

use crm_core::lexware::{LinkTarget, links, vouchers};
use crm_core::store::company::{self, CompanyPatch, NewCompany};
use crm_core::store::contact;
use crm_core::testing::TestDb;
use crm_core::{Scope, store};
use crm_lexware::mapping;
use crm_lexware::sync::{Lexware, SyncOptions};
use crm_lexware::{LexwareError, Limiter};
use serde_json::json;
use uuid::Uuid;

use crate::mock::{Fault, Mock};
use crate::{KEY, client_for, fast_retry};

struct World {
    _db: TestDb,
    mock: Mock,
    owner: Scope,
    lx: Lexware,
}

/// A database, an organization, a mock enforcing 2 requests per 100 ms (the real limit
/// with time scaled by ten) and a client paced by the database limiter at 1.5 per 100 ms.
async fn world() -> World {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Sync GmbH").await;
    let owner = db.crm.scope(org, owner);
    let mock = Mock::start(Some((2, Duration::from_millis(100)))).await;
    let mut cfg =
        crm_lexware::Config::new(mock.uri(), secrecy::SecretString::from(KEY.to_string()));
    cfg.retry = fast_retry();
    let integration = Lexware::integration_scope(&owner).await.unwrap();
    let limiter = Limiter::database_with(integration.clone(), Duration::from_millis(67));
    let client = crm_lexware::Client::new(cfg, limiter).unwrap();
    let lx = Lexware::new(client, integration);
    World {
        _db: db,
        mock,
        owner,
        lx,
    }
}

fn lex_company(name: &str) -> serde_json::Value {
    let slug: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    json!({"company": {"name": name,
             "contactPersons": [{"firstName": "Max", "lastName": "Mustermann", "emailAddress": format!("max@{slug}.de")}]},
           "addresses": {"billing": [{"street": "Hauptstr. 5", "zip": "12345", "city": "Köln", "countryCode": "DE"}]},
           "emailAddresses": {"business": ["info@muster.de"]},
           "phoneNumbers": {"business": ["0221 12345"]},
           "note": "Stammkunde"})
}

async fn crm_company(scope: &Scope, id: crm_core::CompanyId) -> company::Company {
    scope
        .run(async |tx| company::get(tx, id).await)
        .await
        .unwrap()
}

#[tokio::test]
async fn import_creates_the_company_with_its_contact_persons_and_the_link() {
    let w = world().await;
    let mut muster = lex_company("Muster AG");
    muster["company"]["vatRegistrationId"] = json!("DE 136 695 976");
    let lid = w.mock.add_contact(muster);
    let r = w.lx.import(lid).await.unwrap();
    let Some(LinkTarget::Company(cid)) = r.target else {
        panic!("{r:?}")
    };
    let c = crm_company(&w.owner, cid).await;
    assert_eq!(c.name, "Muster AG");
    assert_eq!(c.vat_id.as_deref(), Some("DE136695976"));
    assert_eq!(c.billing_city.as_deref(), Some("Köln"));
    assert_eq!(c.custom["note"], "Stammkunde");
    assert!(c.custom["lexware_customer_number"].is_number());
    assert_eq!(c.contacts, 1);
    let people = w
        .owner
        .run(async |tx| contact::find_by_email(tx, "max@musterag.de").await)
        .await
        .unwrap();
    assert_eq!(people.company_id, Some(cid));
    // Importing again updates the linked record instead of creating another.
    w.mock.edit_contact(lid, |c| c["note"] = json!("Neukunde"));
    let again = w.lx.import(lid).await.unwrap();
    assert_eq!(again.target, r.target);
    assert_eq!(crm_company(&w.owner, cid).await.custom["note"], "Neukunde");
    // The change is audited under the integration actor.
    let filter = crm_core::audit::AuditFilter {
        entity_type: Some("company".into()),
        entity_id: Some(cid.uuid()),
        ..Default::default()
    };
    let entries = w
        .owner
        .run(async |tx| crm_core::audit::log(tx, &filter).await)
        .await
        .unwrap();
    let last = entries.iter().max_by_key(|e| e.seq).unwrap();
    assert_eq!(last.actor_id, Some(w.lx.scope().actor()));
    assert_eq!(last.action, "update");
}

#[tokio::test]
async fn push_creates_with_version_0_then_updates_by_merging_onto_a_fresh_read() {
    let w = world().await;
    let created = w
        .owner
        .run(async |tx| {
            company::create(
                tx,
                NewCompany {
                    name: "Neu GmbH".into(),
                    billing_city: Some("Bonn".into()),
                    billing_country: Some("DE".into()),
                    email: Some("hallo@neu.de".into()),
                    ..NewCompany::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    let r = w.lx.push(LinkTarget::Company(created.id)).await.unwrap();
    assert!(r.created_in_lexware);
    let lid = r.lexware_id.unwrap();
    let remote = w.mock.contact(lid);
    assert_eq!(remote["company"]["name"], "Neu GmbH");
    assert_eq!(remote["addresses"]["billing"][0]["city"], "Bonn");
    assert_eq!(
        remote["emailAddresses"]["business"],
        json!(["hallo@neu.de"])
    );
    // Lexware adds something the CRM does not map; the CRM renames the company.
    w.mock.edit_contact(lid, |c| {
        c["xRechnung"] = json!({"buyerReference": "04011000-1", "vendorNumberAtCustomer": "7"})
    });
    let v = crm_company(&w.owner, created.id).await.version;
    w.owner
        .run(async |tx| {
            company::update(
                tx,
                created.id,
                CompanyPatch {
                    name: Some("Neu & Co GmbH".into()),
                    ..CompanyPatch::at(v)
                },
            )
            .await
        })
        .await
        .unwrap();
    let r = w.lx.push(LinkTarget::Company(created.id)).await.unwrap();
    assert_eq!(r.pushed, vec!["name".to_string()]);
    let remote = w.mock.contact(lid);
    assert_eq!(remote["company"]["name"], "Neu & Co GmbH");
    assert_eq!(
        remote["xRechnung"]["buyerReference"], "04011000-1",
        "unmapped fields survive the PUT"
    );
    assert_eq!(remote["version"], 3);
}

#[tokio::test]
async fn fields_changed_on_both_sides_are_reported_with_both_values_and_nothing_is_overwritten() {
    let w = world().await;
    let lid = w.mock.add_contact(lex_company("Beide AG"));
    let Some(LinkTarget::Company(cid)) = w.lx.import(lid).await.unwrap().target else {
        panic!()
    };
    let v = crm_company(&w.owner, cid).await.version;
    w.owner
        .run(async |tx| {
            company::update(
                tx,
                cid,
                CompanyPatch {
                    billing_city: Some(Some("Bonn".into())),
                    ..CompanyPatch::at(v)
                },
            )
            .await
        })
        .await
        .unwrap();
    w.mock.edit_contact(lid, |c| {
        c["addresses"]["billing"][0]["city"] = json!("Aachen");
        c["note"] = json!("neu in Lexware");
    });
    let link = w
        .owner
        .run(async |tx| links::find_by_lexware(tx, lid).await)
        .await
        .unwrap()
        .unwrap();
    let r =
        w.lx.reconcile(&link, mapping::Prefer::Neither)
            .await
            .unwrap();
    assert_eq!(r.conflicts.len(), 1);
    assert_eq!(r.conflicts[0].field, "billing.city");
    assert_eq!(
        (
            r.conflicts[0].crm.as_deref(),
            r.conflicts[0].lexware.as_deref()
        ),
        (Some("Bonn"), Some("Aachen"))
    );
    assert_eq!(r.pulled, vec!["note".to_string()]);
    let c = crm_company(&w.owner, cid).await;
    assert_eq!(c.billing_city.as_deref(), Some("Bonn"));
    assert_eq!(c.custom["note"], "neu in Lexware");
    assert_eq!(
        w.mock.contact(lid)["addresses"]["billing"][0]["city"],
        "Aachen"
    );
    // The conflict stays open (and reported) until someone decides: an explicit push.
    let link = w
        .owner
        .run(async |tx| links::find_by_lexware(tx, lid).await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.conflicts.as_array().map(Vec::len), Some(1));
    let again =
        w.lx.reconcile(&link, mapping::Prefer::Neither)
            .await
            .unwrap();
    assert_eq!(again.conflicts.len(), 1);
    w.lx.push(LinkTarget::Company(cid)).await.unwrap();
    assert_eq!(
        w.mock.contact(lid)["addresses"]["billing"][0]["city"],
        "Bonn"
    );
}

#[tokio::test]
async fn contacts_with_several_entries_in_a_list_are_reported_not_mangled() {
    let w = world().await;
    let mut two = lex_company("Zwei AG");
    two["emailAddresses"]["business"] = json!(["a@zwei.de", "b@zwei.de"]);
    let lid = w.mock.add_contact(two);
    let Some(LinkTarget::Company(cid)) = w.lx.import(lid).await.unwrap().target else {
        panic!()
    };
    let v = crm_company(&w.owner, cid).await.version;
    w.owner
        .run(async |tx| {
            company::update(
                tx,
                cid,
                CompanyPatch {
                    name: Some("Zwei neu AG".into()),
                    ..CompanyPatch::at(v)
                },
            )
            .await
        })
        .await
        .unwrap();
    let before = w.mock.contact(lid);
    let r = w.lx.push(LinkTarget::Company(cid)).await.unwrap();
    assert_eq!(
        r.not_updatable.as_deref(),
        Some("e-mail address of kind 'business'")
    );
    assert!(r.pushed.is_empty());
    assert_eq!(w.mock.contact(lid), before);
    assert!(!w.mock.requests().iter().any(|r| r.starts_with("PUT")));
}

#[tokio::test]
async fn vouchers_are_cached_refreshed_incrementally_linked_to_deals_and_summed() {
    let w = world().await;
    let lid = w.mock.add_contact(lex_company("Rechnung AG"));
    let Some(LinkTarget::Company(cid)) = w.lx.import(lid).await.unwrap().target else {
        panic!()
    };
    let inv = |n: &str, status: &str, open: serde_json::Value| {
        json!({"id": Uuid::now_v7(), "voucherType": "invoice",
        "voucherStatus": status, "voucherNumber": n, "voucherDate": "2026-11-02T00:00:00.000+01:00",
        "updatedDate": "2026-11-02T10:00:00.000+01:00", "contactId": lid, "contactName": "Rechnung AG",
        "totalAmount": 119.0, "openAmount": open, "currency": "EUR", "archived": false})
    };
    w.mock.add_voucher(inv("RE1", "open", json!(119.0)));
    w.mock.add_voucher(inv("RE2", "paid", json!(0)));
    w.mock.add_voucher(inv("RE3", "overdue", json!("50.50")));
    let link = w
        .owner
        .run(async |tx| links::find_by_lexware(tx, lid).await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w.lx.refresh_vouchers(&link, false).await.unwrap(), 3);
    let open = w
        .owner
        .run(async |tx| vouchers::open_for_company(tx, cid).await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        open.by_currency,
        vec![("EUR".to_string(), "169.50".parse().unwrap())]
    );
    // The next refresh asks only for what changed since (a day of overlap).
    let link = w
        .owner
        .run(async |tx| links::find_by_lexware(tx, lid).await)
        .await
        .unwrap()
        .unwrap();
    assert!(link.vouchers_refreshed_at.is_some());
    w.lx.refresh_vouchers(&link, false).await.unwrap();
    assert!(
        w.mock
            .requests()
            .last()
            .unwrap()
            .contains("updatedDateFrom=")
    );
    // Link one to a deal.
    let deal = w
        .owner
        .run(async |tx| {
            store::deal::create(
                tx,
                store::deal::NewDeal {
                    title: "Projekt".into(),
                    company_id: Some(cid),
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    let re1 = w
        .owner
        .run(async |tx| vouchers::resolve(tx, "RE1").await)
        .await
        .unwrap();
    w.owner
        .run(async |tx| vouchers::link_deal(tx, deal.id, re1.id).await)
        .await
        .unwrap();
    let d = w
        .owner
        .run(async |tx| vouchers::open_for_deal(tx, deal.id).await)
        .await
        .unwrap();
    assert_eq!(
        d.by_currency,
        vec![("EUR".to_string(), "119".parse().unwrap())]
    );
    w.owner
        .run(async |tx| vouchers::unlink_deal(tx, deal.id, re1.id).await)
        .await
        .unwrap();
    let d = w
        .owner
        .run(async |tx| vouchers::open_for_deal(tx, deal.id).await)
        .await
        .unwrap();
    assert!(d.by_currency.is_empty());
}

#[tokio::test]
async fn a_sync_with_injected_faults_ends_consistent_with_a_truthful_summary() {
    let w = world().await;
    // Linked before the run: two companies imported from Lexware.
    let a = w.mock.add_contact(lex_company("Alpha AG"));
    let b = w.mock.add_contact(lex_company("Beta AG"));
    let Some(LinkTarget::Company(alpha)) = w.lx.import(a).await.unwrap().target else {
        panic!()
    };
    let Some(LinkTarget::Company(_beta)) = w.lx.import(b).await.unwrap().target else {
        panic!()
    };
    // Start the outbox consumer after the imports (they are the sync's own changes anyway).
    w.lx.sync(&SyncOptions {
        pull_limit: 0,
        ..SyncOptions::default()
    })
    .await
    .unwrap();
    // In the CRM: a new ERP-tagged company, and Alpha edited and tagged ERP.
    let gamma = w
        .owner
        .run(async |tx| {
            company::create(
                tx,
                NewCompany {
                    name: "Gamma GmbH".into(),
                    tags: vec!["ERP".into()],
                    ..NewCompany::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    let v = crm_company(&w.owner, alpha).await.version;
    w.owner
        .run(async |tx| {
            company::update(
                tx,
                alpha,
                CompanyPatch {
                    name: Some("Alpha Neu AG".into()),
                    tags: Some(vec!["ERP".into()]),
                    ..CompanyPatch::at(v)
                },
            )
            .await
        })
        .await
        .unwrap();
    // In Lexware: Beta edited, and Alpha edited concurrently with the push.
    w.mock
        .edit_contact(b, |c| c["phoneNumbers"]["mobile"] = json!(["0170 1234567"]));
    w.mock
        .race_on_next_put(a, |c| c["note"] = json!("geändert während des Syncs"));
    // Faults: a burst of 429s (with and without Retry-After) and server errors.
    w.mock.inject([
        Fault::RateLimited(None),
        Fault::Status(503),
        Fault::RateLimited(Some(0)),
        Fault::Status(500),
    ]);
    let s = w.lx.sync(&SyncOptions::default()).await.unwrap();
    assert_eq!(
        (s.pushed, s.conflicts, s.skipped, s.failed),
        (2, 0, 0, 0),
        "{s:?}"
    );
    // Pulled: Alpha (the concurrent note) and Beta (the phone).
    assert_eq!(s.pulled, 2, "{s:?}");
    let http = s.http.unwrap();
    assert!(http.rate_limited >= 2 && http.retried >= 4, "{http:?}");
    assert_eq!(
        w.mock.rate_refusals(),
        0,
        "the pacer never went over the mock's limit"
    );
    // Both sides agree on every mapped field of every link.
    let all = w.owner.run(async |tx| links::list(tx).await).await.unwrap();
    assert_eq!(all.len(), 3);
    for link in &all {
        let LinkTarget::Company(id) = link.target else {
            panic!()
        };
        let crm = mapping::from_company(&crm_company(&w.owner, id).await);
        let lex: crm_lexware::model::LxContact =
            serde_json::from_value(w.mock.contact(link.lexware_id)).unwrap();
        assert_eq!(crm, mapping::from_lexware(&lex), "link {}", link.id);
    }
    assert_eq!(w.mock.contact(a)["note"], "geändert während des Syncs");
    assert_eq!(w.mock.contact(a)["company"]["name"], "Alpha Neu AG");
    assert_eq!(
        crm_company(&w.owner, alpha).await.custom["note"],
        "geändert während des Syncs"
    );
    let gamma_link = all
        .iter()
        .find(|l| l.target == LinkTarget::Company(gamma.id))
        .unwrap();
    assert_eq!(
        w.mock.contact(gamma_link.lexware_id)["company"]["name"],
        "Gamma GmbH"
    );
    // A second run finds nothing to do.
    let again = w.lx.sync(&SyncOptions::default()).await.unwrap();
    assert_eq!(
        (
            again.pushed,
            again.pulled,
            again.conflicts,
            again.failed,
            again.unchanged
        ),
        (0, 0, 0, 0, 3),
        "{again:?}"
    );
}

#[tokio::test]
async fn two_syncs_at_once_do_not_both_work() {
    let w = world().await;
    let lock = crm_core::lexware::SyncLock::try_acquire(w.owner.crm(), w.owner.org())
        .await
        .unwrap()
        .unwrap();
    let e = w.lx.sync(&SyncOptions::default()).await.unwrap_err();
    assert!(
        matches!(e, LexwareError::Core(crm_core::Error::Conflict(_))),
        "{e}"
    );
    lock.release().await.unwrap();
    w.lx.sync(&SyncOptions::default()).await.unwrap();
}

#[tokio::test]
async fn an_outage_leaves_the_outbox_cursor_before_the_unpushed_record() {
    let w = world().await;
    w.lx.sync(&SyncOptions::default()).await.unwrap();
    let c = w
        .owner
        .run(async |tx| {
            company::create(
                tx,
                NewCompany {
                    name: "Später GmbH".into(),
                    tags: vec!["ERP".into()],
                    ..NewCompany::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    // The POST times out at the gateway: never repeated blindly, and the event is kept.
    w.mock.inject_on("POST", "/v1/contacts", Fault::Status(504));
    let s = w.lx.sync(&SyncOptions::default()).await.unwrap();
    assert_eq!((s.pushed, s.failed), (0, 1), "{s:?}");
    assert_eq!(w.mock.contact_count(), 0);
    let s = w.lx.sync(&SyncOptions::default()).await.unwrap();
    assert_eq!((s.pushed, s.failed), (1, 0), "{s:?}");
    let link = w
        .owner
        .run(async |tx| links::find_by_target(tx, LinkTarget::Company(c.id)).await)
        .await
        .unwrap();
    assert!(link.is_some());
    let _ = client_for;
}
