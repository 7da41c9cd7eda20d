//! Tenancy is enforced by the database: these tests read the catalog, so a table added by a
//! later migration is covered without being named here.

use crm_core::testing::TestDb;
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, Row as _};
use uuid::Uuid;

/// Every table in `public` with an `org_id` column.
async fn tenant_tables(db: &TestDb) -> Vec<String> {
    let mut owner = db.owner().await;
    sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace \
         join pg_attribute a on a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped \
         where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap()
}

/// Two organizations with data in as many tables as the seed and demo reach.
async fn two_orgs(db: &TestDb) -> (Uuid, Uuid) {
    let (a, a_owner) = db.org("Alpha GmbH").await;
    let (b, b_owner) = db.org("Beta AG").await;
    for (org, owner) in [(a, a_owner), (b, b_owner)] {
        crm_tools::demo::seed(&db.crm.scope(org, owner), 10)
            .await
            .unwrap();
    }
    (a.uuid(), b.uuid())
}

#[tokio::test]
async fn every_tenant_table_has_forced_row_level_security_and_one_tenant_policy() {
    let db = TestDb::new().await;
    let tables = tenant_tables(&db).await;
    assert!(
        tables.len() >= 30,
        "expected the whole schema, found {}",
        tables.len()
    );
    let mut owner = db.owner().await;
    for t in &tables {
        let row = sqlx::query(
            "select c.relrowsecurity, c.relforcerowsecurity, \
                    (select count(*) from pg_policy p where p.polrelid = c.oid) as policies, \
                    (select string_agg(pg_get_expr(p.polqual, p.polrelid), ' ') from pg_policy p where p.polrelid = c.oid) as qual \
             from pg_class c where c.oid = $1::regclass",
        )
        .bind(t)
        .fetch_one(&mut owner)
        .await
        .unwrap();
        assert!(row.get::<bool, _>(0), "{t}: row-level security not enabled");
        assert!(row.get::<bool, _>(1), "{t}: row-level security not forced");
        assert_eq!(row.get::<i64, _>(2), 1, "{t}: expected exactly one policy");
        let qual: String = row.get(3);
        assert!(
            qual.contains("crm.org_id"),
            "{t}: policy does not filter on crm.org_id: {qual}"
        );
    }
}

#[tokio::test]
async fn the_app_role_owns_nothing_and_cannot_bypass_row_level_security() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    let (bypass, superuser, inherit_owner): (bool, bool, i64) = sqlx::query_as(
        "select r.rolbypassrls, r.rolsuper, \
                (select count(*) from pg_class c where c.relowner = r.oid) \
         from pg_roles r where r.rolname = 'crm_app'",
    )
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert!(
        !bypass && !superuser,
        "crm_app must not bypass row-level security"
    );
    assert_eq!(inherit_owner, 0, "crm_app must own no relation");
    // And the pool really works as crm_app.
    let who: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(db.crm.pool())
        .await
        .unwrap();
    assert_eq!(who, "crm_app");
}

#[tokio::test]
async fn other_organizations_rows_are_invisible_and_unwritable() {
    let db = TestDb::new().await;
    let (a, b) = two_orgs(&db).await;
    let tables = tenant_tables(&db).await;
    let mut owner = db.owner().await;
    let mut populated = 0;
    for t in &tables {
        let in_b: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "select count(*) from {t} where org_id = $1"
        )))
        .bind(b)
        .fetch_one(&mut owner)
        .await
        .unwrap();
        if in_b == 0 {
            continue;
        }
        populated += 1;
        let mut conn = db.crm.pool().acquire().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("select set_config('crm.org_id', $1::text, true)")
            .bind(a)
            .execute(&mut *tx)
            .await
            .unwrap();
        // A query that forgets its filter sees only A's rows.
        let foreign: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "select count(*) from {t} where org_id <> $1"
        )))
        .bind(a)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        assert_eq!(foreign, 0, "{t}: another organization's rows are visible");
        if t != "audit_log" {
            let updated = tx
                .execute(AssertSqlSafe(format!(
                    "update {t} set org_id = org_id where org_id = '{b}'"
                )))
                .await;
            assert_eq!(
                updated.map(|r| r.rows_affected()).unwrap_or(0),
                0,
                "{t}: update touched another org"
            );
        }
        tx.rollback().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("select set_config('crm.org_id', $1::text, true)")
            .bind(a)
            .execute(&mut *tx)
            .await
            .unwrap();
        if t != "audit_log" {
            let deleted = tx
                .execute(AssertSqlSafe(format!(
                    "delete from {t} where org_id = '{b}'"
                )))
                .await;
            assert_eq!(
                deleted.map(|r| r.rows_affected()).unwrap_or(0),
                0,
                "{t}: delete touched another org"
            );
        }
        tx.rollback().await.unwrap();
    }
    assert!(
        populated >= 26,
        "only {populated} tables held data; the test proves too little"
    );
}

