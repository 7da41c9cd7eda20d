//! Moving in, companies too (issue 16, item 5): the organization / account / company exports
//! of other tools import without a mapping, with their quirks, and contacts imported before
//! or after are linked to their company by its name, its source id or their e-mail domain.

use crm_core::Scope;
use crm_core::import::contacts::import_contacts;
use crm_core::import::records::{RecordKind, import_records};
use crm_core::import::{Format, ImportOptions, ImportSummary};
use crm_core::testing::TestDb;

async fn setup(db: &TestDb) -> Scope {
    let (org, owner) = db.org("Umzug GmbH").await;
    let scope = db.crm.scope(org, owner);
    let mut c = db.owner().await;
    sqlx::query(
        "insert into users (org_id, id, email, email_norm, first_name, last_name, role) \
         values ($1, $2, 'olivia@crm.test', 'olivia@crm.test', 'Olivia', 'Owner', 'user')",
    )
    .bind(org)
    .bind(uuid::Uuid::now_v7())
    .execute(&mut c)
    .await
    .unwrap();
    scope
}

async fn companies(scope: &Scope, data: &[u8], opts: ImportOptions) -> ImportSummary {
    import_records(scope, RecordKind::Companies, data, &opts, None, |_| {})
        .await
        .unwrap()
}

async fn contacts(scope: &Scope, data: &[u8]) -> ImportSummary {
    import_contacts(scope, data, &ImportOptions::default(), None, |_| {})
        .await
        .unwrap()
}

/// One company as stored, flattened to text for comparison.
async fn company(db: &TestDb, name: &str) -> serde_json::Value {
    let mut c = db.owner().await;
    sqlx::query_scalar(
        "select jsonb_build_object( \
            'external', c.external_system || ':' || c.external_id, \
            'domain', c.domain, 'website', c.website, 'vat_id', c.vat_id, 'tax_id', c.tax_id, \
            'size', c.size, 'street', c.billing_street, 'postal_code', c.billing_postal_code, \
            'city', c.billing_city, 'country', c.billing_country, \
            'delivery', c.delivery_street || ', ' || c.delivery_postal_code || ' ' || c.delivery_city, \
            'industry', (select key from industries i where i.org_id = c.org_id and i.id = c.industry_id), \
            'account_type', (select key from account_types a where a.org_id = c.org_id and a.id = c.account_type_id), \
            'email', c.email, \
            'emails', (select string_agg(e.email, ' ' order by e.is_primary desc, e.email) \
                       from company_emails e where e.org_id = c.org_id and e.company_id = c.id), \
            'phones', (select string_agg(p.kind || ':' || p.number_e164, ' ' order by p.is_primary desc, p.kind) \
                       from company_phones p where p.org_id = c.org_id and p.company_id = c.id), \
            'tags', (select string_agg(t.name, '|' order by t.name) from company_tags ct \
                     join tags t on t.org_id = ct.org_id and t.id = ct.tag_id \
                     where ct.org_id = c.org_id and ct.company_id = c.id), \
            'owner', (select string_agg(u.email, ' ') from company_owners o join users u \
                      on u.org_id = o.org_id and u.id = o.user_id \
                      where o.org_id = c.org_id and o.company_id = c.id and o.role = 'owner'), \
            'note', (select string_agg(a.body, ' | ') from activities a \
                     where a.org_id = c.org_id and a.company_id = c.id and a.kind = 'note'), \
            'custom', c.custom) \
         from companies c where c.name = $1 and c.deleted_at is null",
    )
    .bind(name)
    .fetch_one(&mut c)
    .await
    .unwrap_or_else(|e| panic!("company {name}: {e}"))
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/companies/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn has_warning(s: &ImportSummary, line: u64, field: &str) -> bool {
    s.warnings
        .iter()
        .any(|w| w.line == line && w.field == field)
}

#[tokio::test]
async fn hubspot_company_export() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let s = companies(
        &scope,
        &fixture("hubspot-companies.csv"),
        ImportOptions::default(),
    )
    .await;
    assert_eq!(s.format, Some(Format::Hubspot));
    assert_eq!((s.rows, s.created, s.failed), (2, 2, 0), "{s:?}");
    let c = company(&db, "Beispiel GmbH").await;
    assert_eq!(c["external"], "hubspot:1001");
    assert_eq!(c["domain"], "beispiel.de");
    assert_eq!(
        (&c["street"], &c["postal_code"], &c["city"], &c["country"]),
        (
            &"Hauptstraße 1".into(),
            &"10115".into(),
            &"Berlin".into(),
            &"DE".into()
        )
    );
    assert_eq!(c["phones"], "office:+49301234567");
    assert_eq!(c["size"], "large", "1,200 employees");
    assert_eq!(
        c["account_type"], "prospect",
        "PROSPECT is the key in any case"
    );
    assert_eq!(c["industry"], serde_json::Value::Null);
    assert_eq!(c["custom"]["industry"], "COMPUTER_SOFTWARE");
    assert!(has_warning(&s, 2, "industry"), "{:?}", s.warnings);
    assert_eq!(c["owner"], "olivia@crm.test");
    assert_eq!(c["note"], "Kunde seit 2019.\nRahmenvertrag bis 2027.");
    let m = company(&db, "Muster AG").await;
    assert_eq!(
        m["phones"], "office:+41446681800",
        "read in the company's country"
    );
    assert_eq!(m["account_type"], "partner");
    // The note of the first row spans two lines: the second record starts on line 4.
    assert!(has_warning(&s, 4, "owner"), "{:?}", s.warnings);
    // A second import of the same export is recognised by the record ids.
    let again = companies(
        &scope,
        &fixture("hubspot-companies.csv"),
        ImportOptions::default(),
    )
    .await;
    assert_eq!((again.created, again.skipped), (0, 2), "{again:?}");
}

