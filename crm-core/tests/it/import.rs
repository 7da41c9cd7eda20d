//! Bulk CSV import of contacts: file quirks, validation, dedup, dry run, re-runs.

use crm_core::Scope;
use crm_core::import::contacts::import_contacts;
use crm_core::import::{ImportOptions, ImportSummary, OnDuplicate};
use crm_core::testing::TestDb;

async fn setup(db: &TestDb) -> Scope {
    let (org, owner) = db.org("Import GmbH").await;
    db.crm.scope(org, owner)
}

async fn import(scope: &Scope, data: &[u8], opts: ImportOptions) -> ImportSummary {
    import_contacts(scope, data, &opts, None, |_| {})
        .await
        .unwrap()
}

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    let mut owner = db.owner().await;
    sqlx::query_scalar(sql).fetch_one(&mut owner).await.unwrap()
}

#[tokio::test]
async fn german_excel_file_in_windows_1252_with_semicolons_and_german_headers() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    // "Jürgen;Müller;...;Straße" in Windows-1252, as German Excel saves it.
    let data = b"Vorname;Nachname;E-Mail;Telefon;Firma;Stra\xdfe;PLZ;Ort;USt-IdNr.\r\n\
J\xfcrgen;M\xfcller;j.mueller@example.de;030 1234567;M\xfcller GmbH;Hauptstra\xdfe 1;10115;Berlin;DE136695976\r\n\
Anna;Sch\xe4fer;anna@example.de;+41 44 668 18 00;M\xfcller GmbH;;;Z\xfcrich;\r\n";
    let s = import(&scope, data, ImportOptions::default()).await;
    assert_eq!((s.rows, s.created, s.failed), (2, 2, 0), "{s:?}");
    assert_eq!(s.companies_created, 1, "both rows link to one company");
    assert_eq!(s.delimiter, ";");
    assert!(s.unknown_columns.is_empty(), "{:?}", s.unknown_columns);
    let hits = scope
        .run(async |tx| crm_core::search::search(tx, "Mueller", 10).await)
        .await
        .unwrap();
    assert!(hits.iter().any(|h| h.name == "Jürgen Müller"), "{hits:?}");
    let phone: String = {
        let mut c = db.owner().await;
        sqlx::query_scalar("select phone from contacts where last_name = 'Müller'")
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    assert_eq!(phone, "+49301234567");
    assert_eq!(count(&db, "select count(*) from companies where vat_id = 'DE136695976' and billing_street = 'Hauptstraße 1'").await, 1);
    assert_eq!(
        count(&db, "select count(*) from contact_email_list").await,
        2
    );
    assert_eq!(count(&db, "select count(*) from contact_owners").await, 2);
}

