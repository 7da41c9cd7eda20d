//! Embedding crm-core: open the local cluster (or `DATABASE_URL`), create an organization,
//! seed it, and print its pipeline summary.
//!
//! Run with `cargo run -p crm-examples --bin embed`.

use crm_core::{Crm, LocalCluster, NewOrganization};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let crm = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => {
            let crm = Crm::connect(&url).await?;
            crm.migrate().await?;
            crm
        }
        None => Crm::open_local(&LocalCluster::default_home()).await?,
    };
    let slug = format!("embed-{}", uuid_suffix());
    let created = crm
        .create_organization(NewOrganization {
            name: "Embedded Example AG".into(),
            slug: Some(slug.clone()),
            owner_email: format!("owner@{slug}.example"),
            owner_first_name: "Erika".into(),
            owner_last_name: "Example".into(),
            owner_password_hash: None,
        })
        .await?;
    let scope = crm.scope(created.organization.id, created.owner_id);
    crm_tools::demo::seed(&scope, 5).await?;
    let summary = scope
        .run(async |tx| crm_core::report::pipeline_summary(tx, None).await)
        .await?;
    println!("organization {slug}: pipeline {}", summary.pipeline);
    for s in &summary.stages {
        println!(
            "  {:<12} {:>3} deals {:>12} {}",
            s.stage, s.deals, s.value, s.currency
        );
    }
    Ok(())
}

fn uuid_suffix() -> String {
    crm_core::OrgId::new().to_string()[24..].to_string()
}
