//! Schema rules read from the catalog: keys and foreign keys of every tenant table include
//! org_id (what Citus needs to distribute by tenant, and what stops cross-tenant links).

use crm_core::testing::TestDb;

#[tokio::test]
async fn keys_unique_constraints_and_foreign_keys_of_tenant_tables_include_org_id() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    let bad: Vec<(String, String, String)> = sqlx::query_as(
        "select c.conrelid::regclass::text, c.conname::text, c.contype::text \
         from pg_constraint c \
         join pg_class t on t.oid = c.conrelid \
         join pg_namespace n on n.oid = t.relnamespace \
         where n.nspname = 'public' and c.contype in ('p', 'u', 'f') \
           and exists (select 1 from pg_attribute a where a.attrelid = t.oid and a.attname = 'org_id') \
           and not exists (select 1 from pg_attribute a where a.attrelid = t.oid and a.attname = 'org_id' \
                           and a.attnum = any(c.conkey)) \
           and not (c.contype = 'f' and c.confrelid = 'organizations'::regclass) \
         order by 1, 2",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    assert!(bad.is_empty(), "constraints without org_id: {bad:?}");
    // Unique indexes too (partial unique indexes are not constraints).
    let bad_idx: Vec<String> = sqlx::query_scalar(
        "select i.indexrelid::regclass::text from pg_index i \
         join pg_class t on t.oid = i.indrelid join pg_namespace n on n.oid = t.relnamespace \
         join pg_attribute a on a.attrelid = t.oid and a.attname = 'org_id' \
         where n.nspname = 'public' and i.indisunique and not (a.attnum = any(i.indkey::int2[])) \
         order by 1",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    assert!(
        bad_idx.is_empty(),
        "unique indexes without org_id: {bad_idx:?}"
    );
    // Foreign keys into another tenant table must match on org_id too.
    let fk_bad: Vec<String> = sqlx::query_scalar(
        "select c.conname::text from pg_constraint c \
         join pg_attribute ra on ra.attrelid = c.confrelid and ra.attname = 'org_id' \
         join pg_attribute la on la.attrelid = c.conrelid and la.attname = 'org_id' \
         where c.contype = 'f' and c.confrelid <> 'organizations'::regclass \
           and not exists (select 1 from unnest(c.conkey, c.confkey) k(l, r) \
                           where k.l = la.attnum and k.r = ra.attnum)",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    assert!(
        fk_bad.is_empty(),
        "foreign keys not matching on org_id: {fk_bad:?}"
    );
}

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_are_idempotent() {
    let db = TestDb::new().await;
    db.crm.migrate().await.unwrap();
    let status = db.crm.migration_status().await.unwrap();
    assert!(!status.is_empty());
    assert!(status.iter().all(|m| m.applied_at.is_some()));
}

/// The keys of a contact's e-mail and phone rows (migration 20261209020000) still refuse what
/// the constraints they replaced refused: the same address twice on one contact, a second
/// primary address or number. The same address on two contacts and two numbers with the
/// same digits on one contact stay allowed, as before.
#[tokio::test]
async fn a_contacts_channel_rows_keep_their_uniqueness_under_the_new_keys() {
    use crm_core::store::contact::{self, NewContact};

    let db = TestDb::new().await;
    let (org, owner) = db.org("Kanal GmbH").await;
    let scope = db.crm.scope(org, owner);
    let mut ids = Vec::new();
    for email in ["a@kanal.example", "b@kanal.example"] {
        let new: NewContact = serde_json::from_value(serde_json::json!({
            "first_name": "Ada", "last_name": "Kanal", "email": email, "phone": "+4930123456",
        }))
        .unwrap();
        let c = scope
            .run(async |tx| contact::create(tx, new).await)
            .await
            .unwrap();
        ids.push(c.id.uuid());
    }
    let mut conn = db.owner().await;
    let mut email = async |contact: uuid::Uuid, address: &str, primary: bool| {
        sqlx::query(
            "insert into contact_emails (org_id, id, contact_id, email, email_norm, is_primary) \
             values ($1, gen_random_uuid(), $2, $3, $3, $4)",
        )
        .bind(org)
        .bind(contact)
        .bind(address)
        .bind(primary)
        .execute(&mut conn)
        .await
        .map(|_| ())
    };
    let code = |r: Result<(), sqlx::Error>| match r {
        Err(sqlx::Error::Database(e)) => e.code().map(|c| c.to_string()),
        _ => None,
    };
    assert_eq!(
        code(email(ids[0], "a@kanal.example", false).await).as_deref(),
        Some("23505")
    );
    assert_eq!(
        code(email(ids[0], "c@kanal.example", true).await).as_deref(),
        Some("23505")
    );
    email(ids[0], "c@kanal.example", false).await.unwrap();
    email(ids[1], "a@kanal.example", false).await.unwrap();
    let mut phone = async |contact: uuid::Uuid, primary: bool| {
        sqlx::query(
            "insert into contact_phones (org_id, id, contact_id, number_e164, number_raw, is_primary) \
             values ($1, gen_random_uuid(), $2, '+4930123456', '030 123456', $3)",
        )
        .bind(org)
        .bind(contact)
        .bind(primary)
        .execute(&mut conn)
        .await
        .map(|_| ())
    };
    assert_eq!(code(phone(ids[0], true).await).as_deref(), Some("23505"));
    phone(ids[0], false).await.unwrap();
}

/// Every view reads with the reader's rights (`security_invoker`), so row security of the
/// tables beneath applies: the address lists show one tenant's contacts only.
#[tokio::test]
async fn views_read_under_the_readers_row_security() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    let definer: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace \
         where n.nspname = 'public' and c.relkind = 'v' \
           and not coalesce(c.reloptions @> array['security_invoker=true'], false) \
         order by 1",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    assert!(
        definer.is_empty(),
        "views reading with their owner's rights: {definer:?}"
    );

    let mut scopes = Vec::new();
    for (name, line) in [
        (
            "Erste GmbH",
            "Anna,Alpen,anna@erste.example,+493012345678\n",
        ),
        (
            "Zweite GmbH",
            "Bernd,Berg,bernd@zweite.example,+493087654321\n",
        ),
    ] {
        let (org, user) = db.org(name).await;
        let scope = db.crm.scope(org, user);
        let file = format!("first_name,last_name,email,phone\n{line}");
        crm_core::import::contacts::import_contacts(
            &scope,
            file.as_bytes(),
            &crm_core::import::ImportOptions::default(),
            None,
            |_| {},
        )
        .await
        .unwrap();
        scopes.push(scope);
    }
    for (scope, email) in scopes
        .iter()
        .zip(["anna@erste.example", "bernd@zweite.example"])
    {
        let (emails, phones): (Vec<String>, i64) = scope
            .run(async |tx| {
                let emails = sqlx::query_scalar("select email_norm from contact_email_list")
                    .fetch_all(tx.conn())
                    .await?;
                let phones = sqlx::query_scalar("select count(*) from contact_phone_list")
                    .fetch_one(tx.conn())
                    .await?;
                Ok((emails, phones))
            })
            .await
            .unwrap();
        assert_eq!((emails, phones), (vec![email.to_string()], 1));
    }
}