#[tokio::test]
async fn utf8_bom_quoted_fields_with_delimiters_and_newlines_and_tags() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    // `remarks` is no field: kept as a custom field with --keep-unknown (a `notes` column
    // would become a note activity).
    let data = "\u{feff}first_name,last_name,email,job_title,tags,remarks\n\
\"Zoë\",\"O'Brien, Jr.\",zoe@example.com,\"Head of\nSales\",VIP|Messe 2026,\"said \"\"hi\"\"\"\n";
    let s = import(
        &scope,
        data.as_bytes(),
        ImportOptions {
            keep_unknown: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!((s.created, s.failed), (1, 0), "{s:?}");
    assert_eq!(s.unknown_columns, vec!["remarks".to_string()]);
    let mut c = db.owner().await;
    let (last, title, notes): (String, String, String) =
        sqlx::query_as("select last_name, job_title, custom->>'remarks' from contacts")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(last, "O'Brien, Jr.");
    // A line break in a single-line cell becomes a space (issue 14, item 9).
    assert_eq!(title, "Head of Sales");
    assert_eq!(notes, "said \"hi\"");
    let tags: Vec<String> = sqlx::query_scalar(
        "select t.name from contact_tags ct join tags t on t.id = ct.tag_id order by 1",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert_eq!(tags, vec!["Messe 2026", "VIP"]);
}

#[tokio::test]
async fn tab_delimited_and_mapped_columns() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let data = b"Given\tFamily\tMailbox\nLea\tK\xc3\xb6hler\tlea@example.at\n";
    let opts = ImportOptions {
        mappings: vec![
            ("Given".into(), "first_name".into()),
            ("Family".into(), "last_name".into()),
            ("Mailbox".into(), "email".into()),
        ],
        ..Default::default()
    };
    let s = import(&scope, data, opts).await;
    assert_eq!(s.created, 1, "{s:?}");
    assert_eq!(s.delimiter, "\t");
}

#[tokio::test]
async fn bad_rows_are_reported_with_line_and_field_and_good_rows_still_import() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let data = "Vorname,Nachname,E-Mail,Telefon\n\
Max,Mustermann,max@example.de,030 1234567\n\
Erika,Musterfrau,not-an-email,12\n\
,,,\n\
Otto,Normal,otto@example.de,\n";
    let mut errors_csv = Vec::new();
    let s = import_contacts(
        &scope,
        data.as_bytes(),
        &ImportOptions::default(),
        Some(Box::new(&mut errors_csv)),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!((s.rows, s.created, s.failed), (3, 2, 1), "{s:?}");
    let fields: Vec<(u64, &str)> = s
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    // A phone never fails a row (issue 14, item 13): only the e-mail does.
    assert_eq!(fields, vec![(3, "email")]);
    assert!(
        s.errors.iter().all(|e| !e.message.contains("not-an-email")),
        "no values in messages"
    );
    let text = String::from_utf8(errors_csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Vorname,Nachname,E-Mail,Telefon,line,field,error"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("Erika,Musterfrau,not-an-email,12,3,")
    );
}

#[tokio::test]
async fn duplicates_within_the_file_and_against_the_database() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let first = "email,first_name,last_name,company\n\
a@example.de,Anna,Alt,Acme\n\
A@Example.DE,Anna,Again,Acme\n\
,Bernd,Brot,Acme\n\
,Bernd,Brot,Acme\n";
    let s = import(&scope, first.as_bytes(), ImportOptions::default()).await;
    assert_eq!((s.created, s.skipped), (2, 2), "{s:?}");
    // Against the database: skip (default), error, update.
    let again = "email,first_name,last_name,job_title\na@example.de,Anna,Neu,CEO\nnew@example.de,Nina,Neu,\n";
    let s = import(&scope, again.as_bytes(), ImportOptions::default()).await;
    assert_eq!((s.created, s.skipped, s.updated), (1, 1, 0), "{s:?}");
    let s = import(
        &scope,
        again.as_bytes(),
        ImportOptions {
            on_duplicate: OnDuplicate::Error,
            ..Default::default()
        },
    )
    .await;
    assert_eq!((s.created, s.failed), (0, 2), "{s:?}");
    let s = import(
        &scope,
        again.as_bytes(),
        ImportOptions {
            on_duplicate: OnDuplicate::Update,
            ..Default::default()
        },
    )
    .await;
    // Anna changes; Nina's row equals what the second run created: unchanged, skipped.
    assert_eq!((s.created, s.updated, s.skipped), (0, 1, 1), "{s:?}");
    assert_eq!(s.changes[0].changes["last_name"]["before"], "Alt");
    assert_eq!(s.changes[0].changes["last_name"]["after"], "Neu");
    // Unchanged on a second update run: nothing is written.
    let s = import(
        &scope,
        again.as_bytes(),
        ImportOptions {
            on_duplicate: OnDuplicate::Update,
            ..Default::default()
        },
    )
    .await;
    assert_eq!((s.updated, s.skipped), (0, 2), "{s:?}");
    // Update fills only the columns present: the company link of Anna is untouched.
    assert_eq!(count(&db, "select count(*) from contacts where email_norm = 'a@example.de' and company_id is not null and job_title = 'CEO'").await, 1);
}

