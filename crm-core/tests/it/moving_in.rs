//! Moving in: other tools' exports imported as they are, with their quirks, everything of
//! value kept, re-imports recognised by the source id, and line numbers a user can find.

use crm_core::Scope;
use crm_core::import::contacts::import_contacts;
use crm_core::import::{Format, ImportOptions, ImportSummary, OnDuplicate};
use crm_core::testing::TestDb;

async fn setup(db: &TestDb) -> Scope {
    let (org, owner) = db.org("Moving In GmbH").await;
    db.crm.scope(org, owner)
}

async fn import(scope: &Scope, data: &[u8], opts: ImportOptions) -> ImportSummary {
    import_contacts(scope, data, &opts, None, |_| {})
        .await
        .unwrap()
}

async fn one<T>(db: &TestDb, sql: &'static str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let mut c = db.owner().await;
    sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
}

/// A German Outlook 2007 export as it comes: every filled cell quoted, CRLF, an LF inside
/// a quoted note, empty birthdays `0.0.00`, display names, categories with `;`.
const OUTLOOK_DE: &str = "\"Anrede\",\"Vorname\",\"Weitere Vornamen\",\"Nachname\",\"Suffix\",\"Firma\",\"Abteilung\",\"Position\",\"Straße geschäftlich\",\"Straße geschäftlich 2\",\"Ort geschäftlich\",\"Region geschäftlich\",\"Postleitzahl geschäftlich\",\"Land/Region geschäftlich\",\"Straße privat\",\"Ort privat\",\"Postleitzahl privat\",\"Land/Region privat\",\"Fax geschäftlich\",\"Telefon geschäftlich\",\"Telefon privat\",\"Mobiltelefon\",\"E-Mail-Adresse\",\"E-Mail-Typ\",\"E-Mail: Angezeigter Name\",\"E-Mail 2: Adresse\",\"E-Mail 2: Typ\",\"E-Mail 2: Angezeigter Name\",\"Geburtstag\",\"Geschlecht\",\"Jahrestag\",\"Kategorien\",\"Notizen\",\"Priorität\",\"Privat\"\r\n\
\"Herr\",\"Jürgen\",,\"Müller\",,\"Müller GmbH\",\"Vertrieb\",\"Leiter\",\"Hauptstraße 1\",\"Aufgang B\",\"Berlin\",,\"10115\",\"Deutschland\",\"Gartenweg 2\",\"Potsdam\",\"14467\",\"Deutschland\",\"030 1234568\",\"030 1234567\",\"0331 987654\",\"0171 1234567\",\"j.mueller@example.de\",\"SMTP\",\"Jürgen Müller (j.mueller@example.de)\",\"jm@privat.example\",\"SMTP\",\"Jürgen privat (jm@privat.example)\",\"10.9.1970\",\"Keine Angabe\",\"0.0.00\",\"Kunden;Messe 2026\",\"Erster Kontakt auf der Messe.\nRückruf im Mai.\",\"Normal\",\"Aus\"\r\n\
,\"Anna\",,\"Schäfer\",,,,,,,,,,,,,,,,,,,\"anna@example.de\",\"SMTP\",\"Anna Schäfer (anna@example.de)\",,,,\"0.0.00\",\"Keine Angabe\",\"0.0.00\",,,\"Normal\",\"Aus\"\r\n\
,\"Kaputt\",,\"Datum\",,,,,,,,,,,,,,,,,,,\"k@example.de\",\"SMTP\",,,,,\"31.2.1980\",\"Keine Angabe\",\"0.0.00\",,\"Zwei\nZeilen\",\"Normal\",\"Aus\"\r\n\
,\"Nach\",,\"Dem Fehler\",,,,,,,,,,,,,,,,,,,\"n@example.de\",\"SMTP\",,,,,\"0.0.00\",,,,,,\r\n";

