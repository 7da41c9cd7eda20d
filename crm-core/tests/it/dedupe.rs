//! Duplicates and merge (issue 17): detection on planted data, merge with field choices,
//! every relation moved, unmerge restoring exactly, the racing edit, conflicts.

use std::collections::{BTreeMap, HashSet};

use crm_core::dedupe::{self, DetectOptions, Kind, MergeRequest, Reason};
use crm_core::store::company::{self, NewCompany};
use crm_core::store::contact::{self, ContactPatch, NewContact, NewContactEmail, NewContactPhone};
use crm_core::testing::TestDb;
use crm_core::{Error, OrgId, Scope};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, PgConnection};
use uuid::Uuid;

struct Setup {
    db: TestDb,
    org: OrgId,
    scope: Scope,
}

async fn setup() -> Setup {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Dubletten GmbH").await;
    let scope = db.crm.scope(org, owner);
    Setup { db, org, scope }
}

async fn add_company(s: &Setup, name: &str) -> Uuid {
    let name = name.to_string();
    s.scope
        .run(async |tx| {
            company::create(
                tx,
                NewCompany {
                    name,
                    ..NewCompany::default()
                },
            )
            .await
        })
        .await
        .unwrap()
        .id
        .uuid()
}

async fn add(s: &Setup, c: NewContact) -> Uuid {
    s.scope
        .run(async |tx| contact::create(tx, c).await)
        .await
        .unwrap()
        .id
        .uuid()
}

fn person(first: &str, last: &str, email: Option<&str>, company: Option<Uuid>) -> NewContact {
    NewContact {
        first_name: first.into(),
        last_name: last.into(),
        email: email.map(Into::into),
        company_id: company.map(Into::into),
        ..NewContact::default()
    }
}

fn with_phone(mut c: NewContact, phone: &str) -> NewContact {
    c.phone = Some(phone.into());
    c
}

/// Detection as `crm` runs it (two connections for contacts), checked against detection in
/// one transaction of the caller's: the same groups.
async fn detect(s: &Setup, kind: Kind, opts: DetectOptions) -> Vec<dedupe::Group> {
    let groups = dedupe::detect(&s.scope, kind, &opts).await.unwrap();
    let in_one = s
        .scope
        .run(async |tx| dedupe::detect_in(tx, kind, &opts).await)
        .await
        .unwrap();
    assert_eq!(
        format!("{groups:?}"),
        format!("{in_one:?}"),
        "detect and detect_in disagree"
    );
    groups
}

/// Imports `data` as companies (default options) through the records import.
async fn import_companies(s: &Setup, data: &str) -> crm_core::import::ImportSummary {
    use crm_core::import::ImportOptions;
    use crm_core::import::records::{RecordKind, import_records};
    import_records(
        &s.scope,
        RecordKind::Companies,
        data.as_bytes(),
        &ImportOptions::default(),
        None,
        |_| {},
    )
    .await
    .unwrap()
}

fn key(a: Uuid, b: Uuid) -> (Uuid, Uuid) {
    if a < b { (a, b) } else { (b, a) }
}