#[tokio::test]
async fn a_dry_run_writes_nothing() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let before = count(&db, "select count(*) from audit_log").await;
    let data = "email,first_name,company\nx@example.de,X,Neue Firma\n";
    let s = import(
        &scope,
        data.as_bytes(),
        ImportOptions {
            dry_run: true,
            ..Default::default()
        },
    )
    .await;
    assert!(s.dry_run);
    assert_eq!((s.created, s.companies_created), (1, 1));
    assert_eq!(count(&db, "select count(*) from contacts").await, 0);
    assert_eq!(count(&db, "select count(*) from companies").await, 0);
    assert_eq!(count(&db, "select count(*) from import_runs").await, 0);
    assert_eq!(count(&db, "select count(*) from audit_log").await, before);
}

#[tokio::test]
async fn an_interrupted_import_rerun_creates_no_duplicates_and_runs_are_recorded() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let mut data = String::from("email,first_name,last_name\n");
    for i in 0..250 {
        data.push_str(&format!("p{i}@example.de,P{i},Person\n"));
    }
    // The first attempt dies after two batches of 100: simulate by importing a prefix
    // (what the committed batches held) without finishing the run.
    let prefix: String = data.lines().take(201).map(|l| format!("{l}\n")).collect();
    let small = ImportOptions {
        batch_size: 100,
        ..Default::default()
    };
    let s = import(&scope, prefix.as_bytes(), small.clone()).await;
    assert_eq!(s.created, 200);
    let s = import(&scope, data.as_bytes(), small).await;
    assert_eq!((s.created, s.skipped), (50, 200), "{s:?}");
    assert_eq!(count(&db, "select count(*) from contacts").await, 250);
    assert_eq!(
        count(
            &db,
            "select count(*) from import_runs where status = 'finished' and file_digest is not null"
        )
        .await,
        2
    );
    // Every contact is traceable to its run, and batches are in the audit chain.
    assert_eq!(
        count(
            &db,
            "select count(*) from contacts c join import_runs r on r.id = c.import_run_id"
        )
        .await,
        250
    );
    assert!(
        count(
            &db,
            "select count(*) from audit_log where action = 'import_batch'"
        )
        .await
            >= 5
    );
    assert!(db.crm.verify_audit_chains().await.unwrap()[0].intact());
}

#[tokio::test]
async fn a_file_without_name_or_email_columns_is_refused_up_front() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let err = import_contacts(
        &scope,
        &b"foo,bar\n1,2\n"[..],
        &ImportOptions::default(),
        None,
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(err, crm_core::Error::Validation(_)), "{err:?}");
    let err = import_contacts(&scope, &b""[..], &ImportOptions::default(), None, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, crm_core::Error::Validation(_)));
}

#[tokio::test]
async fn batches_in_flight_together_create_each_company_once() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let mut data = String::from("email,first_name,last_name,company\n");
    for i in 0..400 {
        data.push_str(&format!(
            "c{i}@example.de,C{i},Kontakt,Firma {} GmbH\n",
            i % 50
        ));
    }
    let opts = ImportOptions {
        batch_size: 50,
        ..Default::default()
    };
    let s = import(&scope, data.as_bytes(), opts).await;
    assert_eq!((s.created, s.companies_created), (400, 50), "{s:?}");
    assert_eq!(count(&db, "select count(*) from companies").await, 50);
    assert_eq!(
        count(
            &db,
            "select count(*) from contacts where company_id is null"
        )
        .await,
        0
    );
    // Each with its own company, whichever batch created it (later batches find it existing).
    assert_eq!(
        count(
            &db,
            "select count(*) from contacts c join companies co on co.id = c.company_id \
             where co.name <> 'Firma ' || (substr(c.first_name, 2)::int % 50) || ' GmbH'"
        )
        .await,
        0
    );
    assert_eq!(
        count(&db, "select max(rows_done) from import_runs").await,
        400
    );
    assert!(db.crm.verify_audit_chains().await.unwrap()[0].intact());
}

