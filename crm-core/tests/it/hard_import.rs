//! Imports that survive hostile, messy and concurrent input (issue 14, items 11–14) and the
//! phone-country rule (issue 15, item 2): a bad byte fails its row alone, a stopped import
//! is marked failed and resumes, two imports at once both finish without duplicates, messy
//! phone numbers keep their contact, and memory stays bounded.

use crm_core::Scope;
use crm_core::ids::{CompanyId, ImportRunId};
use crm_core::import::contacts::import_contacts;
use crm_core::import::{ImportOptions, ImportSummary, MAX_LISTED};
use crm_core::store::contact::{self, NewContact, NewContactPhone};
use crm_core::testing::TestDb;
use uuid::Uuid;

async fn setup(db: &TestDb, name: &str) -> Scope {
    let (org, owner) = db.org(name).await;
    db.crm.scope(org, owner)
}

async fn import(scope: &Scope, data: &[u8], opts: &ImportOptions) -> ImportSummary {
    import_contacts(scope, data, opts, None, |_| {})
        .await
        .unwrap()
}

async fn scalar<T>(db: &TestDb, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let mut owner = db.owner().await;
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut owner)
        .await
        .unwrap()
}

async fn company(db: &TestDb, scope: &Scope, name: &str, country: &str) -> CompanyId {
    let id = Uuid::now_v7();
    let mut owner = db.owner().await;
    sqlx::query(
        "insert into companies (org_id, id, name, billing_country) values ($1, $2, $3, $4)",
    )
    .bind(scope.org())
    .bind(id)
    .bind(name)
    .bind(country)
    .execute(&mut owner)
    .await
    .unwrap();
    CompanyId::from(id)
}

#[tokio::test]
async fn a_nul_byte_fails_its_row_alone_and_the_run_finishes() {
    let db = TestDb::new().await;
    let scope = setup(&db, "Nul GmbH").await;
    let data = b"Vorname;Nachname;E-Mail\n\
Anna;Alt;anna@nul.test\n\
Bert;Bo\0se;bert@nul.test\n\
Carla;Clever;carla@nul.test\n\
Dora;Esc\x1b]0:x\x07;dora@nul.test\n";
    let s = import(&scope, data, &ImportOptions::default()).await;
    assert_eq!((s.rows, s.created, s.failed), (4, 2, 2), "{s:?}");
    let lines: Vec<(u64, &str)> = s
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    assert_eq!(lines, vec![(3, "last_name"), (5, "last_name")]);
    assert!(s.errors[0].message.contains("control character"));
    let status: String = scalar(&db, "select status from import_runs").await;
    assert_eq!(status, "finished");
}

#[tokio::test]
async fn utf16_without_bom_and_invalid_utf8_rows_import() {
    let db = TestDb::new().await;
    let scope = setup(&db, "Utf GmbH").await;
    let text = "Vorname;Nachname;E-Mail\nJürgen;Müller;j@utf.test\nÖzlem;Şahin;o@utf.test\n";
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let s = import(&scope, &le, &ImportOptions::default()).await;
    assert_eq!((s.created, s.failed), (2, 0), "{s:?}");
    let name: String = scalar(
        &db,
        "select last_name from contacts where email = 'j@utf.test'",
    )
    .await;
    assert_eq!(name, "Müller");
    // One row with a byte that is not UTF-8 (Latin-1 ü) in an otherwise UTF-8 file.
    let mixed = b"Vorname;Nachname;E-Mail\nKarl;K\xfchn;k@utf.test\nLisa;L\xc3\xb6we;l@utf.test\n";
    let s = import(&scope, mixed, &ImportOptions::default()).await;
    assert_eq!((s.created, s.failed), (2, 0), "{s:?}");
}

/// A writer that fails after `.0` writes: the error file cannot be written.
struct Broken(usize);