#[tokio::test]
async fn planted_contact_duplicates_are_found_with_high_precision_and_recall() {
    let s = setup().await;
    let acme = add_company(&s, "Acme GmbH").await;
    let bau = add_company(&s, "Bau AG").await;
    let mut truth: HashSet<(Uuid, Uuid)> = HashSet::new();
    let mut plant = async |a: NewContact, b: NewContact| {
        let (a, b) = (add(&s, a).await, add(&s, b).await);
        truth.insert(key(a, b));
    };
    // E-mail case and space variants (a second address of the other record).
    let mut v = person("Petra", "Schulz", Some("petra.schulz@acme.example"), None);
    v.emails = vec![];
    let mut w = person("P.", "Schulz", Some("p.s@privat.example"), None);
    w.emails = vec![NewContactEmail {
        email: " Petra.Schulz@ACME.example ".into(),
        ..NewContactEmail::default()
    }];
    plant(v, w).await;
    // Umlaut spellings at the same company.
    plant(
        person("Jürgen", "Müller", Some("jm@acme.example"), Some(acme)),
        person(
            "Juergen",
            "Mueller",
            Some("juergen@elsewhere.example"),
            Some(acme),
        ),
    )
    .await;
    // A typo at the same company.
    plant(
        person("Katharina", "Schneider", None, Some(bau)),
        person("Katharina", "Schnieder", None, Some(bau)),
    )
    .await;
    // Initials with the same e-mail domain.
    plant(
        person(
            "Johann",
            "Weber",
            Some("johann.weber@weber-partner.example"),
            None,
        ),
        person("J.", "Weber", Some("jw@weber-partner.example"), None),
    )
    .await;
    // Swapped first and last name at the same company.
    plant(
        person("Lukas", "Hartmann", None, Some(acme)),
        person("Hartmann", "Lukas", None, Some(acme)),
    )
    .await;
    // The same phone written in another format, similar name.
    plant(
        with_phone(person("Sabine", "Koch", None, None), "+49 30 1234567"),
        with_phone(person("Sabine", "Koch-Meyer", None, None), "030 1234567"),
    )
    .await;
    // Accents and case only.
    plant(
        person("René", "Lefèvre", Some("rene@lefevre.example"), Some(bau)),
        person("RENE", "LEFEVRE", None, Some(bau)),
    )
    .await;

    // Traps: colleagues, namesakes without any shared context, a shared switchboard.
    for (f, l) in [
        ("Anna", "Becker"),
        ("Tom", "Wagner"),
        ("Eva", "Fischer"),
        ("Max", "Wolf"),
    ] {
        add(&s, person(f, l, None, Some(acme))).await;
    }
    add(
        &s,
        person("Jürgen", "Müller", Some("jm@other.example"), None),
    )
    .await;
    add(
        &s,
        with_phone(person("Otto", "Zentrale", None, Some(bau)), "+49 89 555000"),
    )
    .await;
    add(
        &s,
        with_phone(person("Ida", "Klein", None, Some(bau)), "+49 89 555000"),
    )
    .await;
    add(
        &s,
        person("Paul", "Schmidt", Some("paul@acme.example"), Some(acme)),
    )
    .await;
    add(
        &s,
        person("Paula", "Schmitz", Some("paula@acme.example"), Some(acme)),
    )
    .await;

    let groups = detect(&s, Kind::Contact, DetectOptions::default()).await;
    let found: HashSet<(Uuid, Uuid)> = groups
        .iter()
        .flat_map(|g| g.pairs.iter().map(|p| key(p.ids[0], p.ids[1])))
        .collect();
    let hits = found.intersection(&truth).count() as f64;
    let precision = hits / found.len().max(1) as f64;
    let recall = hits / truth.len() as f64;
    eprintln!("planted contacts: precision {precision:.2}, recall {recall:.2}");
    assert!(
        precision >= 0.95 && recall >= 0.9,
        "precision {precision:.2}, recall {recall:.2}; groups: {groups:?}"
    );
    for g in &groups {
        assert!(g.score >= dedupe::DEFAULT_MIN_SCORE && !g.reasons.is_empty());
        assert_eq!(g.members.len(), g.ids.len());
    }

    // Filters: by reason and limit.
    let by_email = detect(
        &s,
        Kind::Contact,
        DetectOptions {
            reason: Some(Reason::Email),
            ..DetectOptions::default()
        },
    )
    .await;
    assert_eq!(by_email.len(), 1, "{by_email:?}");
    let one = detect(
        &s,
        Kind::Contact,
        DetectOptions {
            limit: 1,
            ..DetectOptions::default()
        },
    )
    .await;
    assert_eq!(one.len(), 1);
    // The shared switchboard shows up only below the default threshold.
    let low = detect(
        &s,
        Kind::Contact,
        DetectOptions {
            min_score: 0.5,
            reason: Some(Reason::Phone),
            ..DetectOptions::default()
        },
    )
    .await;
    assert!(low.iter().any(|g| g.score < dedupe::DEFAULT_MIN_SCORE));

    // "Not a duplicate" keeps a pair from being proposed again.
    let [a, b] = by_email[0].pairs[0].ids;
    let new = s
        .scope
        .run(async |tx| dedupe::dismiss(tx, Kind::Contact, b, a).await)
        .await
        .unwrap();
    assert!(new);
    let again = detect(&s, Kind::Contact, DetectOptions::default()).await;
    assert!(
        !again
            .iter()
            .flat_map(|g| &g.pairs)
            .any(|p| key(p.ids[0], p.ids[1]) == key(a, b))
    );
    assert_eq!(again.len(), groups.len() - 1);
}

/// The blocks of each kind of key reach what a contact holds beyond its row: a second
/// address's domain, a name of initials only, namesakes when asked for; and a deleted
/// contact sharing an address pairs with nobody.
#[tokio::test]
async fn contact_blocks_reach_second_addresses_initials_and_namesakes_and_skip_the_deleted() {
    let s = setup().await;
    let acme = add_company(&s, "Acme GmbH").await;
    let found = async |opts: DetectOptions| -> HashSet<(Uuid, Uuid)> {
        detect(&s, Kind::Contact, opts)
            .await
            .iter()
            .flat_map(|g| g.pairs.iter().map(|p| key(p.ids[0], p.ids[1])))
            .collect()
    };
    // The shared domain is the second address of one of them.
    let mut maria = person("Maria", "Roth", Some("maria@home.example"), None);
    maria.emails = vec![NewContactEmail {
        email: "m.roth@roth-bau.example".into(),
        ..NewContactEmail::default()
    }];
    let maria = add(&s, maria).await;
    let rot = add(
        &s,
        person("Maria", "Rot", Some("mr@roth-bau.example"), None),
    )
    .await;
    let primary: bool = sqlx::query_scalar(
        "select is_primary from contact_emails where email_norm = 'm.roth@roth-bau.example'",
    )
    .fetch_one(&mut s.db.owner().await)
    .await
    .unwrap();
    assert!(
        !primary,
        "the premise: the shared domain is not the primary address's"
    );
    // Initials only, twice at one company.
    let jk = add(&s, person("J.", "K.", None, Some(acme))).await;
    let jk2 = add(&s, person("J", "K", None, Some(acme))).await;
    // Namesakes with nothing else in common.
    let frieda = add(&s, person("Frieda", "Lorenz", None, None)).await;
    let frieda2 = add(&s, person("Frieda", "Lorenz", None, None)).await;
    // A deleted contact whose address a new one took over.
    let gone = add(&s, person("Hans", "Ober", Some("hans@ober.example"), None)).await;
    s.scope
        .run(async |tx| contact::delete(tx, gone.into(), None).await)
        .await
        .unwrap();
    let hans = add(&s, person("Hans", "Ober", Some("hans@ober.example"), None)).await;

    let default = found(DetectOptions::default()).await;
    assert!(default.contains(&key(maria, rot)), "{default:?}");
    assert!(default.contains(&key(jk, jk2)), "{default:?}");
    assert!(!default.contains(&key(frieda, frieda2)), "{default:?}");
    assert!(
        !default.iter().any(|&(a, b)| a == gone || b == gone),
        "{default:?}"
    );
    let low = found(DetectOptions {
        min_score: 0.6,
        ..DetectOptions::default()
    })
    .await;
    assert!(low.contains(&key(frieda, frieda2)), "{low:?}");
    assert!(!low.iter().any(|&(a, b)| a == gone || b == gone), "{low:?}");
    assert!(!low.contains(&key(hans, gone)));
}

