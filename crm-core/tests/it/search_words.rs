//! Search by words (issue 19): a typo of a name is found through the tenant's dictionary of
//! words, the dictionary follows renames and erasures, and the application role cannot
//! read it.

use crm_core::gdpr;
use crm_core::store::contact::{self, ContactPatch, NewContact};
use crm_core::testing::TestDb;
use crm_core::{OrgId, Scope};
use serde_json::json;

async fn dictionary_has(db: &TestDb, org: OrgId, word: &str) -> bool {
    let mut owner = db.owner().await;
    sqlx::query_scalar(
        "select exists (select 1 from crm_private.search_words where org_id = $1 and word = $2)",
    )
    .bind(org)
    .bind(word)
    .fetch_one(&mut owner)
    .await
    .unwrap()
}

async fn names(scope: &Scope, q: &str) -> Vec<String> {
    scope
        .run(async |tx| crm_core::search::search(tx, q, 20).await)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.name)
        .collect()
}

async fn add(scope: &Scope, first: &str, last: &str, email: &str) -> contact::Contact {
    let new: NewContact = serde_json::from_value(json!({
        "first_name": first, "last_name": last, "email": email,
    }))
    .unwrap();
    scope
        .run(async |tx| contact::create(tx, new).await)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_typo_finds_the_name_and_a_rename_updates_the_dictionary() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Wort GmbH").await;
    let scope = db.crm.scope(org, owner);
    let c = add(&scope, "Quirin", "Zwackelmann-Öztürk", "qz@wort.example").await;
    add(&scope, "Anna", "Zwackel", "az@wort.example").await;
    assert!(dictionary_has(&db, org, "zwackelmann").await);
    assert!(dictionary_has(&db, org, "oeztuerk").await);
    for q in [
        "Zwackelman",
        "ZWACKELMANN",
        "zwackelmann-oeztürk",
        "Öztürk Quirin",
    ] {
        let found = names(&scope, q).await;
        assert_eq!(
            found.first().map(String::as_str),
            Some("Quirin Zwackelmann-Öztürk"),
            "query {q:?}: {found:?}"
        );
    }
    // Renamed: the old word leaves the dictionary (nobody else holds it), the new one is
    // searchable at once.
    let patch: ContactPatch =
        serde_json::from_value(json!({"version": c.version, "last_name": "Wackerbarth"})).unwrap();
    scope
        .run(async |tx| contact::update(tx, c.id, patch).await)
        .await
        .unwrap();
    assert!(!dictionary_has(&db, org, "zwackelmann").await);
    assert!(!dictionary_has(&db, org, "oeztuerk").await);
    assert!(dictionary_has(&db, org, "zwackel").await, "Anna keeps hers");
    assert_eq!(names(&scope, "Wackerbart").await, ["Quirin Wackerbarth"]);
    assert!(
        !names(&scope, "Zwackelmann")
            .await
            .iter()
            .any(|n| n == "Quirin Wackerbarth")
    );
}

#[tokio::test]
async fn an_erased_persons_name_does_not_stay_in_the_dictionary() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Lösch AG").await;
    let scope = db.crm.scope(org, owner);
    add(
        &scope,
        "Xaver",
        "Quappendorf",
        "xaver.quappendorf@privat.example",
    )
    .await;
    assert!(dictionary_has(&db, org, "quappendorf").await);
    scope
        .run(async |tx| gdpr::erase(tx, "xaver.quappendorf@privat.example", false).await)
        .await
        .unwrap();
    assert!(!dictionary_has(&db, org, "quappendorf").await);
    assert!(!dictionary_has(&db, org, "xaver").await);
    assert!(names(&scope, "Quappendorf").await.is_empty());
}

#[tokio::test]
async fn the_dictionary_is_not_readable_by_the_application() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Geheim GmbH").await;
    let scope = db.crm.scope(org, owner);
    add(&scope, "Berta", "Vielfraß", "bv@geheim.example").await;
    let err = scope
        .run(async |tx| {
            sqlx::query_scalar::<_, i64>("select count(*) from crm_private.search_words")
                .fetch_one(tx.conn())
                .await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, crm_core::Error::PermissionDenied(_)), "{err}");
}

