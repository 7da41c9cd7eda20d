//! Cross-tenant metadata (issue 14, item 2): a tenant's session reads only its own
//! organization, cannot create organizations, cannot read other tenants' values through
//! the planner's statistics, and may refresh statistics only in the role an import needs.

use crm_core::auth::user::{self, NewUser};
use crm_core::domain::UserRole;
use crm_core::testing::TestDb;
use crm_core::{Error, Scope};
use uuid::Uuid;

async fn scalar(scope: &Scope, sql: &'static str) -> crm_core::Result<i64> {
    scope
        .run(async |tx| {
            Ok(sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(tx.conn())
                .await?)
        })
        .await
}

#[tokio::test]
async fn a_tenant_session_reads_only_its_own_organization_and_creates_none() {
    let db = TestDb::new().await;
    let (a, a_owner) = db.org("Alpha GmbH").await;
    let (b, _) = db.org("Beta AG").await;
    let as_a = db.crm.scope(a, a_owner);
    assert_eq!(
        scalar(&as_a, "select count(*) from organizations")
            .await
            .unwrap(),
        1
    );
    let others: i64 = as_a
        .run(async |tx| {
            Ok(sqlx::query_scalar(
                "select count(*) from organizations where id = $1 or slug = 'beta-ag'",
            )
            .bind(b)
            .fetch_one(tx.conn())
            .await?)
        })
        .await
        .unwrap();
    assert_eq!(others, 0, "another organization's name, slug and settings");
    let e = as_a
        .run(async |tx| {
            sqlx::query("insert into organizations (id, name, slug) values ($1, 'Evil', 'evil')")
                .bind(Uuid::now_v7())
                .execute(tx.conn())
                .await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)), "{e:?}");
    // Values of every tenant's rows, through the planner's statistics.
    let mut owner = db.owner().await;
    sqlx::query("analyze contacts; analyze users")
        .execute(&mut owner)
        .await
        .ok();
    let stats = scalar(
        &as_a,
        "select count(*) from pg_stats where tablename in ('contacts', 'users')",
    )
    .await;
    assert!(
        !matches!(stats, Ok(n) if n > 0),
        "the app role reads column statistics of all tenants: {stats:?}"
    );
    // The operator's calls still see every organization.
    let all = db.crm.organizations().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(db.crm.organization_by_slug("beta-ag").await.unwrap().id, b);
    assert!(matches!(
        db.crm.organization_by_slug("gamma").await.unwrap_err(),
        Error::NotFound { .. }
    ));
}

#[tokio::test]
async fn refreshing_statistics_after_an_import_needs_a_role_that_may_import() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let plain = db
        .crm
        .scope(org, owner)
        .run(async |tx| {
            user::add(
                tx,
                NewUser {
                    email: "u@alpha.test".into(),
                    first_name: "Uwe".into(),
                    last_name: "User".into(),
                    role: UserRole::User,
                    password: None,
                    team: None,
                    visibility: None,
                },
            )
            .await
        })
        .await
        .unwrap()
        .id;
    // Both statistics functions: after an import, and early in a first import.
    for call in [
        "select crm_analyze_after_import()",
        "select crm_analyze_import_lookups()",
    ] {
        let e = db
            .crm
            .scope(org, plain)
            .run(async |tx| {
                sqlx::query(call).execute(tx.conn()).await?;
                Ok(())
            })
            .await
            .unwrap_err();
        assert!(matches!(e, Error::PermissionDenied(_)), "{call}: {e:?}");
        // Without an organization (any SQL on a pooled connection), neither.
        let mut conn = db.crm.pool().acquire().await.unwrap();
        assert!(
            sqlx::query(call).execute(&mut *conn).await.is_err(),
            "{call}"
        );
        drop(conn);
        // An owner may.
        db.crm
            .scope(org, owner)
            .run(async |tx| {
                sqlx::query(call).execute(tx.conn()).await?;
                Ok(())
            })
            .await
            .unwrap();
    }
}