#[tokio::test]
async fn planted_company_duplicates_are_found_by_vat_domain_and_name_without_legal_form() {
    let s = setup().await;
    let mk = |name: &str, vat: Option<&str>, domain: Option<&str>| NewCompany {
        name: name.into(),
        vat_id: vat.map(Into::into),
        domain: domain.map(Into::into),
        ..NewCompany::default()
    };
    let mut ids = Vec::new();
    for c in [
        mk("Müller Maschinenbau GmbH", None, None),
        mk("Mueller Maschinenbau GmbH & Co. KG", None, None),
        mk("Schreinerei Holz e.K.", None, Some("holz.example")),
        mk("Holz Schreinerei", None, Some("www.holz.example")),
        mk("Alpha Beta AG", Some("DE136695976"), None),
        mk("AB Holding", None, None),
        mk("Gamma Logistik UG (haftungsbeschränkt)", None, None),
        mk("Gama Logistik", None, None),
        mk("Delta Consulting GmbH", None, None),
        mk("Epsilon Bau GmbH", None, None),
    ] {
        let id = s
            .scope
            .run(async |tx| company::create(tx, c).await)
            .await
            .unwrap()
            .id
            .uuid();
        ids.push(id);
    }
    // The VAT id written with spaces (the unique index only catches exact equality).
    let mut owner = s.db.owner().await;
    sqlx::query("update companies set vat_id = 'DE 136 695 976' where id = $1")
        .bind(ids[5])
        .execute(&mut owner)
        .await
        .unwrap();
    let truth: HashSet<(Uuid, Uuid)> = [(0, 1), (2, 3), (4, 5), (6, 7)]
        .into_iter()
        .map(|(a, b)| key(ids[a], ids[b]))
        .collect();
    let groups = detect(&s, Kind::Company, DetectOptions::default()).await;
    let found: HashSet<(Uuid, Uuid)> = groups
        .iter()
        .flat_map(|g| g.pairs.iter().map(|p| key(p.ids[0], p.ids[1])))
        .collect();
    assert_eq!(found, truth, "{groups:?}");
    let vat = groups.iter().find(|g| g.ids.contains(&ids[4])).unwrap();
    assert!(vat.reasons.contains(&Reason::VatId));
}

/// Every row a merge may touch, as JSON, without what the database bumps on any write.
async fn state(conn: &mut PgConnection, org: OrgId, ids: &[Uuid]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (table, w) in [
        ("contacts", "id = any($2) or company_id = any($2)"),
        ("companies", "id = any($2)"),
        ("contact_emails", "contact_id = any($2)"),
        ("contact_phones", "contact_id = any($2)"),
        ("contact_tags", "contact_id = any($2)"),
        ("contact_owners", "contact_id = any($2)"),
        ("company_emails", "company_id = any($2)"),
        ("company_phones", "company_id = any($2)"),
        ("company_tags", "company_id = any($2)"),
        ("company_owners", "company_id = any($2)"),
        (
            "company_relationships",
            "from_company_id = any($2) or to_company_id = any($2)",
        ),
        ("deals", "contact_id = any($2) or company_id = any($2)"),
        ("activities", "contact_id = any($2) or company_id = any($2)"),
        ("consents", "contact_id = any($2)"),
        (
            "lexware_contact_links",
            "contact_id = any($2) or company_id = any($2)",
        ),
    ] {
        let rows: Value = sqlx::query_scalar(AssertSqlSafe(format!(
            "select coalesce(jsonb_agg(to_jsonb(t) - 'version' - 'updated_at' \
                     order by to_jsonb(t)::text), '[]') \
             from {table} t where org_id = $1 and ({w})"
        )))
        .bind(org)
        .bind(ids)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        out.insert(table.to_string(), rows);
    }
    out
}

async fn exec(conn: &mut PgConnection, sql: &str, binds: &[Uuid]) {
    let mut q = sqlx::query(AssertSqlSafe(sql.to_string()));
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(conn).await.unwrap();
}

async fn merge(s: &Setup, kind: Kind, req: MergeRequest) -> crm_core::Result<dedupe::MergeOutcome> {
    s.scope
        .run(async |tx| dedupe::merge(tx, kind, &req).await)
        .await
}

