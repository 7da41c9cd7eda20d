//! `crm demo`: a demo organization and its pipeline summary.

use anyhow::Result;
use clap::Args;
use crm_core::NewOrganization;
use crm_core::report::{self, StageSummary};
use serde::Serialize;

use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many contacts to create.
    #[arg(long, default_value_t = 25)]
    pub contacts: usize,
    /// Slug of the demo organization (a number is appended if it exists).
    #[arg(long, default_value = "demo")]
    pub slug: String,
}

#[derive(Serialize)]
struct StageRow {
    stage: String,
    probability: String,
    deals: i64,
    value: String,
    weighted: String,
    currency: String,
}

impl From<&StageSummary> for StageRow {
    fn from(s: &StageSummary) -> Self {
        Self {
            stage: s.stage.clone(),
            probability: format!("{}%", s.probability.normalize()),
            deals: s.deals,
            value: s.value.to_string(),
            weighted: s.weighted.to_string(),
            currency: s.currency.clone(),
        }
    }
}

impl Row for StageRow {
    fn headers() -> Vec<&'static str> {
        vec![
            "stage",
            "probability",
            "deals",
            "value",
            "weighted",
            "currency",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.stage.clone(),
            self.probability.clone(),
            self.deals.to_string(),
            self.value.clone(),
            self.weighted.clone(),
            self.currency.clone(),
        ]
    }
}

pub async fn run(args: DemoArgs, ctx: &Ctx) -> Result<u8> {
    let crm = ctx.crm().await?;
    let existing: Vec<String> = crm
        .organizations()
        .await?
        .into_iter()
        .map(|o| o.slug)
        .collect();
    let mut slug = args.slug.clone();
    let mut n = 2;
    while existing.contains(&slug) {
        slug = format!("{}-{n}", args.slug);
        n += 1;
    }
    let created = crm
        .create_organization(NewOrganization {
            name: format!("Demo Handels GmbH ({slug})"),
            slug: Some(slug.clone()),
            owner_email: format!("admin@{slug}.example"),
            owner_first_name: "Anna".into(),
            owner_last_name: "Admin".into(),
            owner_password_hash: None,
        })
        .await?;
    let scope = crm.scope(created.organization.id, created.owner_id);
    let contacts = args.contacts;
    let (seeded, summary) = scope
        .run(async |tx| {
            let seeded = crm_core::demo::seed(tx, contacts).await?;
            let summary = report::pipeline_summary(tx, None).await?;
            Ok((seeded, summary))
        })
        .await?;
    ctx.note(format!(
        "created demo organization '{slug}': {} companies, {} contacts, {} deals (use --org {slug})",
        seeded.companies, seeded.contacts, seeded.deals
    ));
    let rows: Vec<StageRow> = summary.stages.iter().map(StageRow::from).collect();
    match ctx.format() {
        crate::cli::Format::Json => output::json(&serde_json::json!({
            "organization": slug,
            "seeded": seeded,
            "pipeline": summary,
        }))?,
        f => output::list(f, &rows)?,
    }
    Ok(exit::OK)
}
