//! Erasure that leaves nobody findable (issue 14, item 5): the person's full name, e-mail
//! addresses and phone numbers go in every spelling the search would match, from every
//! record linked to them (directly, through their deals and their company), from companies
//! holding their addresses, events and import run file names; a surname someone else
//! shares stays. And re-applying erasures after a restore (item 6): full reach, every
//! organization, also one without an active owner.

use crm_core::auth::NewUser;
use crm_core::auth::user;
use crm_core::auth::user::Visibility;
use crm_core::backup::{self, Target};
use crm_core::domain::{ActivityType, UserRole};
use crm_core::gdpr;
use crm_core::search;
use crm_core::store::activity::{self, NewActivity};
use crm_core::store::company::{self, NewCompany};
use crm_core::store::contact::{self, NewContact, NewContactEmail, NewContactPhone};
use crm_core::store::deal::{self, NewDeal};
use crm_core::store::owner::Owner;
use crm_core::testing::TestDb;
use crm_core::{ContactId, OrgId, Scope, UserId};

use serde_json::{Map, json};

use crate::gdpr::{leaked, pg_dump};

/// Every spelling of Jörg Müller's name, addresses and number that must not survive.
fn spellings() -> Vec<String> {
    [
        "Jörg Müller",
        "Joerg Mueller",
        "JÖRG MÜLLER",
        "joerg mueller",
        "Jorg Müller",
        "Müller, Jörg",
        "Mueller, Joerg",
        "joerg_mueller",
        "joerg.mueller@kunde.example",
        "JOERG.MUELLER@KUNDE.EXAMPLE",
        "j.mueller@privat.example",
        "5551234",
        "555 12 34",
        "555-1234",
        "+491715551234",
        "0171-5551234",
        "0171 5551234",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

async fn activity(scope: &Scope, new: NewActivity) {
    scope
        .run(async |tx| activity::create(tx, new).await)
        .await
        .unwrap();
}

#[tokio::test]
async fn erasure_leaves_no_spelling_of_the_person_anywhere_but_keeps_a_shared_surname() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Kunde AG").await;
    let scope = db.crm.scope(org, owner);
    let kunde = scope
        .run(async |tx| {
            company::create(
                tx,
                NewCompany {
                    name: "Kunde AG".into(),
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap()
        .id;
    // A company that holds the person's addresses and number (another spelling each).
    let holder = scope
        .run(async |tx| {
            company::create(
                tx,
                NewCompany {
                    name: "Müller Handwerk".into(),
                    email: Some("JOERG.MUELLER@KUNDE.EXAMPLE".into()),
                    phone: Some("0171 5551234".into()),
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap()
        .id;
    let joerg = scope
        .run(async |tx| {
            contact::create(
                tx,
                NewContact {
                    first_name: "Jörg".into(),
                    last_name: "Müller".into(),
                    company_id: Some(kunde),
                    email: Some("joerg.mueller@kunde.example".into()),
                    emails: vec![NewContactEmail {
                        email: "j.mueller@privat.example".into(),
                        ..Default::default()
                    }],
                    phone: Some("+49 171 5551234".into()),
                    phones: vec![NewContactPhone {
                        number: "+49 171 5551234".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap()
        .id;
    // Someone else with the same surname.
    let petra = scope
        .run(async |tx| {
            contact::create(
                tx,
                NewContact {
                    first_name: "Petra".into(),
                    last_name: "Müller".into(),
                    company_id: Some(kunde),
                    email: Some("petra@andere.example".into()),
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap()
        .id;
    let mut custom = Map::new();
    custom.insert(
        "notes".into(),
        json!("Ansprechpartner Joerg Mueller, +49 (0)171 555 12 34"),
    );
    let his_deal = scope
        .run(async |tx| {
            deal::create(
                tx,
                NewDeal {
                    title: "Müller, Jörg: Rahmenvertrag".into(),
                    value: Some("1000".into()),
                    contact_id: Some(joerg),
                    company_id: Some(kunde),
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap()
        .id;
    scope
        .run(async |tx| {
            sqlx::query("update deals set custom = $2 where id = $1")
                .bind(his_deal)
                .bind(serde_json::Value::Object(custom))
                .execute(tx.conn())
                .await?;
            Ok(())
        })
        .await
        .unwrap();
    // A deal of his company only.
    scope
        .run(async |tx| {
            deal::create(
                tx,
                NewDeal {
                    title: "Wartung (JÖRG MÜLLER)".into(),
                    company_id: Some(kunde),
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    // His alone (deleted); his and his deal's (scrubbed, with single names); his deal's
    // only and his company's only (scrubbed: full name, addresses, numbers).
    activity(
        &scope,
        NewActivity {
            kind: ActivityType::Call,
            subject: "Rückruf Jörg".into(),
            contact_id: Some(joerg),
            ..Default::default()
        },
    )
    .await;
    activity(
        &scope,
        NewActivity {
            kind: ActivityType::Call,
            subject: "Call with Joerg Mueller".into(),
            body: Some("reach him at 0171-5551234 or JOERG.MUELLER@KUNDE.EXAMPLE".into()),
            contact_id: Some(joerg),
            deal_id: Some(his_deal),
            ..Default::default()
        },
    )
    .await;
    activity(
        &scope,
        NewActivity {
            kind: ActivityType::Email,
            subject: "Angebot an Jorg Müller".into(),
            body: Some("Kopie an j.mueller@privat.example".into()),
            deal_id: Some(his_deal),
            ..Default::default()
        },
    )
    .await;
    activity(
        &scope,
        NewActivity {
            kind: ActivityType::Meeting,
            subject: "Meeting mit joerg mueller und Petra Müller".into(),
            body: Some("Tel. 0049 171 5551234, Durchwahl von Petra Müller: 0171 9998888".into()),
            company_id: Some(kunde),
            ..Default::default()
        },
    )
    .await;
    // An import run named after him.
    {
        let mut o = db.owner().await;
        sqlx::query(
            "insert into import_runs (org_id, id, kind, file_name, status) \
             values ($1, gen_random_uuid(), 'contacts', 'joerg_mueller_kontakte.csv', 'finished')",
        )
        .bind(org)
        .execute(&mut o)
        .await
        .unwrap();
    }
    let before = pg_dump(&db);
    assert!(
        leaked(&before, &spellings()).len() > 8,
        "the seed holds the spellings"
    );

    let receipt = scope
        .run(async |tx| gdpr::erase(tx, &joerg.to_string(), false).await)
        .await
        .unwrap();
    assert!(receipt.counts.records_scrubbed >= 5, "{:?}", receipt.counts);

    let dump = pg_dump(&db);
    let all = spellings();
    let found = leaked(&dump, &all);
    let lines: Vec<&str> = dump
        .lines()
        .filter(|l| !leaked(l, &all).is_empty())
        .collect();
    assert!(
        found.is_empty(),
        "survived the erasure: {found:?} in {lines:#?}"
    );
    // No search finds him by name (others named Müller may be found), nor anything by his
    // addresses or number, in any spelling.
    for q in ["Jörg Müller", "Joerg Mueller", "JORG MULLER"] {
        let hits = scope
            .run(async |tx| search::search(tx, q, 50).await)
            .await
            .unwrap();
        assert!(
            hits.iter().all(|h| {
                let name = h.name.to_lowercase();
                !name.contains("jörg") && !name.contains("joerg") && !name.contains("jorg")
            }),
            "{q}: {hits:?}"
        );
    }
    for q in [
        "joerg.mueller@kunde.example",
        "j.mueller@privat.example",
        "0171 5551234",
        "0171-5551234",
        "+491715551234",
        "5551234",
    ] {
        let hits = scope
            .run(async |tx| search::search(tx, q, 50).await)
            .await
            .unwrap();
        assert!(hits.is_empty(), "{q}: {hits:?}");
    }
    // Not over-erased: the other Müller, her number and the companies stay.
    assert!(
        dump.contains("Petra Müller"),
        "the shared surname was erased"
    );
    assert!(dump.contains("0171 9998888"));
    assert!(dump.contains("Müller Handwerk"));
    // The company that held his address and number keeps its name, without them.
    let mut o = db.owner().await;
    let held: (Option<String>, Option<String>, i64, i64) = sqlx::query_as(
        "select c.email, c.phone, \
                (select count(*) from company_emails e where e.company_id = c.id), \
                (select count(*) from company_phones p where p.company_id = c.id) \
         from companies c where c.id = $1",
    )
    .bind(holder)
    .fetch_one(&mut o)
    .await
    .unwrap();
    assert_eq!(held, (None, None, 0, 0));
    // The search dictionary lost his first name and keeps the surname others hold.
    let words: Vec<String> = sqlx::query_scalar(
        "select word from crm_private.search_words where org_id = $1 and word in ('joerg', 'mueller')",
    )
    .bind(org)
    .fetch_all(&mut o)
    .await
    .unwrap();
    assert_eq!(words, ["mueller"]);
    let hits = scope
        .run(async |tx| search::search(tx, "Petra Müller", 10).await)
        .await
        .unwrap();
    assert_eq!(hits[0].id, petra.uuid());
    scope
        .run(async |tx| contact::get(tx, petra).await)
        .await
        .unwrap();
    // The audit chain still verifies.
    for r in db.crm.verify_audit_chains().await.unwrap() {
        assert_eq!(r.broken_seq, None, "{}", r.checked);
    }
}

async fn add_user(scope: &Scope, email: &str, role: UserRole) -> UserId {
    scope
        .run(async |tx| {
            user::add(
                tx,
                NewUser {
                    email: email.into(),
                    first_name: "U".into(),
                    last_name: "Ser".into(),
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

async fn add_contact(scope: &Scope, email: &str, owners: Vec<Owner>) -> ContactId {
    scope
        .run(async |tx| {
            contact::create(
                tx,
                NewContact {
                    first_name: "Vera".into(),
                    last_name: "Vergessen".into(),
                    email: Some(email.into()),
                    owners,
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap()
        .id
}

async fn contact_exists(db: &TestDb, org: OrgId, email: &str) -> bool {
    let mut o = db.owner().await;
    sqlx::query_scalar(
        "select exists(select 1 from contacts where org_id = $1 and email_norm = $2)",
    )
    .bind(org)
    .bind(email)
    .fetch_one(&mut o)
    .await
    .unwrap()
}

/// Issue 14, item 6.
#[tokio::test]
async fn restore_re_applies_erasures_with_full_reach_in_every_organization() {
    let db = TestDb::new().await;
    // A: the first owner sees only their own records; the person belongs to another user.
    let (a, a_owner) = db.org("Sicht GmbH").await;
    let a_scope = db.crm.scope(a, a_owner);
    let seller = add_user(&a_scope, "seller@sicht.test", UserRole::User).await;
    add_contact(
        &a_scope,
        "vera@sicht.test",
        vec![Owner {
            user_id: seller,
            role: Default::default(),
        }],
    )
    .await;
    a_scope
        .run(async |tx| user::set_visibility(tx, a_owner, Visibility::Own).await)
        .await
        .unwrap();
    // B: no active owner any more; an admin erases.
    let (b, b_owner) = db.org("Ohne Inhaber GmbH").await;
    let b_scope = db.crm.scope(b, b_owner);
    let b_admin = add_user(&b_scope, "admin@ohne.test", UserRole::Admin).await;
    add_contact(&b_scope, "vera@ohne.test", Vec::new()).await;
    {
        let mut o = db.owner().await;
        sqlx::query("update users set active = false where id = $1")
            .bind(b_owner)
            .execute(&mut o)
            .await
            .unwrap();
    }
    let dir = std::env::temp_dir().join(format!("crm-erasure-reach-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("before.dump");
    let target = Target::url(&db.url()).unwrap();
    backup::backup(&target, &file).await.unwrap();

    // Both erased after the backup (erasure itself reaches the whole organization).
    let a_admin = add_user(&a_scope, "admin@sicht.test", UserRole::Admin).await;
    db.crm
        .scope(a, a_admin)
        .run(async |tx| gdpr::erase(tx, "vera@sicht.test", false).await)
        .await
        .unwrap();
    db.crm
        .scope(b, b_admin)
        .run(async |tx| gdpr::erase(tx, "vera@ohne.test", false).await)
        .await
        .unwrap();
    assert!(!contact_exists(&db, a, "vera@sicht.test").await);
    assert!(!contact_exists(&db, b, "vera@ohne.test").await);

    let saved = db.crm.save_erasures().await.unwrap();
    backup::restore(&target, &file).await.unwrap();
    assert!(contact_exists(&db, a, "vera@sicht.test").await, "restored");
    assert!(contact_exists(&db, b, "vera@ohne.test").await, "restored");
    let done = db.crm.reapply_erasures(&saved).await.unwrap();
    let erased: u64 = done.iter().map(|(_, s)| s.contacts_erased).sum();
    assert_eq!(erased, 2, "{done:?}");
    assert!(
        !contact_exists(&db, a, "vera@sicht.test").await,
        "an owner's visibility hid the person from the re-application"
    );
    assert!(
        !contact_exists(&db, b, "vera@ohne.test").await,
        "an organization without an active owner was skipped"
    );
    // Each organization's chain still verifies after the re-application.
    for r in db.crm.verify_audit_chains().await.unwrap() {
        assert_eq!(r.broken_seq, None, "{}", r.checked);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The spelling patterns match what the search would match, and no more than that.
#[tokio::test]
async fn spelling_patterns_match_every_spelling_and_nothing_else() {
    let db = TestDb::new().await;
    let mut o = db.owner().await;
    let cases: &[(&str, &str, bool)] = &[
        ("Jörg Müller", "Termin mit JOERG MUELLER morgen", true),
        ("Jörg Müller", "jorg muller", true),
        ("Jörg Müller", "Jörg-Müller", true),
        ("Jörg Müller", "export_joerg_mueller.csv", true),
        ("Jörg Müller", "Petra Müller", false),
        ("Jörg Müller", "Jörg Müllerová", false),
        ("Müller, Jörg", "Mueller,  Joerg", true),
        ("Anna", "Hannah", false),
        ("Anna", "ANNA.", true),
        ("René Straße", "rene strasse", true),
        (
            "joerg.mueller@kunde.example",
            "Mail: JOERG.MUELLER@KUNDE.EXAMPLE!",
            true,
        ),
        (
            "joerg.mueller@kunde.example",
            "xjoerg.mueller@kunde.example",
            false,
        ),
        ("+491715551234", "0171-5551234", true),
        ("+491715551234", "+49 (0)171 555 12 34", true),
        ("+491715551234", "0049 171 5551234", true),
        ("+491715551234", "(0171) 555 1234", true),
        ("+491715551234", "01715551234", true),
        ("+491715551234", "017155512345", false),
        ("+491715551234", "+43 171 5551234", false),
        ("+41441234567", "044 123 45 67", true),
        ("+12125550100", "+1 (212) 555-0100", true),
    ];
    for (needle, text, expected) in cases {
        let (matched, scrubbed): (bool, String) = sqlx::query_as(
            "select $2 ~* crm_gdpr_spelling_pattern($1), \
                    crm_gdpr_scrub($2, array[crm_gdpr_spelling_pattern($1)])",
        )
        .bind(needle)
        .bind(text)
        .fetch_one(&mut o)
        .await
        .unwrap();
        assert_eq!(matched, *expected, "{needle} in {text}");
        assert_eq!(
            scrubbed.contains("[erased]"),
            *expected,
            "{needle} in {text}"
        );
    }
}

/// The owner's redaction (which names the organization itself) is not the application's
/// to call: only the checked entry, for the transaction's own organization.
#[tokio::test]
async fn the_application_role_cannot_redact_another_organization() {
    let db = TestDb::new().await;
    let (a, a_owner) = db.org("Eins GmbH").await;
    let (b, _) = db.org("Zwei GmbH").await;
    let called = db
        .crm
        .scope(a, a_owner)
        .run(async |tx| {
            Ok(sqlx::query_scalar::<_, i64>(
                "select crm_gdpr_redact_person_in($1, '{}'::uuid[], '{}'::text[], '{}'::text[])",
            )
            .bind(b)
            .fetch_one(tx.conn())
            .await?)
        })
        .await;
    assert!(called.is_err(), "{called:?}");
}