#[tokio::test]
async fn merging_three_contacts_moves_everything_and_unmerge_restores_it_exactly() {
    let s = setup().await;
    let acme = add_company(&s, "Acme AG").await;
    let keep = add(
        &s,
        NewContact {
            tags: vec!["A".into()],
            ..person("Jana", "", Some("jana@acme.example"), None)
        },
    )
    .await;
    let second = add(
        &s,
        NewContact {
            job_title: Some("CFO".into()),
            phones: vec![NewContactPhone {
                number: "030 1234567".into(),
                ..NewContactPhone::default()
            }],
            emails: vec![NewContactEmail {
                email: "JANA@acme.example".into(),
                ..NewContactEmail::default()
            }],
            tags: vec!["A".into(), "B".into()],
            custom: json!({"size": "M"}).as_object().unwrap().clone(),
            ..person("Jana", "Jung", Some("j.jung@privat.example"), Some(acme))
        },
    )
    .await;
    let third = add(
        &s,
        NewContact {
            job_title: Some("Geschäftsführerin".into()),
            ..person("J.", "Jung-Meier", Some("jj@other.example"), None)
        },
    )
    .await;
    let ids = [keep, second, third];

    // Relations of the merged-away records: deals, activities, consents, a Lexware link.
    let mut owner = s.db.owner().await;
    let org = s.org.uuid();
    let (pipeline, stage): (Uuid, Uuid) =
        sqlx::query_as("select pipeline_id, id from stages where org_id = $1 limit 1")
            .bind(org)
            .fetch_one(&mut owner)
            .await
            .unwrap();
    for c in [second, third] {
        exec(
            &mut owner,
            "insert into deals (org_id, id, title, pipeline_id, stage_id, contact_id) \
             values ($1, gen_random_uuid(), 'Deal', $2, $3, $4)",
            &[org, pipeline, stage, c],
        )
        .await;
        exec(
            &mut owner,
            "insert into activities (org_id, id, kind, subject, contact_id) \
             values ($1, gen_random_uuid(), 'note', 'Notiz', $2)",
            &[org, c],
        )
        .await;
    }
    exec(
        &mut owner,
        "insert into consents (org_id, id, contact_id, status, source) \
         values ($1, gen_random_uuid(), $2, 'granted', 'web')",
        &[org, third],
    )
    .await;
    exec(
        &mut owner,
        "insert into lexware_contact_links (org_id, id, contact_id, lexware_id) \
         values ($1, gen_random_uuid(), $2, gen_random_uuid())",
        &[org, second],
    )
    .await;
    let before = state(&mut owner, s.org, &ids).await;

    // A preview changes nothing and names what would move.
    let take = BTreeMap::from([("job_title".to_string(), third)]);
    let preview = merge(
        &s,
        Kind::Contact,
        MergeRequest {
            ids: ids.to_vec(),
            take: take.clone(),
            dry_run: true,
            ..MergeRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(preview.merge_id, None);
    assert_eq!(preview.moved["deals"], 2);
    assert_eq!(preview.record["job_title"], json!("Geschäftsführerin"));
    assert_eq!(state(&mut owner, s.org, &ids).await, before);

    let out = merge(
        &s,
        Kind::Contact,
        MergeRequest {
            ids: ids.to_vec(),
            take,
            versions: preview.versions.clone(),
            ..MergeRequest::default()
        },
    )
    .await
    .unwrap();
    let merge_id = out.merge_id.expect("a merge id");
    let merged = s
        .scope
        .run(async |tx| contact::get(tx, keep.into()).await)
        .await
        .unwrap();
    // Field rules: the survivor's first name, the newest non-empty last name (third was
    // created last), the taken job title, the company from the one that has it.
    assert_eq!(merged.first_name, "Jana");
    assert_eq!(merged.last_name, "Jung-Meier");
    assert_eq!(merged.job_title.as_deref(), Some("Geschäftsführerin"));
    assert_eq!(merged.company_id.map(|c| c.uuid()), Some(acme));
    assert_eq!(merged.custom, json!({"size": "M"}));
    // Multi-value fields united without duplicates, the survivor's primary kept.
    assert_eq!(merged.email.as_deref(), Some("jana@acme.example"));
    let mut emails: Vec<String> = merged
        .emails
        .iter()
        .map(|e| e.email.to_lowercase())
        .collect();
    emails.sort();
    assert_eq!(
        emails,
        [
            "j.jung@privat.example",
            "jana@acme.example",
            "jj@other.example"
        ]
    );
    assert_eq!(merged.emails.iter().filter(|e| e.primary).count(), 1);
    assert_eq!(merged.phone.as_deref(), Some("+49301234567"));
    assert_eq!(merged.tags, ["A", "B"]);
    for (table, n) in [
        ("deals", 2),
        ("activities", 2),
        ("consents", 1),
        ("lexware_contact_links", 1),
    ] {
        let got: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "select count(*) from {table} where org_id = $1 and contact_id = $2"
        )))
        .bind(org)
        .bind(keep)
        .fetch_one(&mut owner)
        .await
        .unwrap();
        assert_eq!(got, n, "{table}");
    }
    // Tombstones point at the survivor through the merge column; one audit entry, one event.
    let tombstones: Vec<(Uuid, bool)> = sqlx::query_as(
        "select id, deleted_at is not null from contacts where org_id = $1 and merged_into_id = $2 \
         order by id",
    )
    .bind(org)
    .bind(keep)
    .fetch_all(&mut owner)
    .await
    .unwrap();
    assert_eq!(tombstones.len(), 2);
    assert!(tombstones.iter().all(|t| t.1));
    let (audits, events): (i64, i64) = sqlx::query_as(
        "select (select count(*) from audit_log where org_id = $1 and action = 'merge'), \
                (select count(*) from events where org_id = $1 and topic = 'contact.merged' \
                 and payload->>'merge_id' = $2::text)",
    )
    .bind(org)
    .bind(merge_id)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!((audits, events), (1, 1));

    // Undo restores every record, value and relation exactly.
    let undone = s
        .scope
        .run(async |tx| dedupe::unmerge(tx, Kind::Contact, merge_id).await)
        .await
        .unwrap();
    assert_eq!(undone.restored_ids, [second, third]);
    assert_eq!(state(&mut owner, s.org, &ids).await, before);
    // Twice is a conflict.
    let again = s
        .scope
        .run(async |tx| dedupe::unmerge(tx, Kind::Contact, merge_id).await)
        .await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
}