/// The word indexes hold `crm_search_name_words` (migration 20261206010000); search's terms
/// come from the dictionary. Both must keep the same words: those of `crm_search_words`
/// without `@`, `.` or a digit, in the same order, for any search text.
#[tokio::test]
async fn the_indexed_name_words_are_the_search_words_the_dictionary_keeps() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    let texts = [
        "oezlem moser o.moser@doerr-rehberg.com +436801573233",
        "hans-peter mueller-luedenscheidt h.p@example.de 030 1234",
        "  leading and  double  spaces ",
        "o'brien d'arcy 2nd floor 3.5 a1b b@ .",
        "jean-luc -- - x-1 -y z.",
        "",
        "@ . 0 9 @@ .. -@- a.b-c d",
        "straße ärger éclair ñandú",
    ];
    for text in texts {
        let (name_words, kept): (Vec<String>, Vec<String>) = sqlx::query_as(
            "select crm_search_name_words($1), \
                    array(select w from unnest(crm_search_words($1)) with ordinality u(w, i) \
                          where w !~ '[@.0-9]' order by i)",
        )
        .bind(text)
        .fetch_one(&mut owner)
        .await
        .unwrap();
        assert_eq!(name_words, kept, "{text:?}");
    }
    // And over the search texts of real rows: the demo-like names of a seeded tenant.
    let (org, user) = db.org("Wortgleich GmbH").await;
    let scope = db.crm.scope(org, user);
    add(
        &scope,
        "Jörg-Åke",
        "O'Neill",
        "j.a.oneill+crm@sub.example.co.uk",
    )
    .await;
    add(&scope, "Anna", "Müller 2", "anna@m-ueller.de").await;
    let differing: i64 = sqlx::query_scalar(
        "select count(*) from contacts where org_id = $1 and crm_search_name_words(search_text) \
         is distinct from array(select w from unnest(crm_search_words(search_text)) \
                                with ordinality u(w, i) where w !~ '[@.0-9]' order by i)",
    )
    .bind(org)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!(differing, 0);
}

/// Whether the dictionary of `org` is exactly the set of words its contacts and companies
/// hold (recomputed from the rows), naming the step when not.
async fn assert_exact(db: &TestDb, org: OrgId, step: &str) {
    let mut owner = db.owner().await;
    let (kept, held): (Vec<String>, Vec<String>) = sqlx::query_as(
        "select array(select word from crm_private.search_words where org_id = $1 order by 1), \
                array(select distinct w \
                      from (select search_text from contacts where org_id = $1 \
                            union all select search_text from companies where org_id = $1) r, \
                           unnest(crm_search_words(r.search_text)) w \
                      where w !~ '[@.0-9]' order by 1)",
    )
    .bind(org)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert!(!held.is_empty(), "{step}: no words at all");
    assert_eq!(
        kept, held,
        "{step}: the dictionary differs from the rows' words"
    );
}

async fn add_company(scope: &Scope, body: serde_json::Value) -> crm_core::store::company::Company {
    let new: crm_core::store::company::NewCompany = serde_json::from_value(body).unwrap();
    scope
        .run(async |tx| crm_core::store::company::create(tx, new).await)
        .await
        .unwrap()
}

