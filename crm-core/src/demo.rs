//! A demo organization with a handful of German / Swiss B2B records.

use rust_decimal::Decimal;

use crate::auth::Permission;
use crate::error::Result;
use crate::ids::{CompanyId, ContactId, DealId};
use crate::tenancy::Tx;

/// What [`seed`] created.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Seeded {
    /// Companies created.
    pub companies: u64,
    /// Contacts created.
    pub contacts: u64,
    /// Deals created.
    pub deals: u64,
}

const COMPANIES: &[(&str, &str, &str)] = &[
    (
        "Müller Maschinenbau GmbH",
        "mueller-maschinenbau.de",
        "Stuttgart",
    ),
    ("Schäfer & Söhne KG", "schaefer-soehne.de", "Köln"),
    ("Zürcher Präzision AG", "zuercher-praezision.ch", "Zürich"),
    ("Brandstätter Logistik GmbH", "brandstaetter.at", "Linz"),
    ("Weißbach Energie GmbH", "weissbach-energie.de", "Dresden"),
];

const PEOPLE: &[(&str, &str)] = &[
    ("Jürgen", "Müller"),
    ("Anna", "Schäfer"),
    ("Lukas", "Brändli"),
    ("Sophie", "Weiß"),
    ("Matthias", "Großmann"),
    ("Lea", "Köhler"),
    ("Noah", "Zürcher"),
    ("Marie", "Öztürk"),
];

/// Seeds the organization of `tx` with `contacts` contacts (spread over a few companies)
/// and one open deal per company in successive stages of the default pipeline.
pub async fn seed(tx: &mut Tx, contacts: usize) -> Result<Seeded> {
    tx.require(Permission::Write)?;
    let org = tx.org();
    let mut seeded = Seeded::default();
    let mut company_ids = Vec::new();
    for (name, domain, city) in COMPANIES {
        let id = CompanyId::new();
        sqlx::query(
            "insert into companies (org_id, id, name, domain, website, billing_city, billing_country) \
             values ($1, $2, $3, $4, 'https://' || $4, $5, case when $4 like '%.ch' then 'CH' \
                     when $4 like '%.at' then 'AT' else 'DE' end)",
        )
        .bind(org)
        .bind(id)
        .bind(name)
        .bind(domain)
        .bind(city)
        .execute(tx.conn())
        .await?;
        company_ids.push((id, *domain));
        seeded.companies += 1;
    }
    for i in 0..contacts {
        let (first, last) = PEOPLE[i % PEOPLE.len()];
        let (company, domain) = company_ids[i % company_ids.len()];
        let local = crate::domain::fold_for_search(&format!("{first}.{last}")).replace(' ', "");
        let email = if i < PEOPLE.len() {
            format!("{local}@{domain}")
        } else {
            format!("{local}{i}@{domain}")
        };
        sqlx::query(
            "insert into contacts (org_id, id, company_id, first_name, last_name, email, email_norm, source) \
             values ($1, $2, $3, $4, $5, $6, lower($6), 'other')",
        )
        .bind(org)
        .bind(ContactId::new())
        .bind(company)
        .bind(first)
        .bind(last)
        .bind(&email)
        .execute(tx.conn())
        .await?;
        seeded.contacts += 1;
    }
    let stages: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
        "select s.pipeline_id, s.id from stages s join pipelines p on p.org_id = s.org_id and p.id = s.pipeline_id \
         where s.org_id = $1 and p.is_default order by s.position",
    )
    .bind(org)
    .fetch_all(tx.conn())
    .await?;
    for (i, (company, _)) in company_ids.iter().enumerate() {
        let (pipeline, stage) = stages[i % stages.len()];
        sqlx::query(
            "insert into deals (org_id, id, title, value, currency, pipeline_id, stage_id, company_id) \
             values ($1, $2, $3, $4, 'EUR', $5, $6, $7)",
        )
        .bind(org)
        .bind(DealId::new())
        .bind(format!("Rahmenvertrag {}", 2027 + i))
        .bind(Decimal::from(12_500 * (i as i64 + 1)))
        .bind(pipeline)
        .bind(stage)
        .bind(company)
        .execute(tx.conn())
        .await?;
        seeded.deals += 1;
    }
    tx.record(
        "organization",
        Some(org.uuid()),
        "demo_seed",
        &serde_json::to_value(seeded).unwrap_or_default(),
        None,
        &serde_json::Value::Null,
    )
    .await?;
    Ok(seeded)
}