/// Issue 6: a later import of an erased person's address is flagged (by the keyed hash on
/// the erasure receipt; the receipt holds no address).
#[tokio::test]
async fn an_import_flags_addresses_of_erased_persons() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let data =
        "email,first_name,last_name\nerika@example.de,Erika,Muster\nmax@example.de,Max,Muster\n";
    import(&scope, data.as_bytes(), ImportOptions::default()).await;
    scope
        .run(async |tx| crm_core::gdpr::erase(tx, "erika@example.de", false).await)
        .await
        .unwrap();
    let again =
        "email,first_name\nmax@example.de,Max\nneu@example.de,Neu\nErika@Example.DE,Erika\n";
    let s = import(&scope, again.as_bytes(), ImportOptions::default()).await;
    assert_eq!(s.previously_erased, vec![4], "{s:?}");
    assert_eq!((s.created, s.skipped), (2, 1));
}

/// A company the import cannot create (its VAT id belongs to a company of another name):
/// its rows are imported without a company, as before the rows carried the id the company
/// would have had; the rows of a company it can create are linked to it.
#[tokio::test]
async fn rows_of_a_company_that_cannot_be_created_arrive_without_one() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let first = "E-Mail;Firma;USt-IdNr.\na@example.de;Alpha GmbH;DE136695976\n";
    import(&scope, first.as_bytes(), ImportOptions::default()).await;
    let data = "E-Mail;Firma;USt-IdNr.\n\
b@example.de;Beta GmbH;DE136695976\n\
c@example.de;Gamma GmbH;\n";
    let s = import(&scope, data.as_bytes(), ImportOptions::default()).await;
    assert_eq!((s.created, s.failed), (2, 0), "{s:?}");
    assert_eq!(
        count(
            &db,
            "select count(*) from contacts c left join companies co on co.id = c.company_id \
             where (c.email = 'b@example.de' and c.company_id is null) \
                or (c.email = 'c@example.de' and co.name = 'Gamma GmbH') \
                or (c.email = 'a@example.de' and co.name = 'Alpha GmbH')"
        )
        .await,
        3
    );
}

/// A contact another session creates after a batch was matched (its transaction still open
/// while the batch inserts): the batch waits for it, then skips that row and keeps the rest.
#[tokio::test]
async fn a_contact_created_meanwhile_by_another_session_is_skipped_not_fatal() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Import GmbH").await;
    let scope = db.crm.scope(org, owner);
    let mut other = db.owner().await;
    sqlx::query("begin").execute(&mut other).await.unwrap();
    sqlx::query(
        "insert into contacts (org_id, id, first_name, last_name, email, email_norm) \
         values ($1, gen_random_uuid(), 'Anna', 'Andere', 'anna@example.de', 'anna@example.de')",
    )
    .bind(org)
    .execute(&mut other)
    .await
    .unwrap();
    let data =
        b"email,first_name,last_name\nanna@example.de,Anna,Import\nben@example.de,Ben,Import\n";
    let running = {
        let scope = scope.clone();
        tokio::spawn(async move {
            import_contacts(&scope, &data[..], &ImportOptions::default(), None, |_| {}).await
        })
    };
    // Wait (not timed: polled until it happens) for the batch to block on the open insert.
    let mut watch = db.owner().await;
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity \
             where datname = current_database() and wait_event_type = 'Lock'",
        )
        .fetch_one(&mut watch)
        .await
        .unwrap();
        if waiting > 0 || running.is_finished() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    sqlx::query("commit").execute(&mut other).await.unwrap();
    let s = running.await.unwrap().unwrap();
    assert_eq!((s.created, s.skipped, s.failed), (1, 1, 0), "{s:?}");
    assert_eq!(
        count(
            &db,
            "select count(*) from contacts where email_norm = 'anna@example.de'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "select count(*) from contacts c join contact_email_list e on e.contact_id = c.id \
             where c.last_name = 'Import'"
        )
        .await,
        1
    );
}