/// The pending entries of the search indexes are merged after every large import, also when
/// the statistics were refreshed a moment ago (autovacuum's analyze runs during a long load):
/// a search reads a pending list row by row, and at a million contacts it cost a third of
/// every search's time. The statistics themselves are refreshed at most once a minute, counted
/// by the refresh's own runs (migration 20261211020000): an `ANALYZE` by anyone else does not
/// stop it, a second refresh within the minute skips it.
#[tokio::test]
async fn the_search_indexes_are_settled_even_when_statistics_are_fresh() {
    use crm_core::store::contact::{self, NewContact};

    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let scope = db.crm.scope(org, owner);
    let add = async |from: usize| {
        scope
            .run(async |tx| {
                for i in from..from + 40 {
                    let new = NewContact {
                        first_name: format!("Anna{i}"),
                        last_name: "Müller".into(),
                        email: Some(format!("anna{i}@example.com")),
                        ..NewContact::default()
                    };
                    contact::create(tx, new).await?;
                }
                Ok(())
            })
            .await
            .unwrap();
    };
    let refresh = async || {
        scope
            .run(async |tx| {
                sqlx::query("select crm_analyze_after_import()")
                    .execute(tx.conn())
                    .await?;
                Ok(())
            })
            .await
            .unwrap();
    };
    let mut conn = db.owner().await;
    let analyses = async |conn: &mut sqlx::PgConnection| -> i64 {
        sqlx::query_scalar(
            "select analyze_count from pg_stat_user_tables where relid = 'contacts'::regclass",
        )
        .fetch_one(conn)
        .await
        .unwrap()
    };
    add(0).await;
    // Statistics fresh from someone else's ANALYZE: the refresh analyses all the same.
    sqlx::query("analyze contacts")
        .execute(&mut conn)
        .await
        .unwrap();
    let before = analyses(&mut conn).await;
    refresh().await;
    assert_eq!(analyses(&mut conn).await, before + 1);
    // A second refresh within the minute only merges the pending entries.
    add(40).await;
    refresh().await;
    assert_eq!(analyses(&mut conn).await, before + 1);
    for index in [
        "contacts_name_words_idx",
        "companies_search_idx",
        "companies_name_words_idx",
        "crm_private.search_words_trgm_idx",
    ] {
        let left: i64 = sqlx::query_scalar("select gin_clean_pending_list($1::regclass)")
            .bind(index)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(left, 0, "{index} still had pending pages");
    }
}

/// `20261204010000` and `20261204020000` landed in two forms; a database migrated with the
/// other one is accepted (its recorded checksum brought to the present file's), and any
/// other difference is still refused as an edited migration.
#[tokio::test]
async fn a_migration_applied_in_its_earlier_landed_form_is_accepted_and_an_edit_refused() {
    let db = TestDb::new().await;
    let mut conn = db.owner().await;
    let checksum = async |conn: &mut sqlx::PgConnection| -> Vec<u8> {
        sqlx::query_scalar("select checksum from _sqlx_migrations where version = 20261204020000")
            .fetch_one(conn)
            .await
            .unwrap()
    };
    let present = checksum(&mut conn).await;
    let set = async |conn: &mut sqlx::PgConnection, hex: &str| {
        sqlx::query(
            "update _sqlx_migrations set checksum = decode($1, 'hex') \
             where version = 20261204020000",
        )
        .bind(hex)
        .execute(conn)
        .await
        .unwrap();
    };
    set(
        &mut conn,
        "cde6f7f3e404676181405daf406ae3b3f8fd87c2ddf5da1e4896ba6b7c7ea262671bd51be07c9f74a9dc8d779899fabd",
    )
    .await;
    db.crm.migrate().await.unwrap();
    assert_eq!(checksum(&mut conn).await, present);

    set(&mut conn, &"00".repeat(48)).await;
    let err = db.crm.migrate().await.unwrap_err();
    assert!(err.to_string().contains("20261204020000"), "{err}");
    assert_eq!(checksum(&mut conn).await, vec![0u8; 48]);
}