#[tokio::test]
async fn an_edit_since_the_merge_blocks_the_unmerge_with_a_conflict_naming_it() {
    let s = setup().await;
    let a = add(&s, person("Eva", "Lang", Some("eva@x.example"), None)).await;
    let b = add(&s, person("Eva", "Lang", Some("eva.lang@y.example"), None)).await;
    let out = merge(
        &s,
        Kind::Contact,
        MergeRequest {
            ids: vec![a, b],
            ..MergeRequest::default()
        },
    )
    .await
    .unwrap();
    let c = s
        .scope
        .run(async |tx| contact::get(tx, a.into()).await)
        .await
        .unwrap();
    s.scope
        .run(async |tx| {
            contact::update(
                tx,
                a.into(),
                ContactPatch {
                    job_title: Some(Some("CEO".into())),
                    ..ContactPatch::at(c.version)
                },
            )
            .await
        })
        .await
        .unwrap();
    let err = s
        .scope
        .run(async |tx| dedupe::unmerge(tx, Kind::Contact, out.merge_id.unwrap()).await)
        .await
        .unwrap_err();
    match err {
        Error::Conflict(m) => assert!(m.contains("the records themselves"), "{m}"),
        e => panic!("{e:?}"),
    }
    // Nothing was restored.
    let gone = s
        .scope
        .run(async |tx| contact::get(tx, b.into()).await)
        .await;
    assert!(matches!(gone, Err(Error::NotFound { .. })));
}

