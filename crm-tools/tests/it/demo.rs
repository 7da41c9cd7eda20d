//! The demo data set (`crm demo`): realistic, complete enough to show every screen, and the
//! same on every run.

use crm_core::testing::TestDb;
use crm_tools::demo::{self, DemoOptions};

#[tokio::test]
async fn the_demo_fills_every_stage_and_has_won_lost_and_due_work() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Demo GmbH").await;
    let scope = db.crm.scope(org, owner);
    let seeded = demo::seed(&scope, 120).await.unwrap();
    assert_eq!(seeded.contacts, 120);
    assert_eq!(seeded.imported, 0);
    assert_eq!(seeded.pipelines, 2);
    assert!(seeded.won > 0 && seeded.lost > 0, "{seeded:?}");

    scope
        .run(async |tx| {
            let org = tx.org();
            let contacts: i64 =
                sqlx::query_scalar("select count(*) from contacts where org_id = $1")
                    .bind(org)
                    .fetch_one(tx.conn())
                    .await?;
            assert_eq!(contacts, 120);

            // Every stage of both pipelines holds an open deal.
            let pipelines = crm_core::store::pipeline::list(tx).await?;
            let names: Vec<&str> = pipelines.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(names, ["Sales", "Partner"]);
            for p in &pipelines {
                let summary = crm_core::report::pipeline_summary(tx, Some(p.id)).await?;
                for s in &summary.stages {
                    assert!(s.deals > 0, "{}: stage {} is empty", p.name, s.stage);
                }
            }

            // Lost deals carry a reason; won deals went through the stages one by one.
            let (lost_without_reason, won_skipping): (i64, i64) = sqlx::query_as(
                "select (select count(*) from deals where org_id = $1 and status = 'lost' \
                         and lost_reason_id is null), \
                        (select count(*) from deals d where d.org_id = $1 and d.status = 'won' \
                         and (select count(*) from deal_stage_history h \
                              where h.org_id = d.org_id and h.deal_id = d.id) \
                          <> (select count(*) from stages s \
                              where s.org_id = d.org_id and s.pipeline_id = d.pipeline_id))",
            )
            .bind(org)
            .fetch_one(tx.conn())
            .await?;
            assert_eq!(lost_without_reason, 0);
            assert_eq!(won_skipping, 0, "won deals move through every stage");

            // Work due today and overdue work.
            let (today, overdue): (i64, i64) = sqlx::query_as(
                "select count(*) filter (where due_at::date = current_date), \
                        count(*) filter (where due_at < now() - interval '1 day') \
                 from activities where org_id = $1 and done_at is null",
            )
            .bind(org)
            .fetch_one(tx.conn())
            .await?;
            assert!(today > 0 && overdue > 0, "today {today}, overdue {overdue}");

            // Companies look German / Swiss / Austrian and have VAT ids; names have umlauts.
            let (companies, legal_forms, without_vat, umlauts): (i64, i64, i64, i64) =
                sqlx::query_as(
                    "select count(*), \
                            count(*) filter (where name ~ '(GmbH|AG|KG|e\\.K\\.|SE|OHG|SA|Sàrl|OG|e\\.U\\.|\\))$'), \
                            count(*) filter (where vat_id is null), \
                            (select count(*) from contacts where org_id = $1 \
                             and first_name || last_name ~ '[äöüÄÖÜß]') \
                     from companies where org_id = $1",
                )
                .bind(org)
                .fetch_one(tx.conn())
                .await?;
            assert_eq!(legal_forms, companies);
            assert_eq!(without_vat, 0);
            assert!(umlauts > 0);

            // The fixed records the documentation uses.
            let hits = crm_core::search::search(tx, "Jürgen Müller", 5).await?;
            assert!(hits.iter().any(|h| h.name == "Jürgen Müller"), "{hits:?}");
            Ok(())
        })
        .await
        .unwrap();

    // Everything went through the store: the audit chain covers it and verifies.
    let reports = db.crm.verify_audit_chains().await.unwrap();
    assert!(reports[0].intact(), "{:?}", reports[0]);
    assert!(reports[0].checked > 500, "{:?}", reports[0]);
}

#[tokio::test]
async fn contacts_beyond_the_store_part_are_imported_with_complete_companies() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Gross AG").await;
    let scope = db.crm.scope(org, owner);
    let opts = DemoOptions {
        contacts: 300,
        via_store: 50,
        seed: demo::DEMO_SEED,
    };
    let seeded = demo::seed_with(&scope, &opts).await.unwrap();
    assert_eq!(seeded.contacts, 300);
    assert_eq!(seeded.imported, 250);
    scope
        .run(async |tx| {
            let org = tx.org();
            let (contacts, companies, without_vat, runs): (i64, i64, i64, i64) = sqlx::query_as(
                "select (select count(*) from contacts where org_id = $1), \
                        (select count(*) from companies where org_id = $1), \
                        (select count(*) from companies where org_id = $1 and vat_id is null), \
                        (select count(*) from import_runs where org_id = $1)",
            )
            .bind(org)
            .fetch_one(tx.conn())
            .await?;
            assert_eq!(contacts, 300);
            assert_eq!(companies as u64, seeded.companies);
            assert_eq!(without_vat, 0);
            assert_eq!(runs, 1);
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_demo_is_the_same_on_every_run() {
    let db = TestDb::new().await;
    let mut emails = Vec::new();
    for name in ["Eins GmbH", "Zwei GmbH"] {
        let (org, owner) = db.org(name).await;
        let scope = db.crm.scope(org, owner);
        demo::seed(&scope, 30).await.unwrap();
        let list: Vec<(String, String, Option<String>)> = scope
            .run(async |tx| {
                Ok(sqlx::query_as(
                    "select first_name, last_name, email from contacts where org_id = $1 \
                     order by email",
                )
                .bind(tx.org())
                .fetch_all(tx.conn())
                .await?)
            })
            .await
            .unwrap();
        emails.push(list);
    }
    assert_eq!(emails[0].len(), 30);
    assert_eq!(emails[0], emails[1]);
}