#[tokio::test]
async fn salesforce_data_loader_accounts() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let s = companies(
        &scope,
        &fixture("salesforce-accounts.csv"),
        ImportOptions::default(),
    )
    .await;
    assert_eq!(s.format, Some(Format::Salesforce));
    assert_eq!((s.created, s.failed), (2, 0), "{s:?}");
    let c = company(&db, "Beispiel GmbH").await;
    assert_eq!(c["external"], "salesforce:0015g00000XyZ01");
    assert_eq!(c["domain"], "beispiel.de");
    assert_eq!(c["delivery"], "Lagerweg 5, 14467 Potsdam");
    assert_eq!(c["phones"], "office:+49301234567 fax:+49301234568");
    assert_eq!(
        (&c["industry"], &c["account_type"]),
        (&"manufacturing".into(), &"customer".into())
    );
    assert_eq!(c["note"], "Key account");
    let m = company(&db, "Muster AG").await;
    assert_eq!(m["country"], "CH");
    assert_eq!(m["custom"]["account_type"], "Customer - Direct");
    assert_eq!(m["custom"]["industry"], "Banking");
    assert!(has_warning(&s, 3, "account_type"), "{:?}", s.warnings);
}

#[tokio::test]
async fn pipedrive_organizations() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let s = companies(
        &scope,
        &fixture("pipedrive-organizations.csv"),
        ImportOptions::default(),
    )
    .await;
    assert_eq!(s.format, Some(Format::Pipedrive));
    assert_eq!((s.created, s.failed), (2, 0), "{s:?}");
    let c = company(&db, "Beispiel GmbH").await;
    assert_eq!(c["external"], "pipedrive:7");
    assert_eq!(c["street"], "Hauptstraße 1", "street and house number");
    assert_eq!(c["tags"], "Hot lead|Kunde");
    assert_eq!(c["owner"], "olivia@crm.test", "the owner by name");
    assert!(
        s.mapping
            .iter()
            .any(|m| m.column == "Organization - Name" && m.field == "name")
    );
    assert!(
        s.unknown_columns.is_empty(),
        "every column of the published layout is known: {:?}",
        s.unknown_columns
    );
}