/// The indexes of a company's industry and account type hold only companies that have one
/// (migration 20261212010000); a lookup by value still reads them, planned for any value
/// (a generic plan, as a prepared statement and a foreign key's check are planned), and a
/// company without either adds no entry.
#[tokio::test]
async fn lookups_by_industry_and_account_type_read_the_indexes_of_set_values() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    sqlx::raw_sql(
        "set plan_cache_mode = force_generic_plan; set enable_seqscan = off; \
         set enable_bitmapscan = off",
    )
    .execute(&mut owner)
    .await
    .unwrap();
    for (column, index) in [
        ("industry_id", "companies_industry_set_idx"),
        ("account_type_id", "companies_account_type_set_idx"),
    ] {
        let name = format!("by_{column}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "prepare {name}(uuid, uuid) as \
             select count(*) from companies where org_id = $1 and {column} = $2"
        )))
        .execute(&mut owner)
        .await
        .unwrap();
        let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "explain execute {name}(gen_random_uuid(), gen_random_uuid())"
        )))
        .fetch_all(&mut owner)
        .await
        .unwrap();
        assert!(
            plan.iter().any(|l| l.contains(index)),
            "{column}: {plan:#?}"
        );
        let predicate: Option<String> = sqlx::query_scalar(
            "select pg_get_expr(indpred, indrelid) from pg_index where indexrelid = $1::regclass",
        )
        .bind(index)
        .fetch_one(&mut owner)
        .await
        .unwrap();
        assert_eq!(
            predicate.as_deref(),
            Some(&*format!("({column} IS NOT NULL)"))
        );
    }
}