// Issue 20: the library keeps the dictionary itself (Citus runs no statement-level
// triggers); every write path that inserts, changes or hard-deletes records keeps it exact.
#[tokio::test]
async fn the_dictionary_stays_exact_across_create_update_import_merge_erase_and_purge() {
    use crm_core::dedupe::{self, Kind, MergeRequest};
    use crm_core::import::contacts::import_contacts;
    use crm_core::import::{ImportOptions, OnDuplicate};
    use crm_core::store::company::{self, CompanyPatch};

    let db = TestDb::new().await;
    let (org, owner) = db.org("Genau GmbH").await;
    let scope = db.crm.scope(org, owner);

    // Create: contacts and companies; an e-mail's hyphenated local part and a company's
    // city are words too.
    let firm = add_company(
        &scope,
        json!({"name": "Quendolin Pfisterer Consulting", "billing_city": "Bad Tölz",
               "email": "kontakt-zentrale@pfisterer.example"}),
    )
    .await;
    let holder = add_company(
        &scope,
        json!({"name": "Halterwerk Nordost", "email": "ottilie-mara.brennecke@privat.example"}),
    )
    .await;
    let quendolin: NewContact = serde_json::from_value(json!({
        "first_name": "Quendolin", "last_name": "Pfisterer",
        "email": "ottilie-mara.brennecke@privat.example", "company_id": firm.id,
    }))
    .unwrap();
    scope
        .run(async |tx| contact::create(tx, quendolin).await)
        .await
        .unwrap();
    let renamed = add(&scope, "Wendelin", "Strubbelkopf", "ws@genau.example").await;
    assert_exact(&db, org, "create").await;
    assert!(dictionary_has(&db, org, "ottilie").await);

    // Update: a contact's and a company's name.
    let patch: ContactPatch = serde_json::from_value(
        json!({"version": renamed.version, "last_name": "Glattkamm", "email": "w-g@genau.example"}),
    )
    .unwrap();
    scope
        .run(async |tx| contact::update(tx, renamed.id, patch).await)
        .await
        .unwrap();
    let patch: CompanyPatch =
        serde_json::from_value(json!({"version": holder.version, "name": "Halterwerk Südwest"}))
            .unwrap();
    scope
        .run(async |tx| company::update(tx, holder.id, patch).await)
        .await
        .unwrap();
    assert!(!dictionary_has(&db, org, "strubbelkopf").await);
    assert!(!dictionary_has(&db, org, "nordost").await);
    assert_exact(&db, org, "update").await;

    // Import: new contacts and a new company, then the same file with other names, as an
    // update of the contacts it matches.
    let file = "first_name,last_name,email,company\n\
                Ignaz,Wurzelsepp,ignaz@import.example,Krautacker Handel\n\
                Jolanda,Beerenstrauch,jolanda@import.example,Krautacker Handel\n\
                Korbinian,Wurzelsepp,korbinian@import.example,\n";
    let opts = ImportOptions::default();
    let s = import_contacts(&scope, file.as_bytes(), &opts, None, |_| {})
        .await
        .unwrap();
    assert_eq!((s.created, s.failed), (3, 0), "{s:?}");
    assert_exact(&db, org, "import").await;
    let file = "first_name,last_name,email\n\
                Ignaz,Moosbichler,ignaz@import.example\n\
                Jolanda,Moosbichler,jolanda@import.example\n";
    let opts = ImportOptions {
        on_duplicate: OnDuplicate::Update,
        ..Default::default()
    };
    let s = import_contacts(&scope, file.as_bytes(), &opts, None, |_| {})
        .await
        .unwrap();
    assert_eq!(s.updated, 2, "{s:?}");
    assert!(
        dictionary_has(&db, org, "wurzelsepp").await,
        "Korbinian keeps it"
    );
    assert!(!dictionary_has(&db, org, "beerenstrauch").await);
    assert_exact(&db, org, "import with updates").await;

    // Merge two contacts and two companies; undo the contacts' merge.
    let a = add(&scope, "Liborius", "Zwirbelbart", "lz1@genau.example").await;
    let b = add(&scope, "Liborio", "Zwirbelbart", "lz2@genau.example").await;
    let merged = scope
        .run(async |tx| {
            dedupe::merge(
                tx,
                Kind::Contact,
                &MergeRequest {
                    ids: vec![a.id.uuid(), b.id.uuid()],
                    ..MergeRequest::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    assert_exact(&db, org, "contact merge").await;
    let c1 = add_company(
        &scope,
        json!({"name": "Fackelmann Leuchten", "email": "licht-haus@f.example"}),
    )
    .await;
    let c2 = add_company(&scope, json!({"name": "Fackelmann Leuchten GmbH"})).await;
    scope
        .run(async |tx| {
            dedupe::merge(
                tx,
                Kind::Company,
                &MergeRequest {
                    ids: vec![c2.id.uuid(), c1.id.uuid()],
                    ..MergeRequest::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    assert_exact(&db, org, "company merge").await;
    scope
        .run(async |tx| dedupe::unmerge(tx, Kind::Contact, merged.merge_id.unwrap()).await)
        .await
        .unwrap();
    assert_exact(&db, org, "unmerge").await;

    // Erase: the person's records go, their name leaves their company's name, their
    // address leaves the company holding it.
    scope
        .run(async |tx| gdpr::erase(tx, "ottilie-mara.brennecke@privat.example", false).await)
        .await
        .unwrap();
    for gone in ["quendolin", "pfisterer", "ottilie"] {
        assert!(!dictionary_has(&db, org, gone).await, "{gone} stayed");
    }
    assert!(dictionary_has(&db, org, "consulting").await);
    assert_exact(&db, org, "erase").await;

    // Retention purge of records soft-deleted long ago.
    scope
        .run(async |tx| contact::delete(tx, a.id, None).await)
        .await
        .unwrap();
    scope
        .run(async |tx| company::delete(tx, firm.id, None).await)
        .await
        .unwrap();
    assert_exact(&db, org, "soft delete").await;
    let mut o = db.owner().await;
    sqlx::query(
        "update contacts set deleted_at = now() - interval '20 years' where org_id = $1 and deleted_at is not null",
    )
    .bind(org)
    .execute(&mut o)
    .await
    .unwrap();
    sqlx::query(
        "update companies set deleted_at = now() - interval '20 years' where org_id = $1 and deleted_at is not null",
    )
    .bind(org)
    .execute(&mut o)
    .await
    .unwrap();
    let purged = scope
        .run(async |tx| gdpr::retention(tx, None, false).await)
        .await
        .unwrap();
    assert!(purged.contacts >= 1 && purged.companies >= 1, "{purged:?}");
    assert!(!dictionary_has(&db, org, "liborius").await);
    assert_exact(&db, org, "retention purge").await;
}

/// Addresses and numbers (issue 19): contacts have no trigram index, so an e-mail address,
/// a domain and a phone number are matched through btrees, by their start, on every address
/// and number of the contact, and never in another organization.
#[tokio::test]
async fn addresses_and_numbers_are_found_by_their_start() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Adresse GmbH").await;
    let scope = db.crm.scope(org, owner);
    let new: NewContact = serde_json::from_value(json!({
        "first_name": "Henrike", "last_name": "Quast",
        "email": "h.quast@quast-werke.example",
        "emails": [{"email": "henrike.privat@mailbox.example", "kind": "personal"}],
        "phone": "030 1234567",
        "phones": [{"number": "+41 44 668 18 00", "kind": "mobile"}],
    }))
    .unwrap();
    scope
        .run(async |tx| contact::create(tx, new).await)
        .await
        .unwrap();
    add(&scope, "Bruno", "Quast", "bruno@anderswo.example").await;
    for q in [
        "h.quast@quast-werke.example",
        "H.Quast@",
        "h.qu",
        "henrike.privat",
        "quast-werke.example",
        "@quast-werke.example",
        "030 1234567",
        "030 123",
        "+49 30 1234",
        "0049 30 1234567",
        "30 1234567",
        "+41 44 668",
        "0041446681800",
    ] {
        let found = names(&scope, q).await;
        assert_eq!(found, ["Henrike Quast"], "query {q:?}");
    }
    // Neither a fragment from the middle nor another organization's contact.
    for q in ["1234567", "quast@quast", "mailbox.exampl"] {
        let found = names(&scope, q).await;
        assert!(
            !found.iter().any(|n| n == "Henrike Quast"),
            "query {q:?}: {found:?}"
        );
    }
    let (other_org, other_owner) = db.org("Fremd GmbH").await;
    let other = db.crm.scope(other_org, other_owner);
    for q in ["h.quast@", "quast-werke.example", "030 1234567"] {
        assert!(names(&other, q).await.is_empty(), "query {q:?}");
    }
}

#[tokio::test]
async fn a_word_known_only_loosely_is_looked_up_once_more() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Locker GmbH").await;
    let scope = db.crm.scope(org, owner);
    add(&scope, "Jürgen", "Müller", "jm@locker.example").await;
    add(&scope, "Petra", "Schulz", "ps@locker.example").await;
    // `muler` is alike to `mueller` at 0.4 (word similarity), below the first look's 0.5.
    for q in ["Muler", "Jurgen Muler"] {
        assert_eq!(names(&scope, q).await, ["Jürgen Müller"], "query {q:?}");
    }
    // Nothing alike even at 0.3: nothing found.
    assert!(names(&scope, "Xaver").await.is_empty());
}

#[tokio::test]
async fn every_hit_asked_for_is_returned_however_many_bear_the_word() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Viele GmbH").await;
    let scope = db.crm.scope(org, owner);
    scope
        .run(async |tx| {
            for i in 0..90 {
                let new: NewContact = serde_json::from_value(json!({
                    "first_name": format!("Vorname{i}"), "last_name": "Huber",
                    "email": format!("h{i}@viele.example"),
                }))
                .unwrap();
                contact::create(tx, new).await?;
            }
            Ok(())
        })
        .await
        .unwrap();
    for (limit, expect) in [(5, 5), (20, 20), (60, 60), (200, 90)] {
        let hits = scope
            .run(async |tx| crm_core::search::search(tx, "Huber", limit).await)
            .await
            .unwrap();
        assert_eq!(hits.len(), expect, "limit {limit}");
        assert!(hits.iter().all(|h| h.name.ends_with(" Huber")));
    }
    // A typo of the word as well.
    let hits = scope
        .run(async |tx| crm_core::search::search(tx, "Hubber", 60).await)
        .await
        .unwrap();
    assert_eq!(hits.len(), 60);
}

/// The dictionary takes a contact's words from its parts (migration 20261208030000): names,
/// the pieces of a hyphenated domain or local part, an e-mail that is not plain ASCII, a
/// number kept as written. Whatever the shape, it holds exactly the words of the rows.
#[tokio::test]
async fn the_dictionary_takes_the_words_of_every_part_of_a_contact() {
    use crm_core::import::ImportOptions;
    use crm_core::import::contacts::import_contacts;

    let db = TestDb::new().await;
    let (org, owner) = db.org("Teile GmbH").await;
    let scope = db.crm.scope(org, owner);
    let file = "first_name,last_name,email,phone\n\
                Ämilie,Groß-Schädel,a.b@nord-ost-handel.example,+4930123456\n\
                Bertram,Ohnestrich,bertram@ohne.example,\n\
                Cäcilia,Zierleiste,anna-lena.sommer@süd-west.example,\n\
                Dorian,Querbalken,DQ@Großhandel-Mitte.example,+99 / 123 456\n\
                Eleni,Σοφία,e@lead-mid-dash.example,\n";
    let s = import_contacts(
        &scope,
        file.as_bytes(),
        &ImportOptions::default(),
        None,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!((s.created, s.failed), (5, 0), "{s:?}");
    // Pieces between hyphens are words; the one holding the `@` and the last (with the
    // top-level domain's dot) are not.
    for word in ["ost", "anna", "mid", "σοφια", "/"] {
        assert!(dictionary_has(&db, org, word).await, "{word}");
    }
    for piece in ["nord", "handel", "lead", "mitte"] {
        assert!(!dictionary_has(&db, org, piece).await, "{piece}");
    }
    assert_exact(&db, org, "parts").await;
    add(&scope, "Fritz", "Ohne", "fritz-franz@x-y.example").await;
    assert_exact(&db, org, "created").await;
}

/// `crm_fold` takes shortcuts for plain text (ASCII is only lower-cased; whitespace runs are
/// rewritten only when one is not a single space): the result is still that of the full
/// expression — and of its Rust twin — for whitespace of every kind, control characters,
/// German and other accented letters. The ASCII shortcut holds because the server's
/// `unaccent` rules have no ASCII source.
#[tokio::test]
async fn folding_takes_shortcuts_only_where_the_full_expression_changes_nothing() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    let ascii: String = (1u8..=127).map(char::from).collect();
    let unchanged: bool =
        sqlx::query_scalar("select unaccent('public.unaccent'::regdictionary, $1) = $1")
            .bind(&ascii)
            .fetch_one(&mut owner)
            .await
            .unwrap();
    assert!(unchanged, "unaccent changed an ASCII character");
    let inputs = [
        ascii.as_str(),
        "Anna Muster a.muster@example.com +4930123456",
        "Anna  Muster",
        "Anna\tMuster",
        "Anna\r\nMuster",
        " Anna ",
        "  ",
        "",
        "Anna\u{1}Muster",
        "Anna\u{a0}Muster",
        "Anna\u{2003}Muster",
        "Anna \u{3000}Muster",
        "Anna\u{202f}Muster",
        "MÜLLER Straße",
        "Müller  Groß\tGmbH",
        "Zoë Ørsted-Łukasz Ça",
        "İstanbul ǅemal",
        "Σοφία ΟΔΥΣΣΈΑΣ",
    ];
    for input in inputs {
        let (folded, full): (String, String) = sqlx::query_as(
            "select crm_fold($1), regexp_replace(unaccent('public.unaccent'::regdictionary, \
                 replace(replace(replace(replace(lower($1), 'ä', 'ae'), 'ö', 'oe'), 'ü', 'ue'), \
                 'ß', 'ss')), '\\s+', ' ', 'g')",
        )
        .bind(input)
        .fetch_one(&mut owner)
        .await
        .unwrap();
        assert_eq!(folded, full, "{input:?}");
        assert_eq!(
            folded,
            crm_core::domain::fold_for_search(input),
            "{input:?}"
        );
    }
}
