//! GDPR: subject export, erasure that leaves nothing behind (checked down to a pg_dump of
//! the database), interrupted erasure, consent, retention, organization export and deletion.

use std::path::PathBuf;
use std::process::Command;

use chrono::TimeDelta;
use crm_core::audit::{self, AuditFilter};
use crm_core::auth::NewUser;
use crm_core::auth::user;
use crm_core::domain::{ActivityType, UserRole};
use crm_core::export::{ExportFilter, ExportFormat, ExportKind, export};
use crm_core::gdpr::{self, consent};
use crm_core::store::activity::{self, NewActivity};
use crm_core::store::company::{self, NewCompany};
use crm_core::store::contact::NewContactPhone;
use crm_core::store::contact::{self, ContactFilter, ContactPatch, NewContact, NewContactEmail};
use crm_core::store::deal::{self, NewDeal};
use crm_core::store::{Page, PageRequest};
use crm_core::testing::TestDb;
use crm_core::{CompanyId, ContactId, DealId, Error, Scope, Tx, UserId};
use sqlx::Connection as _;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

const FIRST: &str = "Xaver";
const LAST: &str = "Quaxenbrück";
const EMAIL: &str = "xaver.q@quax.example";
const EMAIL2: &str = "X.Quaxenbrueck@Privat.example";
const OLD_EMAIL: &str = "xq-alt@quax.example";
const MOBILE: &str = "0151 2345 6789";
const OFFICE: &str = "+49 30 9876 5432";

/// Everything about the person the story tests erase.
struct Subject {
    id: ContactId,
    duplicate: ContactId,
    merged: ContactId,
    deal: DealId,
    company: CompanyId,
    /// Strings that must not survive an erasure: names, addresses, numbers (raw and E.164).
    secrets: Vec<String>,
}

async fn user_with_role(scope: &Scope, email: &str, role: UserRole) -> UserId {
    scope
        .run(async |tx| {
            user::add(
                tx,
                NewUser {
                    email: email.into(),
                    first_name: "Uwe".into(),
                    last_name: "User".into(),
                    role,
                    password: None,
                    team: None,
                    visibility: None,
                },
            )
            .await
        })
        .await
        .unwrap()
        .id
}