#[tokio::test]
async fn the_audit_log_refuses_update_and_delete_for_the_app_role() {
    let db = TestDb::new().await;
    let (a, _) = two_orgs(&db).await;
    for sql in ["update audit_log set action = 'x'", "delete from audit_log"] {
        let mut tx = db.crm.pool().begin().await.unwrap();
        sqlx::query("select set_config('crm.org_id', $1::text, true)")
            .bind(a)
            .execute(&mut *tx)
            .await
            .unwrap();
        let err = tx.execute(sql).await.expect_err(sql);
        let code = err
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.to_string());
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {err}");
    }
}

#[tokio::test]
async fn inserting_a_row_for_another_organization_fails_in_every_table() {
    let db = TestDb::new().await;
    let (a, b) = two_orgs(&db).await;
    let tables = tenant_tables(&db).await;
    let mut owner = db.owner().await;
    let mut tried = 0;
    for t in &tables {
        // Copy one of B's rows (all insertable columns) and try to insert it as crm_app in A.
        let cols: Vec<String> = sqlx::query_scalar(
            "select quote_ident(attname) from pg_attribute where attrelid = $1::regclass \
             and attnum > 0 and not attisdropped and attgenerated = '' order by attnum",
        )
        .bind(t)
        .fetch_all(&mut owner)
        .await
        .unwrap();
        let cols = cols.join(", ");
        let row: Option<serde_json::Value> = sqlx::query_scalar(AssertSqlSafe(format!(
            "select to_jsonb(x) from {t} x where org_id = $1 limit 1"
        )))
        .bind(b)
        .fetch_optional(&mut owner)
        .await
        .unwrap();
        let Some(row) = row else { continue };
        tried += 1;
        let mut tx = db.crm.pool().begin().await.unwrap();
        sqlx::query("select set_config('crm.org_id', $1::text, true)")
            .bind(a)
            .execute(&mut *tx)
            .await
            .unwrap();
        let sql = format!(
            "insert into {t} ({cols}) overriding system value \
             select {cols} from jsonb_populate_record(null::{t}, $1)"
        );
        let err = sqlx::query(AssertSqlSafe(sql))
            .bind(&row)
            .execute(&mut *tx)
            .await
            .expect_err(t);
        let code = err
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.to_string());
        assert_eq!(
            code.as_deref(),
            Some("42501"),
            "{t}: expected a row-level security refusal, got {err}"
        );
    }
    assert!(tried >= 26, "only {tried} tables tried");
}

#[tokio::test]
async fn with_no_organization_set_nothing_is_visible() {
    let db = TestDb::new().await;
    two_orgs(&db).await;
    for t in tenant_tables(&db).await {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("select count(*) from {t}")))
            .fetch_one(db.crm.pool())
            .await
            .unwrap();
        assert_eq!(n, 0, "{t}: rows visible without an organization");
    }
    // Search, which bypasses row-level security by design, also finds nothing.
    let hits: i64 = sqlx::query_scalar("select count(*) from crm_search('mueller', 10)")
        .fetch_one(db.crm.pool())
        .await
        .unwrap();
    assert_eq!(hits, 0);
}

#[tokio::test]
async fn a_row_cannot_reference_a_parent_of_another_organization() {
    let db = TestDb::new().await;
    let (a, b) = two_orgs(&db).await;
    let mut owner = db.owner().await;
    let b_company: Uuid = sqlx::query_scalar("select id from companies where org_id = $1 limit 1")
        .bind(b)
        .fetch_one(&mut owner)
        .await
        .unwrap();
    // Even the owner, who bypasses row-level security, cannot link across organizations:
    // the foreign key includes org_id.
    let err = sqlx::query(
        "insert into contacts (org_id, id, first_name, company_id) values ($1, $2, 'X', $3)",
    )
    .bind(a)
    .bind(Uuid::now_v7())
    .bind(b_company)
    .execute(&mut owner)
    .await
    .expect_err("cross-org reference");
    let code = err
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.to_string());
    assert_eq!(code.as_deref(), Some("23503"));
}

#[tokio::test]
async fn the_tenant_setting_does_not_leak_to_the_next_user_of_a_pooled_connection() {
    let db = TestDb::new().await;
    let (a, _) = two_orgs(&db).await;
    // One connection: set the tenant in a transaction, commit, then look again.
    let mut conn = db.crm.pool().acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("select set_config('crm.org_id', $1::text, true)")
        .bind(a)
        .execute(&mut *tx)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("select count(*) from contacts")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(n > 0);
    tx.commit().await.unwrap();
    let n: i64 = sqlx::query_scalar("select count(*) from contacts")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(n, 0, "the organization outlived its transaction");
}
