//! `crm demo`: a demo organization and its pipeline summary.

use anyhow::Result;
use clap::Args;
use crm_core::NewOrganization;
use crm_core::report::{self, StageSummary};
use crm_core::store::pipeline;
use serde::Serialize;

use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many contacts to create. The first 500 are created one by one (with deals and
    /// activities), the rest with the bulk import.
    #[arg(long, default_value_t = 200)]
    pub contacts: usize,
    /// Slug of the demo organization (a number is appended if it exists).
    #[arg(long, default_value = "demo")]
    pub slug: String,
}

#[derive(Serialize)]
struct StageRow {
    pipeline: String,
    stage: String,
    probability: String,
    deals: i64,
    value: String,
    weighted: String,
    currency: String,
}

impl StageRow {
    fn new(pipeline: &str, s: &StageSummary) -> Self {
        Self {
            pipeline: pipeline.to_string(),
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
            "pipeline",
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
            self.pipeline.clone(),
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
    if contacts > crm_tools::demo::STORE_CONTACTS {
        ctx.note(format!(
            "creating {contacts} contacts (the first {} with deals and activities, the rest by bulk import)...",
            crm_tools::demo::STORE_CONTACTS
        ));
    }
    let seeded = crm_tools::demo::seed(&scope, contacts).await?;
    let summaries = scope
        .run(async |tx| {
            let mut pipelines = pipeline::list(tx).await?;
            // The default pipeline first.
            pipelines.sort_by_key(|p| !p.is_default);
            let mut out = Vec::new();
            for p in pipelines {
                out.push(report::pipeline_summary(tx, Some(p.id)).await?);
            }
            Ok(out)
        })
        .await?;
    ctx.note(format!(
        "created demo organization '{slug}': {} companies, {} contacts, {} deals ({} won, {} lost), \
         {} activities, {} users (use --org {slug})",
        seeded.companies,
        seeded.contacts,
        seeded.deals,
        seeded.won,
        seeded.lost,
        seeded.activities,
        seeded.users
    ));
    let rows: Vec<StageRow> = summaries
        .iter()
        .flat_map(|p| p.stages.iter().map(|s| StageRow::new(&p.pipeline, s)))
        .collect();
    match ctx.format() {
        crate::cli::Format::Json => output::json(&serde_json::json!({
            "organization": slug,
            "seeded": seeded,
            "pipeline": summaries.first(),
            "pipelines": summaries,
        }))?,
        f => output::list(f, &rows)?,
    }
    Ok(exit::OK)
}