/// A person with two addresses, two numbers, a company, tags, an update in the audit log,
/// a soft-deleted duplicate (same e-mail), a record merged into them, a deal that names
/// them, an activity about them alone and one also on the deal that mentions them,
/// consents, and a Lexware link with a cached voucher that names them. Plus a control
/// person who must survive.
async fn story(tx: &mut Tx) -> Subject {
    let company = company::create(
        tx,
        NewCompany {
            name: "Quax Logistik GmbH".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    // The duplicate comes first and is soft-deleted: the live record then takes the address.
    let duplicate = contact::create(
        tx,
        NewContact {
            first_name: FIRST.into(),
            last_name: LAST.into(),
            email: Some(EMAIL.into()),
            city: Some("Quakenbrück".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    contact::delete(tx, duplicate, None).await.unwrap();
    let c = contact::create(
        tx,
        NewContact {
            first_name: FIRST.into(),
            last_name: "Quaxenbrueck".into(),
            email: Some(EMAIL.into()),
            emails: vec![NewContactEmail {
                email: EMAIL2.into(),
                ..Default::default()
            }],
            phones: vec![
                NewContactPhone {
                    number: MOBILE.into(),
                    ..Default::default()
                },
                NewContactPhone {
                    number: OFFICE.into(),
                    ..Default::default()
                },
            ],
            company_id: Some(company),
            tags: vec!["VIP".into()],
            job_title: Some("Disponent".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // Fix the spelling: the audit log now holds both.
    let c = contact::update(
        tx,
        c.id,
        ContactPatch {
            last_name: Some(LAST.into()),
            ..ContactPatch::at(c.version)
        },
    )
    .await
    .unwrap();
    let merged = contact::create(
        tx,
        NewContact {
            first_name: FIRST.into(),
            last_name: LAST.into(),
            email: Some(OLD_EMAIL.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    contact::merge(tx, c.id, merged).await.unwrap();
    let deal = deal::create(
        tx,
        NewDeal {
            title: format!("Rahmenvertrag {LAST}"),
            value: Some("12500".into()),
            contact_id: Some(c.id),
            company_id: Some(company),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    activity::create(
        tx,
        NewActivity {
            kind: ActivityType::Note,
            subject: "Privates Gespräch".into(),
            body: Some(format!("{FIRST} mag Segeln")),
            contact_id: Some(c.id),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    activity::create(
        tx,
        NewActivity {
            kind: ActivityType::Call,
            subject: format!("Rückruf {FIRST} {LAST}"),
            body: Some(format!("erreichbar unter {MOBILE} oder {EMAIL}")),
            contact_id: Some(c.id),
            deal_id: Some(deal),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    consent::grant(tx, c.id, "marketing", "Webformular")
        .await
        .unwrap();
    consent::revoke(tx, c.id, "marketing", "Anruf")
        .await
        .unwrap();
    consent::grant(tx, c.id, "newsletter", "Messe")
        .await
        .unwrap();
    let lexware_id = Uuid::now_v7();
    sqlx::query(
        "insert into lexware_contact_links (org_id, id, contact_id, lexware_id) \
         values ($1, $2, $3, $4)",
    )
    .bind(tx.org())
    .bind(Uuid::now_v7())
    .bind(c.id)
    .bind(lexware_id)
    .execute(tx.conn())
    .await
    .unwrap();
    sqlx::query(
        "insert into lexware_vouchers (org_id, id, lexware_id, voucher_type, voucher_number, \
                                       total_amount, currency, lexware_contact_id, payload) \
         values ($1, $2, $3, 'invoice', 'RE-1', 12500, 'EUR', $4, $5)",
    )
    .bind(tx.org())
    .bind(Uuid::now_v7())
    .bind(Uuid::now_v7())
    .bind(lexware_id)
    .bind(serde_json::json!({ "address": { "name": format!("{FIRST} {LAST}") } }))
    .execute(tx.conn())
    .await
    .unwrap();
    // The control person: must survive everything.
    contact::create(
        tx,
        NewContact {
            first_name: "Berta".into(),
            last_name: "Beispielfrau".into(),
            email: Some("berta@other.example".into()),
            company_id: Some(company),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let c = contact::get(tx, c.id).await.unwrap();
    let mut secrets: Vec<String> = vec![
        FIRST.into(),
        LAST.into(),
        "Quaxenbrueck".into(),
        EMAIL.into(),
        EMAIL2.into(),
        OLD_EMAIL.into(),
        MOBILE.into(),
        OFFICE.into(),
    ];
    secrets.extend(c.phones.iter().map(|p| p.number.clone()));
    assert_eq!(c.phones.len(), 2);
    Subject {
        id: c.id,
        duplicate,
        merged,
        deal,
        company,
        secrets,
    }
}

/// The directory of the PostgreSQL client binaries (found like the local cluster finds
/// the server's).
fn pg_bindir() -> PathBuf {
    let has = |d: &std::path::Path| d.join("pg_dump").is_file();
    if let Some(d) = std::env::var_os("CRM_PG_BINDIR").map(PathBuf::from)
        && has(&d)
    {
        return d;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has(d))
        .collect();
    versions.sort();
    if let Some((_, d)) = versions.pop() {
        return d;
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has(&d) {
            return d;
        }
    }
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).find(|d| has(d)))
        .expect("pg_dump not found")
}

/// A full plain-text dump of the test database.
pub(crate) fn pg_dump(db: &TestDb) -> String {
    let out = Command::new(pg_bindir().join("pg_dump"))
        .arg("--dbname")
        .arg(db.url())
        .arg("--no-owner")
        .arg("--no-privileges")
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("dump is UTF-8")
}

/// The secrets found (case-insensitively) in `text`.
pub(crate) fn leaked<'a>(text: &str, secrets: &'a [String]) -> Vec<&'a str> {
    let lower = text.to_lowercase();
    secrets
        .iter()
        .filter(|s| lower.contains(&s.to_lowercase()))
        .map(String::as_str)
        .collect()
}

fn field_names(e: &Error) -> Vec<String> {
    match e {
        Error::Validation(f) => f.0.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    let mut owner = db.owner().await;
    let n = sqlx::query_scalar(sql).fetch_one(&mut owner).await.unwrap();
    owner.close().await.ok();
    n
}

// ---------------------------------------------------------------------------------------
// Subject export
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn subject_export_finds_the_person_by_id_or_any_address_with_everything_held() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Export Schutz GmbH").await;
    let scope = db.crm.scope(org, owner);
    let s = scope.run(async |tx| Ok(story(tx).await)).await.unwrap();

    for reference in [
        s.id.to_string(),
        EMAIL.to_string(),
        EMAIL2.to_uppercase(),
        s.merged.to_string(),
    ] {
        let x = scope
            .run(async |tx| gdpr::subject_export(tx, &reference).await)
            .await
            .unwrap();
        assert_eq!(x.contact.id, s.id, "{reference}");
        let mut others: Vec<ContactId> = x.other_records.iter().map(|c| c.id).collect();
        others.sort();
        // The soft-deleted duplicate only shares an address: not taken without the operator
        // naming it (issue 14, item 4).
        assert_eq!(others, vec![s.merged], "{reference}");
    }
    let x = scope
        .run(async |tx| gdpr::subject_export(tx, EMAIL2).await)
        .await
        .unwrap();
    let v = serde_json::to_value(&x).unwrap();
    for key in [
        "subject",
        "contact",
        "other_records",
        "emails",
        "phones",
        "company",
        "deals",
        "activities",
        "owners",
        "consents",
        "audit",
        "lexware",
        "generated_at",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["subject"]["format"], "crm.subject_export.v1");
    assert_eq!(v["subject"]["matched_by"], "email");
    assert_eq!(v["subject"]["organization"], "Export Schutz GmbH");
    assert_eq!(v["subject"]["record_ids"].as_array().unwrap().len(), 2);
    let emails: Vec<&str> = x.emails.iter().map(|e| e.email.as_str()).collect();
    for e in [EMAIL, EMAIL2, OLD_EMAIL] {
        assert!(emails.contains(&e), "{e} missing in {emails:?}");
    }
    assert_eq!(x.phones.len(), 2);
    assert!(
        x.phones
            .iter()
            .any(|p| p.raw == MOBILE && p.number == "+4915123456789")
    );
    assert_eq!(x.company.as_ref().map(|c| c.id), Some(s.company));
    assert_eq!(x.deals.len(), 1);
    assert_eq!(x.deals[0].id, s.deal);
    assert_eq!(v["deals"][0]["value"], "12500.00");
    assert_eq!(x.activities.len(), 2);
    assert!(
        x.owners
            .iter()
            .any(|o| o.user_id == owner && o.name.as_deref() == Some("Olga Owner"))
    );
    let consents: Vec<(&str, &str)> = x
        .consents
        .iter()
        .map(|c| (c.purpose.as_str(), c.status.as_str()))
        .collect();
    assert_eq!(
        consents,
        [
            ("marketing", "granted"),
            ("marketing", "revoked"),
            ("newsletter", "granted")
        ]
    );
    let actions: Vec<&str> = x.audit.iter().map(|a| a.action.as_str()).collect();
    // ("delete" was the duplicate's, which is no longer part of the person.)
    for a in [
        "create",
        "update",
        "merge",
        "consent_granted",
        "consent_revoked",
    ] {
        assert!(actions.contains(&a), "audit lacks {a}: {actions:?}");
    }
    assert!(x.audit.iter().any(|a| a.entity_type == "activity"));
    assert!(
        x.audit
            .iter()
            .all(|a| a.actor.as_deref() == Some("Olga Owner"))
    );
    assert_eq!(x.lexware.len(), 1);

    // The CSV bundle: one file per section with a header.
    let dir = std::env::temp_dir().join(format!("crm-subject-{}", Uuid::now_v7()));
    let files = gdpr::write_csv_bundle(&x, &dir, Default::default()).unwrap();
    assert_eq!(files.len(), 12);
    let mut r = csv::Reader::from_path(dir.join("emails.csv")).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["contact_id", "email", "kind", "primary", "created_at"]
    );
    assert_eq!(r.records().count(), x.emails.len());
    let audit_csv = std::fs::read_to_string(dir.join("audit.csv")).unwrap();
    assert!(audit_csv.contains("consent_granted"));
    let lexware_csv = std::fs::read_to_string(dir.join("lexware.csv")).unwrap();
    assert_eq!(lexware_csv.lines().count(), 2);
    std::fs::remove_dir_all(&dir).ok();

    // Unknown people, malformed references, and roles without the export right.
    let e = scope
        .run(async |tx| gdpr::subject_export(tx, "nobody@nowhere.example").await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { entity: "contact" }), "{e:?}");
    let e = scope
        .run(async |tx| gdpr::subject_export(tx, &Uuid::now_v7().to_string()).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    let e = scope
        .run(async |tx| gdpr::subject_export(tx, "@@").await)
        .await
        .unwrap_err();
    assert_eq!(field_names(&e), ["contact"]);
    let u = user_with_role(&scope, "u@x.test", UserRole::User).await;
    let e = db
        .crm
        .scope(org, u)
        .run(async |tx| gdpr::subject_export(tx, EMAIL).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)), "{e:?}");
    // Another organization does not know the person.
    let (other, other_owner) = db.org("Fremd AG").await;
    let e = db
        .crm
        .scope(other, other_owner)
        .run(async |tx| gdpr::subject_export(tx, EMAIL).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
}

#[tokio::test]
async fn a_manager_who_sees_only_own_records_still_exports_the_whole_person() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Sicht GmbH").await;
    let scope = db.crm.scope(org, owner);
    let s = scope.run(async |tx| Ok(story(tx).await)).await.unwrap();
    let m = user_with_role(&scope, "m@x.test", UserRole::Manager).await;
    let mut o = db.owner().await;
    sqlx::query("update users set visibility = 'own' where id = $1")
        .bind(m)
        .execute(&mut o)
        .await
        .unwrap();
    let manager = db.crm.scope(org, m);
    // The manager sees none of the records in lists ...
    let page = manager
        .run(async |tx| contact::list(tx, &ContactFilter::default(), PageRequest::default()).await)
        .await
        .unwrap();
    assert!(page.items.is_empty());
    // ... but the subject export is complete.
    let x = manager
        .run(async |tx| gdpr::subject_export(tx, EMAIL).await)
        .await
        .unwrap();
    assert_eq!(x.contact.id, s.id);
    assert_eq!(x.other_records.len(), 1);
    // And the visibility is back afterwards in the same transaction.
    let mut tx = manager.begin().await.unwrap();
    gdpr::subject_export(&mut tx, EMAIL).await.unwrap();
    let page = contact::list(&mut tx, &ContactFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert!(page.items.is_empty());
}

// ---------------------------------------------------------------------------------------
// Erasure
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn after_erasure_nothing_finds_the_person_not_even_a_pg_dump() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Vergessen GmbH").await;
    let scope = db.crm.scope(org, owner);
    let s = scope.run(async |tx| Ok(story(tx).await)).await.unwrap();
    let before = pg_dump(&db);
    assert!(
        leaked(&before, &s.secrets).len() == s.secrets.len(),
        "the dump should hold every secret before: {:?}",
        leaked(&before, &s.secrets)
    );
    let events_before = count(&db, "select count(*) from events").await;

    // A dry run counts and changes nothing.
    // The soft-deleted duplicate shares an address: listed, and named by the operator.
    let dry = scope
        .run(async |tx| gdpr::erase(tx, EMAIL, true).await)
        .await
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.subject_id, s.id);
    assert_eq!(dry.candidates, vec![s.duplicate]);
    let dry = scope
        .run(async |tx| gdpr::erase_including(tx, EMAIL, &[s.duplicate], true).await)
        .await
        .unwrap();
    assert_eq!(count(&db, "select count(*) from erasure_receipts").await, 0);
    assert_eq!(
        count(&db, "select count(*) from events").await,
        events_before
    );
    scope
        .run(async |tx| contact::get(tx, s.id).await)
        .await
        .unwrap();

    let receipt = scope
        .run(async |tx| gdpr::erase_including(tx, &s.id.to_string(), &[s.duplicate], false).await)
        .await
        .unwrap();
    assert!(!receipt.dry_run);
    assert_eq!(
        receipt.counts, dry.counts,
        "the dry run predicted the erasure"
    );
    let c = receipt.counts;
    assert_eq!(c.contacts, 3);
    assert_eq!(c.emails, 3);
    assert_eq!(c.phones, 2);
    assert_eq!(c.activities, 1);
    assert_eq!(c.activities_detached, 1);
    assert_eq!(c.consents, 3);
    assert_eq!(c.deals_detached, 1);
    assert_eq!(c.lexware_links, 1);
    assert_eq!(c.vouchers_redacted, 1);
    assert!(c.audit_redacted >= 10, "{c:?}");
    assert!(c.events_purged >= 8, "{c:?}");
    assert_eq!(receipt.email_hashes.len(), 3);
    assert!(receipt.email_hashes.iter().all(|h| h.len() == 64));
    assert_eq!(receipt.actor_id, Some(owner));

    // The receipt holds no personal data, and a later import can be flagged.
    let stored = scope
        .run(async |tx| gdpr::receipts(tx, 10).await)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].receipt_id, receipt.receipt_id);
    assert_eq!(stored[0].counts, receipt.counts);
    assert!(leaked(&serde_json::to_string(&stored).unwrap(), &s.secrets).is_empty());
    for (email, erased) in [
        (EMAIL, true),
        ("X.QUAXENBRUECK@privat.example", true),
        (OLD_EMAIL, true),
        ("berta@other.example", false),
    ] {
        let got = scope
            .run(async |tx| gdpr::was_erased(tx, email).await)
            .await
            .unwrap();
        assert_eq!(got, erased, "{email}");
    }

    // Search, lists, exports, the audit log and the event outbox know nothing of them.
    let mut tx = scope.begin().await.unwrap();
    for q in [FIRST, LAST, EMAIL, "015123456789", "Quaxenbrueck"] {
        let hits = crm_core::search::search(&mut tx, q, 50).await.unwrap();
        let text = serde_json::to_string(&hits).unwrap();
        assert!(leaked(&text, &s.secrets).is_empty(), "{q}: {text}");
        assert!(hits.iter().all(|h| h.kind != "contact"), "{q}: {text}");
    }
    let page: Page<contact::Contact> = contact::list(
        &mut tx,
        &ContactFilter {
            include_deleted: true,
            ..Default::default()
        },
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(page.items.len(), 1, "only the control person is left");
    assert_eq!(page.items[0].last_name, "Beispielfrau");
    for kind in [
        ExportKind::Contacts,
        ExportKind::Deals,
        ExportKind::Activities,
    ] {
        let mut out = Vec::new();
        export(
            &mut tx,
            kind,
            ExportFormat::Json,
            &ExportFilter::default(),
            &mut out,
        )
        .await
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(leaked(&text, &s.secrets).is_empty(), "{kind:?}: {text}");
    }
    let log = audit::log(
        &mut tx,
        &AuditFilter {
            limit: Some(10_000),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let text = serde_json::to_string(&log).unwrap();
    assert!(leaked(&text, &s.secrets).is_empty(), "audit: {text}");
    assert!(log.iter().any(|e| e.redacted));
    let erase_entry = log.iter().find(|e| e.action == "erase").unwrap();
    assert_eq!(erase_entry.entity_id, Some(s.id.uuid()));
    assert_eq!(
        erase_entry.payload.as_ref().unwrap()["receipt_id"],
        receipt.receipt_id.unwrap().to_string()
    );
    let events = crm_core::events::since(&mut tx, 0, 10_000).await.unwrap();
    assert!(leaked(&serde_json::to_string(&events).unwrap(), &s.secrets).is_empty());
    assert!(
        events
            .iter()
            .all(|e| e.entity_id != Some(s.id.uuid()) || e.topic == "contact.erased")
    );
    // The deal stays for accounting, without the person.
    let d = deal::get(&mut tx, s.deal).await.unwrap();
    assert_eq!(d.contact_id, None);
    assert_eq!(d.value.to_string(), "12500.00");
    assert_eq!(d.title, "Rahmenvertrag [erased]");
    let acts = activity::list(
        &mut tx,
        &activity::ActivityFilter {
            deal_id: Some(s.deal),
            ..Default::default()
        },
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(acts.items.len(), 1);
    assert_eq!(acts.items[0].subject, "Rückruf [erased]");
    assert_eq!(
        acts.items[0].body.as_deref(),
        Some("erreichbar unter [erased] oder [erased]")
    );
    let e = gdpr::subject_export(&mut tx, EMAIL).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    tx.commit().await.unwrap();

    // The whole database, dumped: none of it, while the control person is still there.
    let dump = pg_dump(&db);
    assert_eq!(leaked(&dump, &s.secrets), Vec::<&str>::new());
    assert!(dump.contains("Beispielfrau") && dump.contains("berta@other.example"));
    assert!(dump.contains("RE-1"), "the voucher stays");

    // The audit chain still verifies.
    let reports = db.crm.verify_audit_chains().await.unwrap();
    assert!(reports.iter().all(|r| r.intact()), "{reports:?}");
    // Erasing again: nobody left.
    let e = scope
        .run(async |tx| gdpr::erase(tx, EMAIL, false).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
}

#[tokio::test]
async fn a_person_who_exists_twice_is_erased_twice_and_others_sharing_nothing_stay() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Doppelt GmbH").await;
    let scope = db.crm.scope(org, owner);
    let (old, live, other) = scope
        .run(async |tx| {
            let mk = async |tx: &mut Tx, first: &str, email: &str| {
                contact::create(
                    tx,
                    NewContact {
                        first_name: first.into(),
                        last_name: "Zwilling".into(),
                        email: Some(email.into()),
                        ..Default::default()
                    },
                )
                .await
                .map(|c| c.id)
            };
            let old = mk(tx, "Alt", "twin@x.example").await?;
            contact::delete(tx, old, None).await?;
            let live = mk(tx, "Neu", "twin@x.example").await?;
            let other = mk(tx, "Andere", "other@x.example").await?;
            Ok((old, live, other))
        })
        .await
        .unwrap();
    // The old record shares the address only: listed, then named by the operator.
    let r = scope
        .run(async |tx| gdpr::erase(tx, "TWIN@x.example", true).await)
        .await
        .unwrap();
    assert_eq!((r.counts.contacts, r.candidates.clone()), (1, vec![old]));
    let r = scope
        .run(async |tx| gdpr::erase_including(tx, "TWIN@x.example", &[old], false).await)
        .await
        .unwrap();
    assert_eq!(r.counts.contacts, 2);
    assert_eq!(r.email_hashes.len(), 1);
    let mut tx = scope.begin().await.unwrap();
    for id in [old, live] {
        let e = contact::get_including_deleted(&mut tx, id)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }));
    }
    contact::get(&mut tx, other).await.unwrap();
    drop(tx);

    // Only soft-deleted records left with an address: named by it, all of them go.
    let gone = scope
        .run(async |tx| {
            let a = contact::create(
                tx,
                NewContact {
                    last_name: "Geist".into(),
                    email: Some("ghost@x.example".into()),
                    ..Default::default()
                },
            )
            .await?
            .id;
            contact::delete(tx, a, None).await?;
            Ok(a)
        })
        .await
        .unwrap();
    let r = scope
        .run(async |tx| gdpr::erase(tx, "ghost@x.example", false).await)
        .await
        .unwrap();
    assert_eq!((r.subject_id, r.counts.contacts), (gone, 1));
    // Two live contacts sharing an address: the reference is ambiguous.
    scope
        .run(async |tx| {
            for first in ["Eins", "Zwei"] {
                contact::create(
                    tx,
                    NewContact {
                        first_name: first.into(),
                        email: Some(format!("{first}@x.example")),
                        emails: vec![NewContactEmail {
                            email: "shared@x.example".into(),
                            ..Default::default()
                        }],
                        ..Default::default()
                    },
                )
                .await?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let e = scope
        .run(async |tx| gdpr::erase(tx, "shared@x.example", false).await)
        .await
        .unwrap_err();
    assert_eq!(field_names(&e), ["contact"]);
    // Erasing one of them leaves the other's shared address alone.
    let r = scope
        .run(async |tx| gdpr::erase(tx, "eins@x.example", false).await)
        .await
        .unwrap();
    assert_eq!(r.counts.contacts, 1);
    let zwei = scope
        .run(async |tx| contact::find_by_email(tx, "shared@x.example").await)
        .await
        .unwrap();
    assert_eq!(zwei.first_name, "Zwei");
}

#[tokio::test]
async fn an_erasure_killed_midway_or_dropped_leaves_everything() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Abbruch GmbH").await;
    let scope = db.crm.scope(org, owner);
    let s = scope.run(async |tx| Ok(story(tx).await)).await.unwrap();
    let snapshot = async || {
        let mut owner = db.owner().await;
        let row: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "select (select count(*) from contacts), (select count(*) from contact_emails), \
                    (select count(*) from activities where contact_id is not null), \
                    (select count(*) from audit_log where payload is not null), \
                    (select count(*) from events), (select count(*) from erasure_receipts)",
        )
        .fetch_one(&mut owner)
        .await
        .unwrap();
        owner.close().await.ok();
        row
    };
    let before = snapshot().await;

    // Dropped before commit.
    {
        let mut tx = scope.begin().await.unwrap();
        gdpr::erase(&mut tx, EMAIL, false).await.unwrap();
        drop(tx);
    }
    assert_eq!(snapshot().await, before);

    // Killed midway: the erasure has deleted and redacted, and waits for the audit head
    // (held by another session) to write its own entry; then its connection is killed.
    let mut blocker = db.owner().await;
    let mut block = blocker.begin().await.unwrap();
    sqlx::query("select 1 from audit_heads where org_id = $1 for update")
        .bind(org)
        .execute(&mut *block)
        .await
        .unwrap();
    let (pid_tx, pid_rx) = tokio::sync::oneshot::channel::<i32>();
    let erasing = {
        let scope = scope.clone();
        tokio::spawn(async move {
            let mut tx = scope.begin().await?;
            let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
                .fetch_one(tx.conn())
                .await?;
            pid_tx.send(pid).ok();
            gdpr::erase(&mut tx, EMAIL, false).await?;
            tx.commit().await
        })
    };
    let pid = pid_rx.await.unwrap();
    let mut killer = db.owner().await;
    let mut waited = 0;
    loop {
        let waiting: bool = sqlx::query_scalar(
            "select coalesce((select wait_event_type = 'Lock' from pg_stat_activity \
                              where pid = $1), false)",
        )
        .bind(pid)
        .fetch_one(&mut killer)
        .await
        .unwrap();
        if waiting {
            break;
        }
        waited += 1;
        assert!(waited < 200, "the erasure never reached the audit head");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    // Midway indeed: the erasure's deletions are done in its (uncommitted) transaction.
    let killed: bool = sqlx::query_scalar("select pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&mut killer)
        .await
        .unwrap();
    assert!(killed);
    let result = erasing.await.unwrap();
    assert!(result.is_err(), "the killed erasure must fail");
    block.rollback().await.unwrap();
    assert_eq!(snapshot().await, before);
    scope
        .run(async |tx| contact::get(tx, s.id).await)
        .await
        .unwrap();
    assert!(db.crm.verify_audit_chains().await.unwrap()[0].intact());
}

#[tokio::test]
async fn only_owners_and_admins_may_erase_and_redact() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Rechte GmbH").await;
    let scope = db.crm.scope(org, owner);
    let s = scope.run(async |tx| Ok(story(tx).await)).await.unwrap();
    for (email, role) in [
        ("m@x.test", UserRole::Manager),
        ("u@x.test", UserRole::User),
        ("r@x.test", UserRole::ReadOnly),
    ] {
        let u = user_with_role(&scope, email, role).await;
        let e = db
            .crm
            .scope(org, u)
            .run(async |tx| gdpr::erase(tx, EMAIL, true).await)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::PermissionDenied(_)), "{role:?}: {e:?}");
        // Nor can they call the redaction function directly.
        let e = db
            .crm
            .scope(org, u)
            .run(async |tx| {
                Ok(
                    sqlx::query_scalar::<_, i64>("select crm_gdpr_redact_person($1, '{}', '{}')")
                        .bind(vec![s.id.uuid()])
                        .fetch_one(tx.conn())
                        .await?,
                )
            })
            .await
            .unwrap_err();
        assert!(matches!(e, Error::PermissionDenied(_)), "{role:?}: {e:?}");
    }
    let admin = user_with_role(&scope, "a@x.test", UserRole::Admin).await;
    let r = db
        .crm
        .scope(org, admin)
        .run(async |tx| gdpr::erase_including(tx, EMAIL, &[s.duplicate], false).await)
        .await
        .unwrap();
    assert_eq!(r.counts.contacts, 3);
    assert_eq!(r.actor_id, Some(admin));
}

#[tokio::test]
async fn the_keyed_hash_is_hmac_sha256_and_differs_between_organizations() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    // RFC 4231, test case 2.
    let mac: Vec<u8> = sqlx::query_scalar(
        "select crm_hmac_sha256(convert_to('Jefe', 'UTF8'), \
                                convert_to('what do ya want for nothing?', 'UTF8'))",
    )
    .fetch_one(&mut owner)
    .await
    .unwrap();
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    let mut hashes = Vec::new();
    for name in ["Eins GmbH", "Zwei GmbH"] {
        let (org, o) = db.org(name).await;
        let r = db
            .crm
            .scope(org, o)
            .run(async |tx| {
                contact::create(
                    tx,
                    NewContact {
                        email: Some("same@x.example".into()),
                        ..Default::default()
                    },
                )
                .await?;
                gdpr::erase(tx, "same@x.example", false).await
            })
            .await
            .unwrap();
        hashes.push(r.email_hashes[0].clone());
        // The application role sees its own organization's key only, and cannot change it.
        let e = db
            .crm
            .scope(org, o)
            .run(async |tx| {
                let visible: i64 = sqlx::query_scalar("select count(*) from erasure_keys")
                    .fetch_one(tx.conn())
                    .await?;
                assert_eq!(visible, 1);
                sqlx::query("update erasure_keys set key = '\\x00'")
                    .execute(tx.conn())
                    .await?;
                Ok(())
            })
            .await
            .unwrap_err();
        assert!(matches!(e, Error::PermissionDenied(_)), "{e:?}");
    }
    assert_ne!(hashes[0], hashes[1]);
    let keys: i64 = sqlx::query_scalar("select count(distinct key) from erasure_keys")
        .fetch_one(&mut owner)
        .await
        .unwrap();
    assert_eq!(keys, 2);
}

// ---------------------------------------------------------------------------------------
// Consent
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn consent_is_granted_and_revoked_with_history_and_restricts_exports() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Einwilligung GmbH").await;
    let scope = db.crm.scope(org, owner);
    let mut tx = scope.begin().await.unwrap();
    let mut ids = Vec::new();
    for (first, email) in [
        ("Anna", "a@x.example"),
        ("Ben", "b@x.example"),
        ("Cem", "c@x.example"),
    ] {
        ids.push(
            contact::create(
                &mut tx,
                NewContact {
                    first_name: first.into(),
                    email: Some(email.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id,
        );
    }
    let (anna, ben, cem) = (ids[0], ids[1], ids[2]);
    consent::grant(&mut tx, anna, "marketing", "Webformular")
        .await
        .unwrap();
    consent::grant(&mut tx, ben, "Marketing", "Messe Köln")
        .await
        .unwrap();
    // Same transaction, same statement time: the revocation is still the latest.
    consent::revoke(&mut tx, ben, "marketing", "E-Mail")
        .await
        .unwrap();
    let h = consent::history(&mut tx, ben).await.unwrap();
    let h: Vec<(&str, &str, &str)> = h
        .iter()
        .map(|c| (c.purpose.as_str(), c.status.as_str(), c.source.as_str()))
        .collect();
    assert_eq!(
        h,
        [
            ("marketing", "granted", "Messe Köln"),
            ("marketing", "revoked", "E-Mail")
        ]
    );
    assert_eq!(
        consent::status(&mut tx, anna, "marketing").await.unwrap(),
        Some(consent::ConsentStatus::Granted)
    );
    assert_eq!(
        consent::status(&mut tx, ben, "marketing").await.unwrap(),
        Some(consent::ConsentStatus::Revoked)
    );
    assert_eq!(
        consent::status(&mut tx, cem, "marketing").await.unwrap(),
        None
    );
    let without = consent::without_consent(&mut tx, "marketing", PageRequest::default())
        .await
        .unwrap();
    let got: Vec<(ContactId, Option<&str>)> = without
        .items
        .iter()
        .map(|c| (c.id, c.status.as_deref()))
        .collect();
    assert_eq!(got, [(ben, Some("revoked")), (cem, None)]);
    let page = consent::without_consent(
        &mut tx,
        "marketing",
        PageRequest {
            limit: 1,
            after: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(page.next.is_some());
    // Every field error at once; unknown and deleted contacts are not found.
    let e = consent::grant(&mut tx, anna, "Mar keting!", "  ")
        .await
        .unwrap_err();
    assert_eq!(field_names(&e), ["purpose", "source"]);
    let e = consent::grant(&mut tx, ContactId::new(), "marketing", "x")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { entity: "contact" }));
    // Exports restricted to consenting contacts read these rows.
    let mut out = Vec::new();
    export(
        &mut tx,
        ExportKind::Contacts,
        ExportFormat::Csv,
        &ExportFilter {
            consenting_only: true,
            columns: Some(vec!["email".into()]),
            ..Default::default()
        },
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "email\na@x.example\n");
    // Audited on the contact, announced without the source text.
    let log = audit::log(
        &mut tx,
        &AuditFilter {
            entity_id: Some(ben.uuid()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["create", "consent_granted", "consent_revoked"]
    );
    let events = crm_core::events::since(&mut tx, 0, 1000).await.unwrap();
    let changed: Vec<&crm_core::events::Event> = events
        .iter()
        .filter(|e| e.topic == "contact.consent_changed")
        .collect();
    assert_eq!(changed.len(), 3);
    assert!(changed.iter().all(|e| e.payload.get("source").is_none()));
    tx.commit().await.unwrap();
    // A read-only user may read consent but not record it.
    let ro = user_with_role(&scope, "ro@x.test", UserRole::ReadOnly).await;
    let ro = db.crm.scope(org, ro);
    let e = ro
        .run(async |tx| consent::grant(tx, cem, "marketing", "x").await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)));
    assert_eq!(
        ro.run(async |tx| consent::history(tx, anna).await)
            .await
            .unwrap()
            .len(),
        1
    );
}

// ---------------------------------------------------------------------------------------
// Retention
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn retention_purges_soft_deleted_records_past_the_period_with_their_dependents() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Aufbewahrung GmbH").await;
    let scope = db.crm.scope(org, owner);
    struct Ids {
        old_contact: ContactId,
        recent_contact: ContactId,
        live_contact: ContactId,
        old_company: CompanyId,
        old_deal: DealId,
        live_deal: DealId,
    }
    let ids = scope
        .run(async |tx| {
            let mk = async |tx: &mut Tx, last: &str| {
                contact::create(
                    tx,
                    NewContact {
                        last_name: last.into(),
                        email: Some(format!("{last}@x.example")),
                        ..Default::default()
                    },
                )
                .await
                .map(|c| c.id)
            };
            let old_contact = mk(tx, "Altmann").await?;
            let recent_contact = mk(tx, "Neumann").await?;
            let live_contact = mk(tx, "Lebend").await?;
            let old_company = company::create(
                tx,
                NewCompany {
                    name: "Alt AG".into(),
                    ..Default::default()
                },
            )
            .await?
            .id;
            let old_deal = deal::create(
                tx,
                NewDeal {
                    title: "Alter Deal".into(),
                    contact_id: Some(live_contact),
                    ..Default::default()
                },
            )
            .await?
            .id;
            let live_deal = deal::create(
                tx,
                NewDeal {
                    title: "Laufender Deal".into(),
                    contact_id: Some(old_contact),
                    company_id: Some(old_company),
                    ..Default::default()
                },
            )
            .await?
            .id;
            // Only on the old contact: goes. On the old contact and the live deal: stays.
            for (subject, deal) in [("nur Kontakt", None), ("Kontakt und Deal", Some(live_deal))] {
                activity::create(
                    tx,
                    NewActivity {
                        subject: subject.into(),
                        contact_id: Some(old_contact),
                        deal_id: deal,
                        ..Default::default()
                    },
                )
                .await?;
            }
            consent::grant(tx, old_contact, "marketing", "Messe").await?;
            contact::delete(tx, old_contact, None).await?;
            contact::delete(tx, recent_contact, None).await?;
            company::delete(tx, old_company, None).await?;
            deal::delete(tx, old_deal).await?;
            Ok(Ids {
                old_contact,
                recent_contact,
                live_contact,
                old_company,
                old_deal,
                live_deal,
            })
        })
        .await
        .unwrap();
    let mut o = db.owner().await;
    sqlx::query("update contacts set deleted_at = now() - interval '40 days' where id = $1")
        .bind(ids.old_contact)
        .execute(&mut o)
        .await
        .unwrap();
    for sql in [
        "update companies set deleted_at = now() - interval '40 days' where id = $1",
        "update deals set deleted_at = now() - interval '40 days' where id = $1",
    ] {
        let id = if sql.contains("companies") {
            ids.old_company.uuid()
        } else {
            ids.old_deal.uuid()
        };
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .execute(&mut o)
            .await
            .unwrap();
    }

    // The period can be set per organization, within limits.
    for bad in [0, 3651] {
        let e = scope
            .run(async |tx| gdpr::set_retention_days(tx, bad).await)
            .await
            .unwrap_err();
        assert_eq!(field_names(&e), ["retention_days"]);
    }
    scope
        .run(async |tx| gdpr::set_retention_days(tx, 35).await)
        .await
        .unwrap();
    assert_eq!(
        scope
            .run(async |tx| gdpr::retention_days(tx).await)
            .await
            .unwrap(),
        35
    );

    let dry = scope
        .run(async |tx| gdpr::retention(tx, None, true).await)
        .await
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.older_than_secs, 35 * 86_400);
    assert_eq!((dry.contacts, dry.companies, dry.deals), (1, 1, 1));
    assert_eq!((dry.activities, dry.activities_unlinked), (1, 1));
    let still: i64 = sqlx::query_scalar("select count(*) from contacts where id = $1")
        .bind(ids.old_contact)
        .fetch_one(&mut o)
        .await
        .unwrap();
    assert_eq!(still, 1, "a dry run changes nothing");

    // A longer period than the records' age purges nothing.
    let none = scope
        .run(async |tx| gdpr::retention(tx, Some(TimeDelta::days(60)), false).await)
        .await
        .unwrap();
    assert_eq!((none.contacts, none.companies, none.deals), (0, 0, 0));

    let run = scope
        .run(async |tx| gdpr::retention(tx, None, false).await)
        .await
        .unwrap();
    assert_eq!(
        (run.contacts, run.companies, run.deals, run.activities),
        (dry.contacts, dry.companies, dry.deals, dry.activities)
    );
    assert!(run.audit_redacted >= 3, "{run:?}");
    assert!(run.events_purged >= 3, "{run:?}");
    let left: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from contacts), (select count(*) from companies), \
                (select count(*) from deals), (select count(*) from activities), \
                (select count(*) from consents)",
    )
    .fetch_one(&mut o)
    .await
    .unwrap();
    assert_eq!(left, (2, 0, 1, 1, 0));
    let mut tx = scope.begin().await.unwrap();
    contact::get_including_deleted(&mut tx, ids.recent_contact)
        .await
        .unwrap();
    contact::get(&mut tx, ids.live_contact).await.unwrap();
    let d = deal::get(&mut tx, ids.live_deal).await.unwrap();
    assert_eq!((d.contact_id, d.company_id), (None, None));
    let acts = activity::list(
        &mut tx,
        &activity::ActivityFilter {
            deal_id: Some(ids.live_deal),
            ..Default::default()
        },
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(acts.items.len(), 1);
    assert_eq!(acts.items[0].contact_id, None);
    let log = audit::log(
        &mut tx,
        &AuditFilter {
            entity_id: Some(ids.old_contact.uuid()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!log.is_empty() && log.iter().all(|e| e.redacted && e.payload.is_none()));
    drop(tx);
    assert!(db.crm.verify_audit_chains().await.unwrap()[0].intact());

    let e = scope
        .run(async |tx| gdpr::retention(tx, Some(TimeDelta::zero()), true).await)
        .await
        .unwrap_err();
    assert_eq!(field_names(&e), ["older_than"]);
    let m = user_with_role(&scope, "m@x.test", UserRole::Manager).await;
    let e = db
        .crm
        .scope(org, m)
        .run(async |tx| gdpr::retention(tx, None, true).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)));
}

// ---------------------------------------------------------------------------------------
// A tenant leaving
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn org_export_writes_every_table_and_org_deletion_removes_the_tenant() {
    let db = TestDb::new().await;
    let (a, a_owner) = db.org("Abschied GmbH").await;
    let (b, b_owner) = db.org("Bleibt AG").await;
    let sa = db.crm.scope(a, a_owner);
    let sb = db.crm.scope(b, b_owner);
    sa.run(async |tx| Ok(story(tx).await)).await.unwrap();
    crm_tools::demo::seed(&sb, 5).await.unwrap();
    let dir = std::env::temp_dir().join(format!("crm-org-export-{}", Uuid::now_v7()));
    let export = sa
        .run(async |tx| gdpr::org_export(tx, &dir).await)
        .await
        .unwrap();
    assert_eq!(export.tables[0].table, "organization");
    let rows = |t: &str| {
        export
            .tables
            .iter()
            .find(|x| x.table == t)
            .map(|x| x.rows)
            .unwrap_or_else(|| panic!("no file for {t}"))
    };
    assert_eq!(rows("organization"), 1);
    assert_eq!(rows("contacts"), 4);
    assert_eq!(rows("users"), 1);
    assert!(rows("audit_log") > 10);
    assert_eq!(rows("consents"), 3);
    assert!(export.tables.iter().all(|t| t.table != "sessions"));
    assert!(export.tables.iter().all(|t| t.table != "erasure_keys"));
    let users = std::fs::read_to_string(dir.join("users.ndjson")).unwrap();
    let u: serde_json::Value = serde_json::from_str(users.lines().next().unwrap()).unwrap();
    assert_eq!(u["email"], "owner@abschied-gmbh.test");
    assert!(u.get("password_hash").is_none());
    let contacts = std::fs::read_to_string(dir.join("contacts.ndjson")).unwrap();
    assert_eq!(contacts.lines().count(), 4);
    for line in contacts.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["org_id"], a.to_string());
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["slug"], "abschied-gmbh");
    std::fs::remove_dir_all(&dir).ok();
    // Admins export but may not delete the organization; users may do neither.
    let admin = user_with_role(&sa, "admin@x.test", UserRole::Admin).await;
    let e = db
        .crm
        .scope(a, admin)
        .run(async |tx| gdpr::delete_organization(tx).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)), "{e:?}");
    let u = user_with_role(&sa, "user@x.test", UserRole::User).await;
    let e = db
        .crm
        .scope(a, u)
        .run(async |tx| gdpr::org_export(tx, &dir).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)), "{e:?}");

    let gone = sa
        .run(async |tx| gdpr::delete_organization(tx).await)
        .await
        .unwrap();
    assert_eq!(gone.slug, "abschied-gmbh");
    // Not a row of it anywhere; the other tenant untouched.
    let mut o = db.owner().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace \
         join pg_attribute a on a.attrelid = c.oid and a.attname = 'org_id' \
         where n.nspname = 'public' and c.relkind = 'r' order by 1",
    )
    .fetch_all(&mut o)
    .await
    .unwrap();
    let mut b_rows = 0;
    for t in &tables {
        let (na, nb): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select count(*) filter (where org_id = $1), count(*) filter (where org_id = $2) \
             from {t}"
        )))
        .bind(a)
        .bind(b)
        .fetch_one(&mut o)
        .await
        .unwrap();
        assert_eq!(na, 0, "{t} still holds rows of the deleted organization");
        b_rows += nb;
    }
    assert!(b_rows > 50);
    let orgs: Vec<String> = db
        .crm
        .organizations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.slug)
        .collect();
    assert_eq!(orgs, ["bleibt-ag"]);
    let dump = pg_dump(&db);
    assert!(leaked(&dump, &[LAST.to_string(), EMAIL.to_string()]).is_empty());
    assert!(db.crm.verify_audit_chains().await.unwrap()[0].intact());
    let _ = b_owner;
}