/// An organization's first import refreshes the statistics of its lookup columns after its
/// first full batch (not waiting for autovacuum, which plans the later batches' lookups as
/// if the tables were empty); a small import (one batch) and a later import do not.
#[tokio::test]
async fn a_first_import_refreshes_the_lookup_statistics_after_its_first_batch() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let analysed = async |db: &TestDb| {
        count(
            db,
            "select count(*) from pg_stat_user_tables \
             where relname in ('contacts', 'contact_emails', 'companies') \
               and last_analyze is not null",
        )
        .await
    };
    let rows = |from: usize, to: usize| {
        let mut data = String::from("email,first_name,last_name,company\n");
        for i in from..to {
            data.push_str(&format!("p{i}@example.de,P{i},Person,Firma {i} GmbH\n"));
        }
        data
    };
    let opts = || ImportOptions {
        batch_size: 50,
        ..Default::default()
    };
    let s = import(&scope, rows(0, 20).as_bytes(), opts()).await;
    assert_eq!(s.created, 20);
    assert_eq!(analysed(&db).await, 0, "one batch: nothing follows it");
    let s = import(&scope, rows(20, 140).as_bytes(), opts()).await;
    assert_eq!(s.created, 120);
    assert_eq!(analysed(&db).await, 0, "the organization had contacts");

    let db2 = TestDb::new().await;
    let scope2 = setup(&db2).await;
    let s = import(&scope2, rows(0, 120).as_bytes(), opts()).await;
    assert_eq!(s.created, 120);
    assert_eq!(analysed(&db2).await, 3);
}

/// With the input's size known (as `crm import` passes a file's), the last batches are cut
/// smaller; every row is still imported once, also when the size given is wrong.
#[tokio::test]
async fn an_import_of_known_size_cuts_its_last_batches_smaller_and_keeps_every_row() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let mut data = String::from("email,first_name,last_name\n");
    for i in 0..20_000 {
        data.push_str(&format!("t{i}@example.de,T{i},Tail\n"));
    }
    let size = data.len() as u64;
    let s = import(
        &scope,
        data.as_bytes(),
        ImportOptions {
            batch_size: 8_000,
            size_hint: Some(size),
            ..Default::default()
        },
    )
    .await;
    assert_eq!((s.created, s.failed), (20_000, 0));
    // Batches as recorded in the audit trail: ramp-up 1,000, 2,000, 4,000, then halves of
    // what is left, never below 1,000.
    let sizes: Vec<i64> = {
        let mut owner = db.owner().await;
        sqlx::query_scalar(
            "select (payload->>'created')::bigint from audit_log \
             where action = 'import_batch' order by (payload->>'batch')::int",
        )
        .fetch_all(&mut owner)
        .await
        .unwrap()
    };
    assert_eq!(sizes.iter().sum::<i64>(), 20_000);
    assert!(sizes.iter().all(|n| *n <= 8_000 && *n > 0), "{sizes:?}");
    assert!(
        sizes.len() >= 6 && sizes[sizes.len() - 2] < 8_000,
        "the last batches are not smaller: {sizes:?}"
    );

    let db2 = TestDb::new().await;
    let scope2 = setup(&db2).await;
    let s = import(
        &scope2,
        data.as_bytes(),
        ImportOptions {
            batch_size: 8_000,
            size_hint: Some(10),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        (s.created, s.failed),
        (20_000, 0),
        "a wrong size loses nothing"
    );
}

/// A large first import ends with the statistics of all its rows, not those of its first
/// batch: the analysis of the lookup columns after that batch does not count as the
/// once-a-minute refresh (migration 20261211020000; with it, searches after a 57-second
/// import of a million contacts were planned on 6,250 rows).
#[tokio::test]
async fn a_large_first_import_ends_with_the_statistics_of_all_its_rows() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let mut data = String::from("email,first_name,last_name\n");
    for i in 0..12_000 {
        data.push_str(&format!("q{i}@example.de,Q{i},Quelle\n"));
    }
    let s = import(&scope, data.as_bytes(), ImportOptions::default()).await;
    assert_eq!(s.created, 12_000);
    let estimated: f32 = {
        let mut owner = db.owner().await;
        sqlx::query_scalar("select reltuples from pg_class where oid = 'contacts'::regclass")
            .fetch_one(&mut owner)
            .await
            .unwrap()
    };
    assert!(
        estimated >= 12_000.0,
        "contacts estimated at {estimated} rows"
    );
}