#[tokio::test]
async fn twenty_companies() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let s = companies(
        &scope,
        &fixture("twenty-companies.csv"),
        ImportOptions::default(),
    )
    .await;
    assert_eq!(s.format, Some(Format::Twenty));
    assert_eq!((s.created, s.failed), (2, 0), "{s:?}");
    let c = company(&db, "Beispiel GmbH").await;
    assert_eq!(c["external"], "twenty:9b3c1f0e-0000-4000-8000-0000000000c1");
    assert_eq!(c["domain"], "beispiel.de");
    assert_eq!(c["street"], "Hauptstraße 1, Aufgang B");
    assert_eq!(c["size"], "medium");
    assert_eq!(
        c["custom"]["linkedin_url"],
        "https://www.linkedin.com/company/beispiel"
    );
    let m = company(&db, "Muster AG").await;
    assert_eq!(m["domain"], "muster.ch");
}

#[tokio::test]
async fn espocrm_accounts() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let s = companies(
        &scope,
        &fixture("espocrm-accounts.csv"),
        ImportOptions::default(),
    )
    .await;
    assert_eq!(s.format, Some(Format::Espocrm));
    assert_eq!((s.created, s.failed), (2, 0), "{s:?}");
    let c = company(&db, "Beispiel GmbH").await;
    assert_eq!(c["emails"], "info@beispiel.de einkauf@beispiel.de");
    assert_eq!(c["phones"], "office:+49301234567 other:+491711234567");
    assert_eq!(c["note"], "Long-time customer");
    assert_eq!(c["owner"], "olivia@crm.test");
    assert_eq!(c["account_type"], "customer");
    let m = company(&db, "Muster AG").await;
    assert_eq!(
        m["phones"], "office:+41446681800",
        "the '+ formula guard undone"
    );
}

#[tokio::test]
async fn lexware_company_contacts() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let s = companies(
        &scope,
        &fixture("lexware-contacts.csv"),
        ImportOptions::default(),
    )
    .await;
    assert_eq!(s.format, Some(Format::Lexware));
    assert_eq!(
        (s.rows, s.created, s.skipped, s.failed),
        (3, 2, 1, 0),
        "the person row is no company: {s:?}"
    );
    let c = company(&db, "Beispiel GmbH").await;
    assert_eq!(c["external"], "lexware:10001");
    assert_eq!(
        (&c["vat_id"], &c["tax_id"]),
        (&"DE136695976".into(), &"27/123/45678".into())
    );
    assert_eq!(c["phones"], "office:+49301234567 fax:+49301234568");
    assert_eq!(c["email"], "info@beispiel.de");
    assert_eq!(c["note"], "Zahlt per Lastschrift");
    let m = company(&db, "Muster AG").await;
    assert_eq!(
        (&m["vat_id"], &m["country"]),
        (&"CHE116281710".into(), &"CH".into())
    );
}

#[tokio::test]
async fn outlook_rows_give_their_companies_once() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let s = companies(&scope, &fixture("outlook-en.csv"), ImportOptions::default()).await;
    assert_eq!(s.format, Some(Format::Outlook));
    assert_eq!(
        (s.rows, s.created, s.skipped),
        (3, 1, 2),
        "one company named twice, one row without: {s:?}"
    );
    let c = company(&db, "Beispiel GmbH").await;
    assert_eq!(
        c["phones"], "office:+49301234567",
        "the company's main number, not the person's"
    );
    assert_eq!(c["domain"], "beispiel.de");
    assert_eq!(c["city"], "Berlin");
}