#[tokio::test]
async fn a_merge_racing_an_edit_loses_on_the_version_check() {
    let s = setup().await;
    let a = add(&s, person("Ute", "Roth", Some("ute@x.example"), None)).await;
    let b = add(&s, person("Ute", "Roth", None, None)).await;
    let req = MergeRequest {
        ids: vec![a, b],
        dry_run: true,
        ..MergeRequest::default()
    };
    let preview = merge(&s, Kind::Contact, req).await.unwrap();
    // Someone edits b between the preview and the merge.
    let cb = s
        .scope
        .run(async |tx| contact::get(tx, b.into()).await)
        .await
        .unwrap();
    s.scope
        .run(async |tx| {
            contact::update(
                tx,
                b.into(),
                ContactPatch {
                    job_title: Some(Some("Einkauf".into())),
                    ..ContactPatch::at(cb.version)
                },
            )
            .await
        })
        .await
        .unwrap();
    let err = merge(
        &s,
        Kind::Contact,
        MergeRequest {
            ids: vec![a, b],
            versions: preview.versions,
            ..MergeRequest::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    let still = s
        .scope
        .run(async |tx| contact::get(tx, b.into()).await)
        .await
        .unwrap();
    assert_eq!(still.job_title.as_deref(), Some("Einkauf"));
}

#[tokio::test]
async fn two_records_linked_to_different_lexware_contacts_do_not_merge() {
    let s = setup().await;
    let a = add(&s, person("Lea", "Berg", None, None)).await;
    let b = add(&s, person("Lea", "Berg", None, None)).await;
    let mut owner = s.db.owner().await;
    for c in [a, b] {
        exec(
            &mut owner,
            "insert into lexware_contact_links (org_id, id, contact_id, lexware_id) \
             values ($1, gen_random_uuid(), $2, gen_random_uuid())",
            &[s.org.uuid(), c],
        )
        .await;
    }
    let err = merge(
        &s,
        Kind::Contact,
        MergeRequest {
            ids: vec![a, b],
            ..MergeRequest::default()
        },
    )
    .await
    .unwrap_err();
    match err {
        Error::Conflict(m) => assert!(m.contains("Lexware"), "{m}"),
        e => panic!("{e:?}"),
    }
    // Bad requests name the problem.
    let err = merge(
        &s,
        Kind::Contact,
        MergeRequest {
            ids: vec![a, b],
            take: BTreeMap::from([("colour".to_string(), a)]),
            ..MergeRequest::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
}

#[tokio::test]
async fn merging_companies_moves_contacts_and_relationships_and_unmerge_restores_them() {
    let s = setup().await;
    let keep = add_company(&s, "Müller Maschinenbau GmbH").await;
    let other = add_company(&s, "Mueller Maschinenbau GmbH & Co. KG").await;
    let partner = add_company(&s, "Partner AG").await;
    let worker = add(&s, person("Kai", "Wendt", None, Some(other))).await;
    let mut owner = s.db.owner().await;
    let org = s.org.uuid();
    let ty: Uuid =
        sqlx::query_scalar("select id from relationship_types where org_id = $1 limit 1")
            .bind(org)
            .fetch_one(&mut owner)
            .await
            .unwrap();
    // The same relationship from both (one is dropped as a duplicate), and one between them
    // (it would point at the survivor itself).
    for from in [keep, other] {
        exec(
            &mut owner,
            "insert into company_relationships (org_id, id, from_company_id, to_company_id, type_id) \
             values ($1, gen_random_uuid(), $2, $3, $4)",
            &[org, from, partner, ty],
        )
        .await;
    }
    exec(
        &mut owner,
        "insert into company_relationships (org_id, id, from_company_id, to_company_id, type_id) \
         values ($1, gen_random_uuid(), $2, $3, $4)",
        &[org, other, keep, ty],
    )
    .await;
    let ids = [keep, other, partner];
    let before = state(&mut owner, s.org, &ids).await;
    let out = merge(
        &s,
        Kind::Company,
        MergeRequest {
            ids: vec![keep, other],
            take: BTreeMap::from([("name".to_string(), other)]),
            ..MergeRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        out.record["name"],
        json!("Mueller Maschinenbau GmbH & Co. KG")
    );
    assert_eq!(out.moved["contacts"], 1);
    let (company_of_worker, rels): (Uuid, i64) = sqlx::query_as(
        "select (select company_id from contacts where id = $2), \
                (select count(*) from company_relationships where org_id = $1 \
                 and (from_company_id = $3 or to_company_id = $3))",
    )
    .bind(org)
    .bind(worker)
    .bind(keep)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!((company_of_worker, rels), (keep, 1));
    let merged_into: Option<Uuid> =
        sqlx::query_scalar("select merged_into_id from companies where id = $1")
            .bind(other)
            .fetch_one(&mut owner)
            .await
            .unwrap();
    assert_eq!(merged_into, Some(keep));

    s.scope
        .run(async |tx| dedupe::unmerge(tx, Kind::Company, out.merge_id.unwrap()).await)
        .await
        .unwrap();
    assert_eq!(state(&mut owner, s.org, &ids).await, before);
    // A contact merge id is no company merge.
    let wrong = s
        .scope
        .run(async |tx| dedupe::unmerge(tx, Kind::Contact, out.merge_id.unwrap()).await)
        .await;
    assert!(wrong.is_err());
}

#[tokio::test]
async fn the_merge_column_of_companies_is_written_by_a_merge_only() {
    let s = setup().await;
    let a = add_company(&s, "Eins GmbH").await;
    let b = add_company(&s, "Zwei GmbH").await;
    let err = s
        .scope
        .run(async |tx| {
            sqlx::query("update companies set merged_into_id = $1 where id = $2")
                .bind(a)
                .bind(b)
                .execute(tx.conn())
                .await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
}

#[tokio::test]
async fn purging_a_merged_away_record_takes_its_snapshot_with_it() {
    let s = setup().await;
    let a = add(&s, person("Ina", "Vogt", Some("ina@x.example"), None)).await;
    let b = add(&s, person("Ina", "Vogt", Some("ina.vogt@y.example"), None)).await;
    let out = merge(
        &s,
        Kind::Contact,
        MergeRequest {
            ids: vec![a, b],
            ..MergeRequest::default()
        },
    )
    .await
    .unwrap();
    let mut owner = s.db.owner().await;
    let count = async |conn: &mut PgConnection| -> i64 {
        sqlx::query_scalar("select count(*) from record_merges where id = $1")
            .bind(out.merge_id.unwrap())
            .fetch_one(conn)
            .await
            .unwrap()
    };
    assert_eq!(count(&mut owner).await, 1);
    // The merged-away record's deletion is old enough for the retention purge, which
    // deletes it for good, and its snapshot with it (the library's write since
    // 20261203040000: no trigger writes record_merges any more).
    exec(
        &mut owner,
        "update contacts set deleted_at = now() - interval '400 days' where id = $1",
        &[b],
    )
    .await;
    let purged = s
        .scope
        .run(async |tx| {
            crm_core::gdpr::retention(tx, Some(chrono::TimeDelta::days(30)), false).await
        })
        .await
        .unwrap();
    assert_eq!(purged.contacts, 1, "{purged:?}");
    assert_eq!(count(&mut owner).await, 0);
}

#[tokio::test]
async fn a_company_import_warns_about_likely_duplicates_of_existing_companies() {
    let s = setup().await;
    // A first load: nothing existed, nothing is compared (not even rows of the same file).
    let first = import_companies(
        &s,
        "name,domain\nNordlicht Logistik GmbH,nordlicht-logistik.de\n\
         Eifel Logistik GmbH,eifel-logistik.de\nMosel Bau GmbH,\nMosel Bau AG,\n",
    )
    .await;
    assert_eq!(first.created, 4);
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);

    // Another legal form and a typo are created, with a warning naming the existing
    // company; an unrelated company has none.
    let second = import_companies(
        &s,
        "name,domain\nNordlicht Logistik AG,\nGanz Anders GmbH,\nEifel Lgoistik GmbH,\n",
    )
    .await;
    assert_eq!(second.created, 3);
    let lines: Vec<(u64, &str)> = second
        .warnings
        .iter()
        .map(|w| (w.line, w.field.as_str()))
        .collect();
    assert_eq!(
        lines,
        [(2, "duplicate"), (4, "duplicate")],
        "{:?}",
        second.warnings
    );
    let existing: Uuid = sqlx::query_scalar("select id from companies where name = $1")
        .bind("Nordlicht Logistik GmbH")
        .fetch_one(&mut s.db.owner().await)
        .await
        .unwrap();
    let w = &second.warnings[0].message;
    assert!(
        w.contains(&existing.to_string()) && w.contains("same_name"),
        "{w}"
    );
    assert!(
        !w.contains("Nordlicht"),
        "no personal data or names in warnings: {w}"
    );
    assert!(second.warnings[1].message.contains("similar_name"));
}

/// Among many companies alike (the same first four letters and last word at a similar
/// length), those keys say nothing, as a detection block beyond its cap: a new company is
/// not compared with each of them (a file of 10,000 such names took over ten minutes). The
/// same name without legal form is still found on the way in; a typo in the crowd is left to
/// detection, whose typo keys are specific.
#[tokio::test]
async fn a_crowd_of_alike_company_names_is_not_compared_one_by_one() {
    let s = setup().await;
    let mut crowd = String::from("name\n");
    for i in 0..150 {
        crowd.push_str(&format!("Werk {i:03} Logistik GmbH\n"));
    }
    assert_eq!(import_companies(&s, &crowd).await.created, 150);
    let second = import_companies(&s, "name\nWerk 007 Logistik AG\nWerk 042 Lgoistik GmbH\n").await;
    assert_eq!(second.created, 2);
    let lines: Vec<u64> = second.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [2], "{:?}", second.warnings);
    assert!(second.warnings[0].message.contains("same_name"));
    let typo: Uuid = sqlx::query_scalar("select id from companies where name = $1")
        .bind("Werk 042 Lgoistik GmbH")
        .fetch_one(&mut s.db.owner().await)
        .await
        .unwrap();
    let groups = detect(&s, Kind::Company, DetectOptions::default()).await;
    assert!(
        groups
            .iter()
            .any(|g| g.ids.contains(&typo) && g.reasons.contains(&Reason::SimilarName)),
        "{groups:?}"
    );
}

#[tokio::test]
async fn the_trigram_similarity_of_the_library_is_pg_trgms() {
    let db = TestDb::new().await;
    let mut conn = db.owner().await;
    let texts = [
        "",
        "j",
        "jo",
        "mueller",
        "muller",
        "mueler",
        "juergen mueller",
        "mueller juergen",
        "j mueller",
        "anna maria schmidt",
        "schmidt anna maria",
        "anna-maria schmidt",
        "oezlem yilmaz",
        "ozlem yilmaz",
        "hans hansen",
        "a b c",
        "x7 müller",
        "meier 2",
        "  leading  and  trailing  ",
    ];
    for a in texts {
        for b in texts {
            let pg: f64 = sqlx::query_scalar("select similarity($1, $2)::float8")
                .bind(a)
                .bind(b)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(
                dedupe::trigram_similarity(a, b),
                pg,
                "similarity({a:?}, {b:?})"
            );
        }
    }
}

#[tokio::test]
async fn the_company_core_of_the_library_is_the_databases() {
    let db = TestDb::new().await;
    let mut conn = db.owner().await;
    let names = [
        "Nordlicht e.U.",
        "Nordlicht OG",
        "Nordlicht KEG",
        "Nordlicht OEG",
        "Nordlicht GesmbH",
        "Nordlicht Ges.m.b.H.",
        "Nordlicht GmbH & Co. KG",
        "Nordlicht EU",
        "Bauer & Sohn OG",
        "OG",
        "e.U.",
        "Vogel",
        "Logistik Vogel Og",
        "Müller Bau oeg",
        "",
    ];
    for name in names {
        let (key, core): (Option<String>, Option<String>) =
            sqlx::query_as("select crm_company_key($1), crm_company_core(crm_company_key($1))")
                .bind(name)
                .fetch_one(&mut conn)
                .await
                .unwrap();
        let key = key.unwrap_or_default();
        assert_eq!(
            dedupe::company_core(&key),
            core.unwrap_or_default(),
            "the core of {name:?} (key {key:?})"
        );
    }
}

/// `crm_company_key` walks the words of a name (migration 20261213010000) where it ran one
/// regular expression of the legal forms; the keys are the same. Compared with that expression
/// over every sequence of up to three words of the forms (and their near misses), and over
/// longer random sequences with separators the name key turns into spaces (or keeps, `|`).
#[tokio::test]
async fn the_company_key_walks_the_words_as_the_legal_form_expression_did() {
    let db = TestDb::new().await;
    let mut conn = db.owner().await;
    sqlx::query(
        r"create function pg_temp.former_company_key(t text) returns text
          language sql immutable strict as $$
            select pg_catalog.btrim(pg_catalog.regexp_replace(pg_catalog.regexp_replace(
                ' ' || pg_catalog.replace(public.crm_name_key(t), '|', ' ') || ' ',
                ' (gmbh co kgaa|gmbh co kg|gmbh co ohg|ag co kg|ag co ohg|se co kg|ug haftungsbeschraenkt co kg'
                '|ug haftungsbeschraenkt|gmbh|mbh|ggmbh|ug|ag|kgaa|kg|ohg|e k|ek|e kfm|e kfr|e v|ev|gbr'
                '|se|ltd|limited|inc|llc|plc|co kg|sarl|sa|bv|nv|corp|co ltd)(?= )', ' ', 'g'),
                '\s+', ' ', 'g')) $$",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let words = [
        "gmbh",
        "co",
        "kg",
        "kgaa",
        "ohg",
        "ag",
        "se",
        "ug",
        "haftungsbeschränkt",
        "e",
        "k",
        "kfm",
        "kfr",
        "v",
        "ek",
        "ltd",
        "sa",
        "corp",
        "mbh",
        "x",
        "Müller",
        "|",
        "kgx",
        "cos",
    ];
    let mut names: Vec<String> = Vec::new();
    for a in words {
        names.push(a.to_string());
        for b in words {
            names.push(format!("{a} {b}"));
            for c in words {
                names.push(format!("{a} {b} {c}"));
            }
        }
    }
    // Longer names, separators included, from a fixed-seed xorshift.
    let seps = [
        " ", "  ", "|", " | ", ".", ". ", ", ", "-", " & ", "\t", " (", ") ",
    ];
    let more = [
        "GmbH",
        "Co.",
        "KG",
        "e.K.",
        "e. V.",
        "UG",
        "(haftungsbeschränkt)",
        "Ltd.",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for _ in 0..5000 {
        let len = 1 + next(7);
        let mut name = String::new();
        for j in 0..len {
            if j > 0 {
                name.push_str(seps[next(seps.len())]);
            }
            let pool = next(4);
            name.push_str(if pool == 0 {
                more[next(more.len())]
            } else {
                words[next(words.len())]
            });
        }
        names.push(name);
    }
    names.extend(["", " ", "|", " | ", "GmbH & Co. KGaA", "Bau GmbH GmbH"].map(String::from));
    let (checked, differing): (i64, Vec<String>) = sqlx::query_as(
        "select count(*), coalesce((array_agg(t) filter (where crm_company_key(t) \
                is distinct from pg_temp.former_company_key(t)))[1:5], '{}') \
         from unnest($1::text[]) t",
    )
    .bind(&names)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(checked as usize, names.len());
    assert!(differing.is_empty(), "keys differ for {differing:?}");
}

/// `crm_person_key` keys a plain name (ASCII letters, digits, single spaces, `|`) by
/// lowering it, without `crm_fold` and the key's expression (migration 20261213020000);
/// every name gets the key it got before: `crm_name_key` of both parts.
#[tokio::test]
async fn the_person_key_of_a_plain_name_is_the_folded_key() {
    let db = TestDb::new().await;
    let mut conn = db.owner().await;
    let parts = [
        None,
        Some(""),
        Some(" "),
        Some("Anna"),
        Some("ANNA MARIA"),
        Some("anna  maria"),
        Some(" Anna"),
        Some("Anna "),
        Some("Müller"),
        Some("O'Neill"),
        Some("Hans-Peter"),
        Some("A|B"),
        Some("|"),
        Some(" | "),
        Some("Jo\tSeph"),
        Some("Dr. Weiß"),
        Some("İlker"),
        Some("x1 2y"),
        Some("Ørsted"),
        Some("李"),
        Some("a\u{a0}b"),
        Some("a\u{200b}b"),
    ];
    let mut firsts: Vec<Option<String>> = Vec::new();
    let mut lasts: Vec<Option<String>> = Vec::new();
    for f in parts {
        for l in parts {
            firsts.push(f.map(String::from));
            lasts.push(l.map(String::from));
        }
    }
    let (checked, differing): (i64, Vec<String>) = sqlx::query_as(
        "select count(*), coalesce((array_agg(coalesce(f, '<null>') || ' / ' || coalesce(l, '<null>')) \
                filter (where crm_person_key(f, l) is distinct from \
                        crm_name_key(replace(coalesce(f, ''), '|', ' ') || ' | ' \
                                     || replace(coalesce(l, ''), '|', ' '))))[1:5], '{}') \
         from unnest($1::text[], $2::text[]) as u(f, l)",
    )
    .bind(&firsts)
    .bind(&lasts)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(checked as usize, firsts.len());
    assert!(differing.is_empty(), "keys differ for {differing:?}");
    // And the stored keys of rows: a plain name and one that is not.
    let (org, user) = db.org("Schlüssel GmbH").await;
    let scope = db.crm.scope(org, user);
    for (first, last) in [("Anna", "Schmidt"), ("Jürgen", "Müller-Lüdenscheidt")] {
        let new = crm_core::store::contact::NewContact {
            first_name: first.into(),
            last_name: last.into(),
            ..Default::default()
        };
        scope
            .run(async |tx| contact::create(tx, new).await)
            .await
            .unwrap();
    }
    let keys: Vec<String> =
        sqlx::query_scalar("select name_key from contacts where org_id = $1 order by name_key")
            .bind(org)
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(keys, ["anna | schmidt", "juergen | mueller luedenscheidt"]);
}

/// Detection refuses what it cannot do, on both paths, before reading anything: a threshold
/// outside 0..1 (naming the field), and an acting user of another organization (the two
/// connections of contact detection check the actor as every transaction does).
#[tokio::test]
async fn detection_refuses_a_bad_threshold_and_a_foreign_actor() {
    let s = setup().await;
    add(&s, person("Jürgen", "Müller", Some("j@example.de"), None)).await;
    let bad = DetectOptions {
        min_score: 1.5,
        ..DetectOptions::default()
    };
    for kind in [Kind::Contact, Kind::Company] {
        let err = dedupe::detect(&s.scope, kind, &bad).await.unwrap_err();
        assert!(
            matches!(&err, Error::Validation(fe) if fe.0.iter().any(|f| f.field == "min_score")),
            "{err:?}"
        );
        let err = s
            .scope
            .run(async |tx| dedupe::detect_in(tx, kind, &bad).await)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Validation(_)), "{err:?}");
    }
    let (_, stranger) = s.db.org("Andere GmbH").await;
    let foreign = s.db.crm.scope(s.org, stranger);
    for kind in [Kind::Contact, Kind::Company] {
        let err = dedupe::detect(&foreign, kind, &DetectOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Tenancy(_)), "{err:?}");
    }
}