impl std::io::Write for Broken {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0 == 0 {
            return Err(std::io::Error::other("disk full"));
        }
        self.0 -= 1;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_stopped_import_is_marked_failed_and_resumes() {
    let db = TestDb::new().await;
    let scope = setup(&db, "Stop GmbH").await;
    let mut data = String::from("Vorname;Nachname;E-Mail\n");
    for i in 0..30 {
        data.push_str(&format!("Vor{i};Nach{i};p{i}@stop.test\n"));
    }
    data.push_str("Kaputt;Row;not-an-email\n");
    for i in 30..60 {
        data.push_str(&format!("Vor{i};Nach{i};\n"));
    }
    let opts = ImportOptions {
        batch_size: 10,
        ..ImportOptions::default()
    };
    // The error file fails at the bad row: the import stops with an error.
    let err = import_contacts(
        &scope,
        data.as_bytes(),
        &opts,
        Some(Box::new(Broken(0))),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("error file"), "{err}");
    let (status, error): (String, Option<String>) = {
        let mut owner = db.owner().await;
        sqlx::query_as("select status, error from import_runs")
            .fetch_one(&mut owner)
            .await
            .unwrap()
    };
    assert_eq!(status, "failed");
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("error file") && e.contains("again")),
        "{error:?}"
    );

    // A run whose process ended (it stays `running` with nobody holding the import lock)
    // is marked failed by the next import.
    let ghost = ImportRunId::new();
    {
        let mut owner = db.owner().await;
        sqlx::query(
            "insert into import_runs (org_id, id, kind, status) values ($1, $2, 'contacts', 'running')",
        )
        .bind(scope.org())
        .bind(ghost)
        .execute(&mut owner)
        .await
        .unwrap();
    }
    // Running the same file again resumes: what was imported is skipped, the rest created.
    let s = import(&scope, data.as_bytes(), &opts).await;
    let contacts: i64 = scalar(&db, "select count(*) from contacts").await;
    assert_eq!(contacts, 60, "{s:?}");
    assert_eq!(s.failed, 1);
    let running: i64 = scalar(
        &db,
        "select count(*) from import_runs where status = 'running'",
    )
    .await;
    assert_eq!(running, 0);
    let ghost_error: String = scalar(
        &db,
        &format!("select error from import_runs where id = '{ghost}'"),
    )
    .await;
    assert!(ghost_error.contains("interrupted"), "{ghost_error}");
}