/// A contact's one address and one number in E.164 form stay on the contact row (no rows in
/// `contact_emails` / `contact_phones`), and every reader still finds them: the contact as
/// shown, search by address, number and domain, matching a later import, duplicate
/// detection, the vCard export. A number written otherwise, a second address or a mobile
/// number get their rows as before.
#[tokio::test]
async fn an_only_address_and_number_stay_on_the_contact_row_and_are_found_everywhere() {
    use crm_core::dedupe::{self, DetectOptions, Kind, Reason};
    use crm_core::ids::ContactId;
    use crm_core::store::contact;

    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let file = "first_name,last_name,email,phone,email2,mobile\n\
Anna,Alpen,anna@alpenglueck.example,+493012345678,,\n\
Bernd,Berg,bernd@berghaus.example,030 98765432,,\n\
Clara,Cedar,clara@cedar.example,,clara.home@cedar.example,\n\
Dora,Dach,dora@dach.example,+493022223333,,+4915112345678\n";
    let s = import(&scope, file.as_bytes(), ImportOptions::default()).await;
    assert_eq!((s.created, s.failed), (4, 0), "{s:?}");
    let rows = |who: &'static str| {
        let db = &db;
        async move {
            let mut owner = db.owner().await;
            let (e, p): (i64, i64) = sqlx::query_as(
                "select (select count(*) from contact_emails e where e.contact_id = c.id), \
                        (select count(*) from contact_phones p where p.contact_id = c.id) \
                 from contacts c where c.first_name = $1",
            )
            .bind(who)
            .fetch_one(&mut owner)
            .await
            .unwrap();
            (e, p)
        }
    };
    // Anna: both on the row. Bernd: his number as written needs its row. Clara: two
    // addresses, two rows. Dora: an office and a mobile number, two rows.
    assert_eq!(rows("Anna").await, (0, 0));
    assert_eq!(rows("Bernd").await, (0, 1));
    assert_eq!(rows("Clara").await, (2, 0));
    assert_eq!(rows("Dora").await, (0, 2));

    let anna: uuid::Uuid = {
        let mut owner = db.owner().await;
        sqlx::query_scalar("select id from contacts where first_name = 'Anna'")
            .fetch_one(&mut owner)
            .await
            .unwrap()
    };
    let shown = scope
        .run(async |tx| contact::get(tx, ContactId::from(anna)).await)
        .await
        .unwrap();
    assert_eq!(shown.emails.len(), 1);
    assert_eq!(shown.emails[0].email, "anna@alpenglueck.example");
    assert!(shown.emails[0].primary);
    assert_eq!(shown.phones.len(), 1);
    assert_eq!(
        (
            shown.phones[0].number.as_str(),
            shown.phones[0].primary,
            shown.phones[0].valid
        ),
        ("+493012345678", true, true)
    );

    // Search: the address by prefix, the number by prefix, the domain.
    for q in ["anna@alpengl", "+49301234", "@alpenglueck.example"] {
        let hits = scope
            .run(async |tx| crm_core::search::search(tx, q, 10).await)
            .await
            .unwrap();
        assert!(hits.iter().any(|h| h.id == anna), "{q}: {hits:?}");
    }

    // A later import matches Anna by her address: skipped, not created twice; a newcomer
    // with her number is a likely duplicate, and detection pairs the two by the number.
    let again = "first_name,last_name,email,phone\n\
Anna,Alpen,ANNA@alpenglueck.example,\n\
Anne,Alpen,anne@elsewhere.example,+493012345678\n";
    let s = import(&scope, again.as_bytes(), ImportOptions::default()).await;
    assert_eq!((s.created, s.skipped), (1, 1), "{s:?}");
    assert!(!s.warnings.is_empty(), "{s:?}");
    let groups = dedupe::detect(&scope, Kind::Contact, &DetectOptions::default())
        .await
        .unwrap();
    let pair = groups
        .iter()
        .find(|g| g.ids.contains(&anna) && g.ids.len() == 2)
        .expect("Anna and Anne are a pair");
    assert!(pair.reasons.contains(&Reason::Phone), "{:?}", pair.reasons);

    // The vCard export writes her address and number.
    let out = scope
        .run(async |tx| {
            let mut out = Vec::new();
            crm_core::import::formats::vcard::write::export(
                tx,
                &crm_core::export::ExportFilter::default(),
                &mut out,
            )
            .await?;
            Ok(out)
        })
        .await
        .unwrap();
    let cards = String::from_utf8(out).unwrap();
    assert!(cards.contains("anna@alpenglueck.example"), "{cards}");
    assert!(cards.contains("+493012345678"), "{cards}");

    // Her data export lists both; her erasure takes both, and Anne keeps the number.
    let x = scope
        .run(async |tx| crm_core::gdpr::subject_export(tx, "anna@alpenglueck.example").await)
        .await
        .unwrap();
    assert!(
        x.emails
            .iter()
            .any(|e| e.email == "anna@alpenglueck.example" && e.primary)
    );
    assert!(x.phones.iter().any(|p| p.number == "+493012345678"));
    scope
        .run(async |tx| crm_core::gdpr::erase(tx, "anna@alpenglueck.example", false).await)
        .await
        .unwrap();
    assert_eq!(
        count(
            &db,
            "select count(*) from contact_email_list where email_norm like 'anna@%'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &db,
            "select count(*) from contact_phone_list where number_e164 = '+493012345678'"
        )
        .await,
        1
    );
    let hits = scope
        .run(async |tx| crm_core::search::search(tx, "anna@alpengl", 10).await)
        .await
        .unwrap();
    assert!(hits.is_empty(), "{hits:?}");
}