#[tokio::test]
async fn german_outlook_export_arrives_whole_with_line_numbers_of_the_physical_lines() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let s = import(&scope, OUTLOOK_DE.as_bytes(), ImportOptions::default()).await;
    assert_eq!(s.format, Some(Format::Outlook));
    assert_eq!((s.rows, s.created, s.failed), (4, 3, 1), "{s:?}");
    // The bad birthday is on the row that starts on physical line 5 (line 3 holds a note
    // with a line break), in a CRLF file.
    assert_eq!(s.errors[0].line, 5, "{:?}", s.errors);
    assert_eq!(s.errors[0].field, "birthday");
    assert!(
        s.mapping
            .iter()
            .any(|m| m.column == "Mobiltelefon" && m.field == "mobile")
    );
    let (street, postal, country, home_city, home_country): (
        String,
        String,
        String,
        String,
        String,
    ) = {
        let mut c = db.owner().await;
        sqlx::query_as(
            "select street, postal_code, country, home_city, home_country from contacts where last_name = 'Müller'",
        )
        .fetch_one(&mut c)
        .await
        .unwrap()
    };
    assert_eq!(
        (street.as_str(), postal.as_str(), country.as_str()),
        ("Hauptstraße 1, Aufgang B", "10115", "DE")
    );
    assert_eq!(
        (home_city.as_str(), home_country.as_str()),
        ("Potsdam", "DE")
    );
    let kinds: String = one(
        &db,
        "select string_agg(kind || ':' || number_e164, ' ' order by kind) from contact_phones p join contacts c on c.id = p.contact_id where c.last_name = 'Müller'",
    )
    .await;
    assert_eq!(
        kinds,
        "fax:+49301234568 mobile:+491711234567 office:+49301234567 other:+49331987654"
    );
    let emails: String = one(
        &db,
        "select string_agg(e.email || ':' || e.kind, ' ' order by e.email) from contact_emails e join contacts c on c.id = e.contact_id where c.last_name = 'Müller'",
    )
    .await;
    assert_eq!(emails, "j.mueller@example.de:work jm@privat.example:other");
    let note: String = one(
        &db,
        "select body from activities a join contacts c on c.id = a.contact_id where a.kind = 'note' and c.last_name = 'Müller'",
    )
    .await;
    assert_eq!(note, "Erster Kontakt auf der Messe.\nRückruf im Mai.");
    let tags: String = one(
        &db,
        "select string_agg(t.name, '|' order by t.name) from contact_tags ct join tags t on t.id = ct.tag_id",
    )
    .await;
    assert_eq!(tags, "Kunden|Messe 2026");
    let birthday: chrono::NaiveDate = one(
        &db,
        "select birthday from contacts where last_name = 'Müller'",
    )
    .await;
    assert_eq!(birthday.to_string(), "1970-09-10");
}

#[tokio::test]
async fn google_multi_values_and_labels() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let text = "\u{feff}First Name,Middle Name,Last Name,Organization Name,Organization Title,Birthday,Notes,Labels,E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,Phone 1 - Label,Phone 1 - Value,Address 1 - Label,Address 1 - Street,Address 1 - City,Address 1 - Postal Code,Address 1 - Country\n\
Anna,,Schäfer,Beispiel GmbH,Einkauf,1990-01-01,,* myContacts ::: Kunden,* Work,anna@beispiel.de ::: anna.s@beispiel.de,Home,anna@privat.de,Mobile,+49 171 1234567,Work,Hauptstr. 1,Berlin,10115,Germany\n\
Ben,,Braun,,,,,* myContacts,* Work,ben@beispiel.de,,,,,,,,,\n";
    let s = import(&scope, text.as_bytes(), ImportOptions::default()).await;
    assert_eq!(s.format, Some(Format::Google));
    assert_eq!((s.created, s.failed), (2, 0), "{s:?}");
    let n: i64 = one(
        &db,
        "select count(*) from contact_emails e join contacts c on c.id = e.contact_id where c.last_name = 'Schäfer'",
    )
    .await;
    assert_eq!(n, 3);
    let primary: String = one(
        &db,
        "select email from contacts where last_name = 'Schäfer'",
    )
    .await;
    assert_eq!(primary, "anna@beispiel.de");
    let tags: i64 = one(&db, "select count(*) from tags").await;
    assert_eq!(tags, 1, "the system label is dropped");
}