/// Rows of people, some without e-mail, as (first, last, email).
fn people(range: std::ops::Range<usize>, reverse: bool) -> String {
    let mut rows: Vec<String> = range
        .map(|i| {
            let email = if i % 2 == 0 {
                format!("p{i}@both.test")
            } else {
                String::new()
            };
            format!("Vor{i};Nach{i};{email};Firma{};tag{}", i % 7, i % 5)
        })
        .collect();
    if reverse {
        rows.reverse();
    }
    let mut out = String::from("Vorname;Nachname;E-Mail;Firma;Tags\n");
    for r in rows {
        out.push_str(&r);
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_overlapping_imports_at_once_both_finish_without_duplicates() {
    let db = TestDb::new().await;
    let scope = setup(&db, "Both GmbH").await;
    // The same people, one file in reverse order, in small batches: the imports meet in the
    // middle (on today's main: a deadlock on the e-mail index or duplicates of the rows
    // without e-mail).
    let a = people(0..450, false);
    let b = people(0..450, true);
    let opts = ImportOptions {
        batch_size: 25,
        ..ImportOptions::default()
    };
    let (ra, rb) = tokio::join!(
        import_contacts(&scope, a.as_bytes(), &opts, None, |_| {}),
        import_contacts(&scope, b.as_bytes(), &opts, None, |_| {}),
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!((ra.failed, rb.failed), (0, 0));
    assert_eq!(ra.created + rb.created, 450, "{ra:?} {rb:?}");
    let contacts: i64 = scalar(&db, "select count(*) from contacts").await;
    assert_eq!(contacts, 450);
    let names: i64 = scalar(
        &db,
        "select count(distinct (first_name, last_name)) from contacts",
    )
    .await;
    assert_eq!(names, 450, "no person twice");
    let companies: i64 = scalar(&db, "select count(*) from companies").await;
    assert_eq!(companies, 7);
}

#[tokio::test]
async fn messy_phones_keep_their_contact_and_follow_the_country_rule() {
    let db = TestDb::new().await;
    let scope = setup(&db, "Phone GmbH").await;
    company(&db, &scope, "Zürich AG", "CH").await;
    let data = "Vorname;Nachname;E-Mail;Telefon;Firma;Land\n\
Anna;Mobil;anna@phone.test;0171/1234567;;\n\
Bert;Klammer;bert@phone.test;+49 (0)89 123456-78;;\n\
Carla;Unbekannt;carla@phone.test;+999 1234567;;\n\
Dora;Schweiz;dora@phone.test;044 123 45 67;Zürich AG;\n\
Emil;Wien;emil@phone.test;01 5873456-12;;AT\n\
Fritz;Buchstaben;fritz@phone.test;call me;;\n";
    let s = import(&scope, data.as_bytes(), &ImportOptions::default()).await;
    assert_eq!((s.created, s.failed), (6, 0), "{s:?}");
    let phones: Vec<(String, Option<String>, String)> = {
        let mut owner = db.owner().await;
        sqlx::query_as(
            "select c.last_name, p.number_e164, p.number_raw from contact_phones p \
             join contacts c on c.id = p.contact_id order by c.last_name",
        )
        .fetch_all(&mut owner)
        .await
        .unwrap()
    };
    let e164 = |name: &str| {
        phones
            .iter()
            .find(|p| p.0 == name)
            .map(|p| (p.1.clone(), p.2.clone()))
    };
    assert_eq!(e164("Mobil").unwrap().0.as_deref(), Some("+491711234567"));
    assert_eq!(e164("Klammer").unwrap().0.as_deref(), Some("+498912345678"));
    assert_eq!(e164("Schweiz").unwrap().0.as_deref(), Some("+41441234567"));
    assert_eq!(e164("Wien").unwrap().0.as_deref(), Some("+431587345612"));
    assert_eq!(
        e164("Unbekannt").unwrap(),
        (None, "+999 1234567".to_string()),
        "kept as written, without E.164"
    );
    assert!(e164("Buchstaben").is_none(), "letters are no phone row");
    let warned: Vec<(u64, &str)> = s
        .warnings
        .iter()
        .map(|w| (w.line, w.field.as_str()))
        .collect();
    assert_eq!(warned, vec![(4, "phone"), (7, "phone")], "{s:?}");
    assert!(s.warnings.iter().all(|w| !w.message.contains("999")));
    let kept: String = scalar(
        &db,
        "select custom->>'phone' from contacts where last_name = 'Buchstaben'",
    )
    .await;
    assert_eq!(kept, "call me");
}

#[tokio::test]
async fn contacts_written_through_the_store_follow_the_country_rule() {
    let db = TestDb::new().await;
    let scope = setup(&db, "Regel GmbH").await;
    let swiss = company(&db, &scope, "Bern AG", "CH").await;
    let (dora, emil, fritz) = scope
        .run(async |tx| {
            let dora = contact::create(
                tx,
                NewContact {
                    last_name: "Schweiz".into(),
                    company_id: Some(swiss),
                    phone: Some("044 123 45 67".into()),
                    ..NewContact::default()
                },
            )
            .await?;
            let emil = contact::create(
                tx,
                NewContact {
                    last_name: "Wien".into(),
                    home_country: Some("AT".into()),
                    phones: vec![NewContactPhone {
                        number: "01 5873456-12".into(),
                        ..NewContactPhone::default()
                    }],
                    ..NewContact::default()
                },
            )
            .await?;
            let fritz = contact::create(
                tx,
                NewContact {
                    last_name: "Fremd".into(),
                    phone: Some("+999 1234567".into()),
                    ..NewContact::default()
                },
            )
            .await?;
            Ok((dora, emil, fritz))
        })
        .await
        .unwrap();
    assert_eq!(dora.phone.as_deref(), Some("+41441234567"));
    assert!(dora.phones[0].valid);
    assert_eq!(emil.phones[0].number, "+431587345612");
    assert_eq!(fritz.phone.as_deref(), Some("+999 1234567"));
    assert!(!fritz.phones[0].valid);
    // Read back the same.
    let again = scope
        .run(async |tx| contact::get(tx, fritz.id).await)
        .await
        .unwrap();
    assert_eq!(again.phones, fritz.phones);
    // Letters are still refused.
    let err = scope
        .run(async |tx| {
            contact::create(
                tx,
                NewContact {
                    last_name: "Nein".into(),
                    phone: Some("call me".into()),
                    ..NewContact::default()
                },
            )
            .await
        })
        .await
        .unwrap_err();
    assert!(matches!(err, crm_core::Error::Validation(_)), "{err}");
}

#[tokio::test]
async fn memory_stays_bounded_with_clear_errors() {
    let db = TestDb::new().await;
    let scope = setup(&db, "Cap GmbH").await;
    // More bad rows than the summary lists: the rest are counted, the error file has all.
    let mut data = String::from("Vorname;Nachname;E-Mail\n");
    for i in 0..(MAX_LISTED + 200) {
        data.push_str(&format!("V{i};N{i};bad{i}\n"));
    }
    let mut file = Vec::new();
    let s = import_contacts(
        &scope,
        data.as_bytes(),
        &ImportOptions::default(),
        Some(Box::new(&mut file)),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(s.failed, (MAX_LISTED + 200) as u64);
    assert_eq!(s.errors.len(), MAX_LISTED);
    assert_eq!(s.errors_omitted, 200);
    assert_eq!(
        String::from_utf8(file).unwrap().lines().count(),
        MAX_LISTED + 201
    );

    // Too many tags, an over-long kept value: the row fails alone.
    let tags: Vec<String> = (0..60).map(|i| format!("t{i}")).collect();
    let data = format!(
        "Vorname;Nachname;Tags;Hobby\nA;Viele;{};x\nB;Lang;a;{}\nC;Gut;a|b;Lesen\n",
        tags.join("|"),
        "y".repeat(600)
    );
    let opts = ImportOptions {
        keep_unknown: true,
        ..ImportOptions::default()
    };
    let s = import(&scope, data.as_bytes(), &opts).await;
    let fields: Vec<(u64, &str)> = s
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    assert_eq!(fields, vec![(2, "tags"), (3, "Hobby")], "{s:?}");
    assert_eq!(s.created, 1);

    // Too many unknown columns to keep.
    let headers: Vec<String> = (0..60).map(|i| format!("Extra{i}")).collect();
    let data = format!("Nachname;{}\nX;{}\n", headers.join(";"), headers.join(";"));
    let err = import_contacts(&scope, data.as_bytes(), &opts, None, |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--keep-unknown"), "{err}");

    // A runaway quoted field: reading stops there, the rows before it are imported.
    let data = format!(
        "Vorname;Nachname\nErst;Reihe\nZweit;\"{}\nDritt;Reihe\n",
        "z".repeat(3 << 20)
    );
    let s = import(&scope, data.as_bytes(), &ImportOptions::default()).await;
    assert_eq!(s.created, 1, "{s:?}");
    assert_eq!(s.errors.last().map(|e| e.line), Some(3));
    assert!(s.errors.last().unwrap().message.contains("MiB"));
}

#[tokio::test]
async fn a_nul_byte_fails_its_company_row_alone() {
    use crm_core::import::records::{RecordKind, import_records};
    let db = TestDb::new().await;
    let scope = setup(&db, "Firmen GmbH").await;
    let data = b"Firma;Ort\nAlpha GmbH;Berlin\nBeta\0 GmbH;Bonn\nGamma GmbH;Graz\n";
    let s = import_records(
        &scope,
        RecordKind::Companies,
        &data[..],
        &ImportOptions::default(),
        None,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!((s.rows, s.created, s.failed), (3, 2, 1), "{s:?}");
    assert_eq!(s.errors[0].line, 3);
    let status: String = scalar(&db, "select status from import_runs").await;
    assert_eq!(status, "finished");
}
