//! The least-privileged login for embedding programs (issue 14, item 3): a handle connected
//! as it works as usual, but SQL run on its connections cannot get back more than the
//! application role, nor read another tenant.

use crm_core::store::contact::{self, NewContact};
use crm_core::testing::TestDb;
use crm_core::{Crm, Error};
use sqlx::{Connection as _, Executor as _};

#[tokio::test]
async fn a_handle_on_the_app_login_works_but_cannot_reset_its_role_or_read_another_tenant() {
    let db = TestDb::new().await;
    let (a, a_owner) = db.org("Alpha GmbH").await;
    let (b, b_owner) = db.org("Beta AG").await;
    db.crm
        .scope(b, b_owner)
        .run(async |tx| {
            contact::create(
                tx,
                NewContact {
                    last_name: "Geheim".into(),
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    let name = format!("crm_login_{}", &db.name);
    assert!(matches!(
        db.crm.create_app_login(&name, "short").await.unwrap_err(),
        Error::Validation(_)
    ));
    db.crm
        .create_app_login(&name, "a long enough secret")
        .await
        .unwrap();
    assert!(matches!(
        db.crm
            .create_app_login(&name, "a long enough secret")
            .await
            .unwrap_err(),
        Error::Conflict(_)
    ));
    let options = db
        .url()
        .parse::<crm_core::db::PgConnectOptions>()
        .unwrap()
        .username(&name)
        .password("a long enough secret");
    let app = Crm::connect_with(options.clone()).await.unwrap();
    // Ordinary work through the library.
    let c = app
        .scope(a, a_owner)
        .run(async |tx| {
            contact::create(
                tx,
                NewContact {
                    last_name: "Alpha".into(),
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    assert_eq!(c.last_name, "Alpha");
    // Any SQL on a pooled connection: RESET ROLE falls back to the login itself, which holds
    // nothing; no other role can be taken.
    let mut conn = app.pool().acquire().await.unwrap();
    let who: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(who, "crm_app");
    conn.execute("reset role").await.unwrap();
    let (who, superuser, bypass): (String, bool, bool) = sqlx::query_as(
        "select current_user::text, r.rolsuper, r.rolbypassrls from pg_roles r \
         where r.rolname = current_user",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(
        (who.as_str(), superuser, bypass),
        (name.as_str(), false, false)
    );
    for sql in [
        "select count(*) from contacts",
        "select count(*) from organizations",
        "select count(*) from users",
    ] {
        assert!(
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut *conn)
                .await
                .is_err(),
            "{sql} after reset role"
        );
    }
    let owner: String = {
        let mut o = db.owner().await;
        sqlx::query_scalar("select current_user::text")
            .fetch_one(&mut o)
            .await
            .unwrap()
    };
    assert!(
        conn.execute(sqlx::AssertSqlSafe(format!("set role \"{owner}\"")))
            .await
            .is_err()
    );
    let who: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_ne!(who, owner);
    // Back as the application role with no tenant named, nothing is visible, and no
    // organization but the one named.
    conn.execute("set role crm_app").await.unwrap();
    let n: i64 = sqlx::query_scalar("select count(*) from contacts")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(n, 0);
    drop(conn);
    let mut tx = app.pool().begin().await.unwrap();
    sqlx::query("select set_config('crm.org_id', $1::text, true)")
        .bind(a)
        .execute(&mut *tx)
        .await
        .unwrap();
    let names: Vec<String> = sqlx::query_scalar("select last_name from contacts")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(names, ["Alpha"]);
    let orgs: i64 = sqlx::query_scalar("select count(*) from organizations")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(orgs, 1);
    tx.rollback().await.unwrap();
    // The login cannot migrate, create organizations or list them all.
    assert!(app.organizations().await.is_err());
    app.close().await;
    let mut raw = sqlx::PgConnection::connect_with(&options).await.unwrap();
    assert!(raw.execute("create table x (id int)").await.is_err());
    assert!(raw.execute("create role y").await.is_err());
}