#[tokio::test]
async fn source_ids_recognise_a_second_import_and_owners_map_to_users() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    {
        let mut c = db.owner().await;
        sqlx::query(
            "insert into users (org_id, id, email, email_norm, first_name, last_name, role) \
             values ($1, $2, 'olivia@crm.test', 'olivia@crm.test', 'Olivia', 'Owner', 'user')",
        )
        .bind(scope.org())
        .bind(uuid::Uuid::now_v7())
        .execute(&mut c)
        .await
        .unwrap();
    }
    let first = "Record ID,First Name,Last Name,Email,Phone Number,Contact owner,Associated Company\n\
51,Anna,Schäfer,anna@example.de,+49 30 1234567,Olivia Owner,Beispiel GmbH\n\
52,Ben,Braun,ben@example.de,,Nobody Known,\n";
    let s = import(&scope, first.as_bytes(), ImportOptions::default()).await;
    assert_eq!(s.format, Some(Format::Hubspot));
    assert_eq!((s.created, s.failed), (2, 0), "{s:?}");
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert_eq!(
        (s.warnings[0].line, s.warnings[0].field.as_str()),
        (3, "owner")
    );
    let owner: String = one(
        &db,
        "select u.email from contact_owners o join users u on u.id = o.user_id join contacts c on c.id = o.contact_id where c.last_name = 'Schäfer'",
    )
    .await;
    assert_eq!(owner, "olivia@crm.test");
    // A newer export: Anna changed her e-mail address; same record id.
    let newer = "Record ID,First Name,Last Name,Email,Job Title\n\
51,Anna,Schäfer,anna.neu@example.de,Einkaufsleiterin\n";
    let s = import(&scope, newer.as_bytes(), ImportOptions::default()).await;
    assert_eq!((s.created, s.skipped), (0, 1), "skipped by default: {s:?}");
    let s = import(
        &scope,
        newer.as_bytes(),
        ImportOptions {
            on_duplicate: OnDuplicate::Update,
            ..Default::default()
        },
    )
    .await;
    assert_eq!((s.created, s.updated), (0, 1), "{s:?}");
    let n: i64 = one(
        &db,
        "select count(*) from contacts where last_name = 'Schäfer'",
    )
    .await;
    assert_eq!(n, 1, "never duplicated");
    let title: String = one(
        &db,
        "select job_title from contacts where last_name = 'Schäfer'",
    )
    .await;
    assert_eq!(title, "Einkaufsleiterin");
}

#[tokio::test]
async fn vcard_file_imports_with_card_line_numbers() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Müller;Jürgen;;;\r\nFN:Jürgen Müller\r\nORG:Müller GmbH\r\nEMAIL;TYPE=INTERNET,WORK:j.mueller@example.de\r\nTEL;TYPE=CELL:0171 1234567\r\nADR;TYPE=WORK:;;Hauptstraße 1;Berlin;;10115;Deutschland\r\nNOTE:Zeile eins\\nZeile zwei\r\nCATEGORIES:Kunden,VIP\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nN:Kaputt;;;;\r\nBDAY:2999-01-01\r\nEND:VCARD\r\n";
    let s = import(&scope, text.as_bytes(), ImportOptions::default()).await;
    assert_eq!(s.format, Some(Format::Vcard));
    assert_eq!((s.created, s.failed), (1, 1), "{s:?}");
    assert_eq!(s.errors[0].line, 12, "the BEGIN line of the second card");
    let street: String = one(&db, "select street from contacts").await;
    assert_eq!(street, "Hauptstraße 1");
    let mobile: String = one(&db, "select kind from contact_phones").await;
    assert_eq!(mobile, "mobile");
    let note: String = one(&db, "select body from activities where kind = 'note'").await;
    assert_eq!(note, "Zeile eins\nZeile zwei");
}