/// A row is matched with a contact by any of its addresses: the contact whose primary
/// address it is first, else one holding it besides its primary. An address that is one
/// contact's primary and another's second updates the first, even where the second is the
/// older contact (the smaller id, which the lookup once preferred).
#[tokio::test]
async fn a_row_updates_the_contact_whose_primary_address_it_is_before_one_holding_it_second() {
    use crm_core::domain::EmailKind;
    use crm_core::store::contact::{self, NewContact, NewContactEmail};
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let create = async |first: &str, email: &str, second: Option<&str>| {
        let new = NewContact {
            first_name: first.into(),
            last_name: "Adressen".into(),
            email: Some(email.into()),
            emails: second
                .map(|s| NewContactEmail {
                    email: s.into(),
                    kind: EmailKind::Personal,
                    primary: false,
                })
                .into_iter()
                .collect(),
            ..NewContact::default()
        };
        scope
            .run(async |tx| contact::create(tx, new).await)
            .await
            .unwrap()
            .id
    };
    let older = create("Ykje", "ykje@example.org", Some("shared@example.org")).await;
    let holder = create("Xaver", "shared@example.org", None).await;
    let zora = create("Zora", "zora@example.org", Some("only-second@example.org")).await;
    let data = b"first_name,last_name,email,city\n\
Xaver,Adressen,SHARED@example.org,Bremen\n\
Zora,Adressen,only-second@example.org,Kiel\n";
    let s = import(
        &scope,
        data,
        ImportOptions {
            on_duplicate: OnDuplicate::Update,
            ..ImportOptions::default()
        },
    )
    .await;
    assert_eq!((s.created, s.updated, s.failed), (0, 2, 0), "{s:?}");
    let city = async |id| {
        scope
            .run(async |tx| contact::get(tx, id).await)
            .await
            .unwrap()
            .city
    };
    assert_eq!(city(holder).await.as_deref(), Some("Bremen"));
    assert_eq!(city(older).await, None);
    assert_eq!(city(zora).await.as_deref(), Some("Kiel"));
}