#[tokio::test]
async fn a_dry_run_names_the_format_and_writes_nothing() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let s = companies(
        &scope,
        &fixture("pipedrive-organizations.csv"),
        ImportOptions {
            dry_run: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!((s.format, s.created), (Some(Format::Pipedrive), 2));
    let n: i64 = {
        let mut c = db.owner().await;
        sqlx::query_scalar("select count(*) from companies")
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    assert_eq!(n, 0);
    // `--from` forces a format; vCard files hold no companies.
    let err = import_records(
        &scope,
        RecordKind::Companies,
        &fixture("pipedrive-organizations.csv")[..],
        &ImportOptions {
            from: Some(Format::Vcard),
            ..Default::default()
        },
        None,
        |_| {},
    )
    .await
    .err()
    .unwrap();
    assert!(err.to_string().contains("contacts"), "{err}");
}

/// Which company each contact ended up with (`-` for none), by last name.
async fn links(db: &TestDb) -> String {
    let mut c = db.owner().await;
    sqlx::query_scalar(
        "select string_agg(p.last_name || '=' || coalesce(co.name, '-'), ' ' order by p.last_name) \
         from contacts p left join companies co on co.org_id = p.org_id and co.id = p.company_id",
    )
    .fetch_one(&mut c)
    .await
    .unwrap()
}

#[tokio::test]
async fn contacts_before_and_after_find_their_companies() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    // Contacts first: one names its company, one only by the company's record id, one has
    // only an e-mail at the company's domain, one a freemail address.
    let people = "Record ID,First Name,Last Name,Email,Primary Associated Company ID,Associated Company\n\
51,Anna,Albers,anna@beispiel.de,1001,Beispiel GmbH\n\
52,Ben,Braun,ben@muster.ch,1002,\n\
53,Cara,Clausen,cara@nord.de,,\n\
54,Dirk,Dahl,dirk@gmail.com,,\n";
    let s = contacts(&scope, people.as_bytes()).await;
    assert_eq!((s.created, s.companies_created), (4, 1), "{s:?}");
    assert_eq!(
        links(&db).await,
        "Albers=Beispiel GmbH Braun=- Clausen=- Dahl=-"
    );
    let firms = "Record ID,Company name,Company Domain Name,City,Phone Number\n\
1001,Beispiel GmbH,beispiel.de,Berlin,030 1234567\n\
1002,Muster AG,muster.ch,Zürich,+41 44 668 18 00\n\
1003,Nord KG,nord.de,Kiel,\n\
1004,Google,gmail.com,Mountain View,\n";
    let s = companies(&scope, firms.as_bytes(), ImportOptions::default()).await;
    assert_eq!(
        (s.created, s.updated, s.failed),
        (3, 1, 0),
        "the company the contact import created by name is completed, not duplicated: {s:?}"
    );
    assert_eq!(s.contacts_linked, 2, "{s:?}");
    assert_eq!(
        links(&db).await,
        "Albers=Beispiel GmbH Braun=Muster AG Clausen=Nord KG Dahl=-"
    );
    let b = company(&db, "Beispiel GmbH").await;
    assert_eq!(
        (&b["external"], &b["domain"], &b["city"]),
        (
            &"hubspot:1001".into(),
            &"beispiel.de".into(),
            &"Berlin".into()
        )
    );
    // Contacts after: by the company's record id, and by the domain of the e-mail.
    let later = "Record ID,First Name,Last Name,Email,Primary Associated Company ID\n\
55,Eva,Engel,eva@else.example,1002\n\
56,Finn,Fuchs,finn@nord.de,\n\
57,Gerd,Gast,gerd@gmail.com,\n";
    let s = contacts(&scope, later.as_bytes()).await;
    assert_eq!((s.created, s.companies_created), (3, 0), "{s:?}");
    assert_eq!(
        links(&db).await,
        "Albers=Beispiel GmbH Braun=Muster AG Clausen=Nord KG Dahl=- Engel=Muster AG Fuchs=Nord KG Gast=-"
    );
    let n: i64 = {
        let mut c = db.owner().await;
        sqlx::query_scalar("select count(*) from companies")
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    assert_eq!(n, 4);
}

/// What arrived of the one contact of an organization: e-mails, phones (kinds), company,
/// street and city, tags, note.
async fn arrived(db: &TestDb, scope: &Scope) -> String {
    let mut c = db.owner().await;
    sqlx::query_scalar(
        "select concat_ws(' / ', \
            (select string_agg(e.email, ' ' order by e.is_primary desc, e.email) \
             from contact_email_list e where e.org_id = p.org_id and e.contact_id = p.id), \
            (select string_agg(ph.kind, ' ' order by ph.is_primary desc, ph.kind) \
             from contact_phone_list ph where ph.org_id = p.org_id and ph.contact_id = p.id), \
            coalesce(co.name, '-'), coalesce(p.street, '-'), coalesce(p.city, '-'), \
            coalesce((select string_agg(t.name, '|' order by t.name) from contact_tags ct \
                      join tags t on t.org_id = ct.org_id and t.id = ct.tag_id \
                      where ct.org_id = p.org_id and ct.contact_id = p.id), '-'), \
            coalesce((select a.body from activities a where a.org_id = p.org_id \
                      and a.contact_id = p.id and a.kind = 'note'), '-')) \
         from contacts p left join companies co on co.org_id = p.org_id and co.id = p.company_id \
         where p.org_id = $1",
    )
    .bind(scope.org())
    .fetch_one(&mut c)
    .await
    .unwrap()
}

/// Issue 16, "done when": each tool's contact export moves in with `import contacts` and
/// nothing else, every row arriving with its e-mails, phones, company, address, tags and
/// notes (as far as the tool's export has them: HubSpot, Salesforce, Twenty, EspoCRM and
/// Lexware exports carry no tags; Twenty's people name their company by its id only).
#[tokio::test]
async fn every_contact_format_arrives_whole() {
    let db = TestDb::new().await;
    let cases: &[(&str, Format, &str, &str)] = &[
        (
            "outlook",
            Format::Outlook,
            "\"First Name\",\"Last Name\",\"Company\",\"Business Street\",\"Business City\",\"Business Postal Code\",\"Business Country/Region\",\"Business Phone\",\"Mobile Phone\",\"Birthday\",\"E-mail Address\",\"E-mail Type\",\"E-mail Display Name\",\"E-mail 2 Address\",\"Categories\",\"Notes\"\r\n\
\"Anna\",\"Albers\",\"Beispiel GmbH\",\"Hauptstraße 1\",\"Berlin\",\"10115\",\"Germany\",\"030 1234567\",\"0171 1234567\",\"0/0/00\",\"anna@beispiel.de\",\"SMTP\",\"Anna Albers (anna@beispiel.de)\",\"anna@privat.example\",\"Kunden;VIP\",\"Erster Kontakt.\nZweite Zeile.\"\r\n",
            "anna@beispiel.de anna@privat.example / office mobile / Beispiel GmbH / Hauptstraße 1 / Berlin / Kunden|VIP / Erster Kontakt.\nZweite Zeile.",
        ),
        (
            "google",
            Format::Google,
            "\u{feff}First Name,Last Name,Organization Name,Notes,Labels,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value,Address 1 - Label,Address 1 - Street,Address 1 - City,Address 1 - Postal Code,Address 1 - Country\n\
Anna,Albers,Beispiel GmbH,Erster Kontakt.,* myContacts ::: Kunden ::: VIP,* Work ::: Home,anna@beispiel.de ::: anna@privat.example,Work,030 1234567,Mobile,0171 1234567,Work,Hauptstraße 1,Berlin,10115,Germany\n",
            "anna@beispiel.de anna@privat.example / office mobile / Beispiel GmbH / Hauptstraße 1 / Berlin / Kunden|VIP / Erster Kontakt.",
        ),
        (
            "vcard",
            Format::Vcard,
            "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Albers;Anna;;;\r\nFN:Anna Albers\r\nORG:Beispiel GmbH\r\nEMAIL;TYPE=INTERNET,WORK:anna@beispiel.de\r\nEMAIL;TYPE=INTERNET,HOME:anna@privat.example\r\nTEL;TYPE=WORK,VOICE:030 1234567\r\nTEL;TYPE=CELL:0171 1234567\r\nADR;TYPE=WORK:;;Hauptstraße 1;Berlin;;10115;Germany\r\nNOTE:Erster Kontakt.\r\nCATEGORIES:Kunden,VIP\r\nEND:VCARD\r\n",
            "anna@beispiel.de anna@privat.example / office mobile / Beispiel GmbH / Hauptstraße 1 / Berlin / Kunden|VIP / Erster Kontakt.",
        ),
        (
            "hubspot",
            Format::Hubspot,
            "Record ID,First Name,Last Name,Additional email addresses,City,Company Name,Country/Region,Email,Mobile Phone Number,Notes,Phone Number,Postal Code,Street Address\n\
51,Anna,Albers,anna@privat.example,Berlin,Beispiel GmbH,Germany,anna@beispiel.de,0171 1234567,Erster Kontakt.,030 1234567,10115,Hauptstraße 1\n",
            "anna@beispiel.de anna@privat.example / office mobile / Beispiel GmbH / Hauptstraße 1 / Berlin / - / Erster Kontakt.",
        ),
        (
            "salesforce",
            Format::Salesforce,
            "Id,AccountId,FirstName,LastName,Email,Phone,MobilePhone,MailingStreet,MailingPostalCode,MailingCity,MailingCountry,Description,Account.Name\n\
0035g00000AbCdE,0015g00000XyZ,Anna,Albers,anna@beispiel.de,030 1234567,0171 1234567,Hauptstraße 1,10115,Berlin,Germany,Erster Kontakt.,Beispiel GmbH\n",
            "anna@beispiel.de / office mobile / Beispiel GmbH / Hauptstraße 1 / Berlin / - / Erster Kontakt.",
        ),
        (
            "pipedrive",
            Format::Pipedrive,
            "Person - ID,Person - Name,Person - Organization,Person - Email - Work,Person - Email - Home,Person - Phone - Work,Person - Phone - Mobile,Person - Labels,Person - Notes,Person - Street/road name of Postal address,Person - House number of Postal address,Person - City/town/village/locality of Postal address,Person - ZIP/Postal code of Postal address,Person - Country of Postal address\n\
17,Anna Albers,Beispiel GmbH,anna@beispiel.de,anna@privat.example,030 1234567,0171 1234567,\"Kunden, VIP\",Erster Kontakt.,Hauptstraße,1,Berlin,10115,Germany\n",
            "anna@beispiel.de anna@privat.example / office mobile / Beispiel GmbH / Hauptstraße 1 / Berlin / Kunden|VIP / Erster Kontakt.",
        ),
        (
            "twenty",
            Format::Twenty,
            "\u{feff}Id,Name / First Name,Name / Last Name,Emails / Primary Email,Emails / Additional Emails,Phones / Primary Phone Number,Phones / Primary Phone Calling Code,Phones / Additional Phones,Address / Address Street1,Address / Address City,Address / Address Postcode,Address / Address Country,Company Id\n\
9b3c1f0e-0000-4000-8000-000000000001,Anna,Albers,anna@beispiel.de,\"[\"\"anna@privat.example\"\"]\",301234567,+49,\"[{\"\"number\"\":\"\"1711234567\"\",\"\"callingCode\"\":\"\"+49\"\"}]\",Hauptstraße 1,Berlin,10115,Germany,9b3c1f0e-0000-4000-8000-0000000000c1\n",
            "anna@beispiel.de anna@privat.example / office other / Beispiel GmbH / Hauptstraße 1 / Berlin / - / -",
        ),
        (
            "espocrm",
            Format::Espocrm,
            "id,firstName,lastName,accountName,emailAddress,phoneNumber,addressStreet,addressCity,addressPostalCode,addressCountry,description,emailAddressData,phoneNumberData\n\
64f0a1b2c3d4e5f60,Anna,Albers,Beispiel GmbH,anna@beispiel.de,'+49 30 1234567,Hauptstraße 1,Berlin,10115,Germany,Erster Kontakt.,\"[{\"\"emailAddress\"\":\"\"anna@beispiel.de\"\"},{\"\"emailAddress\"\":\"\"anna@privat.example\"\"}]\",\"[{\"\"phoneNumber\"\":\"\"+49 171 1234567\"\",\"\"type\"\":\"\"Mobile\"\"}]\"\n",
            "anna@beispiel.de anna@privat.example / office other / Beispiel GmbH / Hauptstraße 1 / Berlin / - / Erster Kontakt.",
        ),
        (
            "lexware",
            Format::Lexware,
            "Kundennummer;Lieferantennummer;Firmenname;Anrede;Vorname;Nachname;Straße;PLZ;Ort;Land;E-Mail;Telefon;Mobil;Notiz\r\n\
10001;;Beispiel GmbH;Frau;Anna;Albers;Hauptstraße 1;10115;Berlin;Deutschland;anna@beispiel.de;030 1234567;0171 1234567;Erster Kontakt.\r\n",
            "anna@beispiel.de / office mobile / Beispiel GmbH / Hauptstraße 1 / Berlin / - / Erster Kontakt.",
        ),
        (
            "generic",
            Format::Generic,
            "Vorname;Nachname;E-Mail;E-Mail 2;Telefon;Mobil;Firma;Straße;PLZ;Ort;Tags;Notizen\n\
Anna;Albers;anna@beispiel.de;anna@privat.example;030 1234567;0171 1234567;Beispiel GmbH;Hauptstraße 1;10115;Berlin;Kunden|VIP;Erster Kontakt.\n",
            "anna@beispiel.de anna@privat.example / office mobile / Beispiel GmbH / Hauptstraße 1 / Berlin / Kunden|VIP / Erster Kontakt.",
        ),
    ];
    for (name, format, text, want) in cases {
        let (org, owner) = db.org(&format!("Von {name}")).await;
        let scope = db.crm.scope(org, owner);
        if *format == Format::Twenty {
            // Twenty's people name their company by its id: the companies come first.
            let s = companies(
                &scope,
                &fixture("twenty-companies.csv"),
                ImportOptions::default(),
            )
            .await;
            assert_eq!(s.created, 2, "{s:?}");
        }
        let s = contacts(&scope, text.as_bytes()).await;
        assert_eq!(s.format, Some(*format), "{name}");
        assert_eq!((s.created, s.failed), (1, 0), "{name}: {s:?}");
        assert_eq!(&arrived(&db, &scope).await, want, "{name}");
    }
}

#[tokio::test]
async fn company_errors_name_the_physical_line_in_crlf_files() {
    let db = TestDb::new().await;
    let scope = setup(&db).await;
    let text = "\"Account Name\",\"Account ID\",\"Billing City\",\"Billing Country\",\"Description\",\"Employees\"\r\n\
\"Beispiel GmbH\",\"001A\",\"Berlin\",\"DE\",\"Zwei\nZeilen\",\"10\"\r\n\
\"Muster AG\",\"001B\",\"Zürich\",\"CH\",\"\",\"viele\"\r\n";
    let s = companies(&scope, text.as_bytes(), ImportOptions::default()).await;
    assert_eq!(s.format, Some(Format::Salesforce));
    assert_eq!((s.created, s.failed), (1, 1), "{s:?}");
    assert_eq!(
        (s.errors[0].line, s.errors[0].field.as_str()),
        (4, "employees")
    );
}
