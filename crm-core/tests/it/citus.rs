//! What Citus rejects when it distributes the tenant tables by org_id, read from the catalog
//! (issue 20). Citus is not packaged here, so these rules stand in for a run on a
//! coordinator; docs/scaling.md lists them with the commands that distribute the schema.

use crm_core::testing::TestDb;
use sqlx::PgConnection;

/// Tables (any schema but the system's) with an `org_id` column: the ones Citus distributes.
const TENANT: &str = "select c.oid from pg_class c \
     join pg_namespace n on n.oid = c.relnamespace \
     join pg_attribute a on a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped \
     where c.relkind in ('r', 'p') \
       and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'";

async fn names(owner: &mut PgConnection, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.replace("{TENANT}", TENANT)))
        .fetch_all(owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn no_foreign_key_between_tenant_tables_sets_null_or_default() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    // Citus refuses SET NULL / SET DEFAULT (with or without a column list) on a key that
    // includes the distribution column (citus#7132).
    let bad = names(
        &mut owner,
        "select conrelid::regclass || '.' || conname from pg_constraint \
         where contype = 'f' and conrelid in ({TENANT}) \
           and (confdeltype in ('n', 'd') or confupdtype in ('n', 'd') \
                or confdelsetcols is not null) \
         order by 1",
    )
    .await;
    assert!(bad.is_empty(), "SET NULL / SET DEFAULT keys: {bad:?}");
}

#[tokio::test]
async fn tenant_tables_refer_only_to_tenant_tables_or_the_organizations() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    // Distributed tables may refer to colocated distributed tables (on org_id) and to
    // reference tables (organizations); a reference or local table may not refer to a
    // distributed one.
    let out = names(
        &mut owner,
        "select conrelid::regclass || ' -> ' || confrelid::regclass from pg_constraint \
         where contype = 'f' and conrelid in ({TENANT}) \
           and confrelid not in ({TENANT}) and confrelid <> 'organizations'::regclass \
         order by 1",
    )
    .await;
    assert!(out.is_empty(), "tenant tables referring elsewhere: {out:?}");
    let into = names(
        &mut owner,
        "select conrelid::regclass || ' -> ' || confrelid::regclass from pg_constraint \
         where contype = 'f' and conrelid not in ({TENANT}) and confrelid in ({TENANT}) \
         order by 1",
    )
    .await;
    assert!(
        into.is_empty(),
        "other tables referring to tenant tables: {into:?}"
    );
}

#[tokio::test]
async fn identity_and_exclusion_constraints_are_distributable() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    // Citus supports identity columns on distributed tables only as bigint.
    let identity = names(
        &mut owner,
        "select attrelid::regclass || '.' || attname from pg_attribute \
         where attrelid in ({TENANT}) and attidentity <> '' and atttypid <> 'int8'::regtype \
         order by 1",
    )
    .await;
    assert!(
        identity.is_empty(),
        "non-bigint identity columns: {identity:?}"
    );
    // An exclusion constraint must include the distribution column.
    let exclusion = names(
        &mut owner,
        "select c.conrelid::regclass || '.' || c.conname from pg_constraint c \
         join pg_attribute a on a.attrelid = c.conrelid and a.attname = 'org_id' \
         where c.contype = 'x' and c.conrelid in ({TENANT}) and not (a.attnum = any(c.conkey)) \
         order by 1",
    )
    .await;
    assert!(
        exclusion.is_empty(),
        "exclusion constraints without org_id: {exclusion:?}"
    );
}

#[tokio::test]
async fn privileged_functions_read_only_the_transactions_tenant() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    // A SECURITY DEFINER function bypasses row-level security: unless it confines itself
    // to the tenant named for the transaction, it reads every tenant's shard. Each one the
    // application role may call and that names a tenant table must read crm.org_id
    // (crm_org_id_by_slug reads only organizations, a reference table on every node).
    let bad = names(
        &mut owner,
        "select p.oid::regprocedure::text from pg_proc p \
         join pg_namespace n on n.oid = p.pronamespace \
         where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema') \
           and has_function_privilege('crm_app', p.oid, 'execute') \
           and p.prosrc not like '%crm.org_id%' \
           and exists (select 1 from pg_class t where t.oid in ({TENANT}) \
                       and p.prosrc ~ ('\\m' || t.relname || '\\M')) \
         order by 1",
    )
    .await;
    assert!(
        bad.is_empty(),
        "definer functions not confined to the tenant: {bad:?}"
    );
}

#[tokio::test]
async fn the_tenant_is_named_with_set_local_which_citus_forwards() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    // Citus forwards `SET LOCAL` to the workers (citus.propagate_set_commands = 'local'),
    // not set_config() calls: the functions that name the tenant use the former.
    for f in ["crm_enter", "crm_set_tenant"] {
        let src: String = sqlx::query_scalar("select prosrc from pg_proc where proname = $1")
            .bind(f)
            .fetch_one(&mut owner)
            .await
            .unwrap();
        assert!(!src.contains("set_config"), "{f} uses set_config");
        assert!(
            src.contains("set local crm.org_id"),
            "{f} does not set the tenant"
        );
    }
    // And the setting is still transaction-local: gone after the transaction, on the same
    // connection.
    let (org, user) = db.org("Lokal GmbH").await;
    let mut conn = db.crm.pool().acquire().await.unwrap();
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    let inside: String =
        sqlx::query_scalar("select current_setting('crm.org_id') from crm_enter($1, $2)")
            .bind(org)
            .bind(user)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!(inside, org.to_string());
    tx.commit().await.unwrap();
    let after: Option<String> = sqlx::query_scalar("select current_setting('crm.org_id', true)")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(after.unwrap_or_default(), "");
}

#[tokio::test]
async fn triggers_on_tenant_tables_are_row_level_without_transition_tables() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    // Citus runs triggers of distributed tables on the shards (with
    // citus.enable_unsafe_triggers): a row-level trigger that changes only its own row
    // (crm_touch, the merge-column guard) is safe. Statement-level triggers, and triggers
    // with transition tables, are not run the way PostgreSQL runs them: the search-word
    // triggers of migration 20261202060000 were such triggers, and the library keeps the
    // dictionary itself since 20261203010000. None may come back.
    let statement_level = names(
        &mut owner,
        "select tgrelid::regclass || '.' || tgname from pg_trigger \
         where not tgisinternal and tgrelid in ({TENANT}) \
           and ((tgtype & 1) = 0 or tgoldtable is not null or tgnewtable is not null) \
         order by 1",
    )
    .await;
    assert!(
        statement_level.is_empty(),
        "statement-level triggers or transition tables on tenant tables: {statement_level:?}"
    );
    // And a row-level trigger may change only its own row: writing another table from a
    // shard is what Citus calls unsafe. The merge snapshots of a record deleted for good
    // went by such a trigger until 20261203040000; crm_detach deletes them now. A new
    // trigger function joins this list only after reading that it touches nothing else
    // (`crm_company_name_keys`, 20261207010000: sets the company's own name keys from its
    // name through an immutable function).
    let functions = names(
        &mut owner,
        "select distinct t.tgrelid::regclass || ': ' || p.proname from pg_trigger t \
         join pg_proc p on p.oid = t.tgfoid \
         where not t.tgisinternal and t.tgrelid in ({TENANT}) \
           and p.proname not in ('crm_touch', 'crm_guard_merge_column', \
                                 'crm_company_name_keys') \
         order by 1",
    )
    .await;
    assert!(
        functions.is_empty(),
        "trigger functions on tenant tables not known to change only their own row: {functions:?}"
    );
}
