//! The store part: the records created one by one through the store's operations.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde_json::json;

use crate::generate::{GenCompany, GenContact, GenDeal, Generator};
use crm_core::auth::{NewUser, user};
use crm_core::domain::{
    ActivityType, CompanySize, EmailKind, EntityStatus, OwnerRole, Phone, PhoneKind,
};
use crm_core::error::Result;
use crm_core::ids::{CompanyId, ContactId, DealId, UserId};
use crm_core::store::activity::{self, NewActivity};
use crm_core::store::company::{self, NewCompany};
use crm_core::store::contact::{self, NewContact, NewContactEmail, NewContactPhone};
use crm_core::store::deal::{self, NewDeal};
use crm_core::store::owner::Owner;
use crm_core::store::pipeline::{self, Pipeline};
use crm_core::tenancy::Tx;

use super::fixed::{FIXED_EMAILS, TEAM, lost_text};
use super::{ACTIVITIES_PER_CONTACT, MIN_DEALS, PARTNER_PIPELINE, PARTNER_STAGES, Seeded};

/// What to create through the store.
pub(super) struct Plan<'g> {
    pub(super) generator: &'g Generator,
    /// Fixed contacts to create (0 to [`FIXED_CONTACTS`]).
    pub(super) fixed: usize,
    /// Generated contacts created through the store: `0..via_store`.
    pub(super) via_store: u64,
    /// Today minus the generator's reference day.
    pub(super) shift: TimeDelta,
}

/// Records made so far.
pub(super) struct Made {
    pub(super) sales: Pipeline,
    pub(super) partner: Pipeline,
    pub(super) reps: Vec<UserId>,
    pub(super) companies: Vec<CompanyId>,
    /// The owner (a sales rep) of each generated company.
    pub(super) company_rep: Vec<UserId>,
    pub(super) contacts: Vec<ContactId>,
    pub(super) deals: HashMap<u64, DealId>,
    /// Whether each stage of (sales, partner) already has an open deal.
    pub(super) covered: [Vec<bool>; 2],
    pub(super) seeded: Seeded,
}

impl Plan<'_> {
    pub(super) async fn run(&self, tx: &mut Tx) -> Result<Seeded> {
        let mut made = self.setup(tx).await?;
        self.fixed_records(tx, &mut made).await?;
        self.companies(tx, &mut made).await?;
        self.contacts(tx, &mut made).await?;
        self.deals(tx, &mut made).await?;
        self.activities(tx, &mut made).await?;
        made.seeded.pipelines = pipeline::list(tx).await?.len() as u64;
        let seeded = made.seeded;
        tx.record(
            "organization",
            Some(tx.org().uuid()),
            "demo_seed",
            &serde_json::to_value(seeded).unwrap_or_default(),
            None,
            &serde_json::Value::Null,
        )
        .await?;
        Ok(seeded)
    }

    /// The sales team and the second pipeline.
    pub(super) async fn setup(&self, tx: &mut Tx) -> Result<Made> {
        let team = user::create_team(tx, "Vertrieb DACH").await?;
        let mut reps = Vec::new();
        for (first, last, email, role) in TEAM {
            let u = user::add(
                tx,
                NewUser {
                    email: (*email).into(),
                    first_name: (*first).into(),
                    last_name: (*last).into(),
                    role: *role,
                    password: None,
                    team: Some(team.id),
                    visibility: None,
                },
            )
            .await?;
            reps.push(u.id);
        }
        let sales = pipeline::default(tx).await?;
        let stages: Vec<(&str, Decimal)> = PARTNER_STAGES
            .iter()
            .map(|(name, p)| (*name, Decimal::from(*p)))
            .collect();
        let partner = pipeline::create(tx, PARTNER_PIPELINE, &stages, false).await?;
        let covered = [
            vec![false; sales.stages.len()],
            vec![false; partner.stages.len()],
        ];
        Ok(Made {
            seeded: Seeded {
                users: reps.len() as u64,
                ..Seeded::default()
            },
            sales,
            partner,
            reps,
            companies: Vec::new(),
            company_rep: Vec::new(),
            contacts: Vec::new(),
            deals: HashMap::new(),
            covered,
        })
    }

    /// The companies of the contacts created through the store.
    pub(super) async fn companies(&self, tx: &mut Tx, made: &mut Made) -> Result<()> {
        if self.via_store == 0 {
            return Ok(());
        }
        let count = self.generator.contact_company(self.via_store - 1) + 1;
        let mut c = GenCompany::default();
        let mut rows = self.generator.companies_in(0..count);
        while rows.next_into(&mut c) {
            let i = c.index as usize;
            let rep = made.reps[i % made.reps.len()];
            let mut owners = vec![owner(rep)];
            if c.size == "large" {
                owners.push(member(made.reps[0]));
            }
            let created = company::create(tx, new_company(&c, owners)).await?;
            made.companies.push(created.id);
            made.company_rep.push(rep);
            made.seeded.companies += 1;
        }
        // A few relationships between them.
        let n = made.companies.len();
        for i in (0..n).step_by(9) {
            if i + 1 < n {
                company::relate(
                    tx,
                    made.companies[i],
                    made.companies[i + 1],
                    "partner_of",
                    None,
                )
                .await?;
            }
            if i % 2 == 0 && i + 2 < n {
                company::relate(
                    tx,
                    made.companies[i + 2],
                    made.companies[i],
                    "supplier_of",
                    Some("Rahmenliefervertrag".into()),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// The generated contacts created through the store, with consents for the newsletter.
    pub(super) async fn contacts(&self, tx: &mut Tx, made: &mut Made) -> Result<()> {
        let mut c = GenContact::default();
        let mut rows = self.generator.contacts_in(0..self.via_store);
        while rows.next_into(&mut c) {
            let i = c.index;
            let company = made.companies[c.company_index as usize];
            let rep = made.company_rep[c.company_index as usize];
            let email = unclash(&c.email);
            let mut emails = Vec::new();
            if i % 6 == 0 {
                let local = email.split('@').next().unwrap_or_default();
                let provider = match email.rsplit('.').next() {
                    Some("ch") => "bluewin.ch",
                    Some("at") => "gmx.at",
                    _ if i % 12 == 0 => "web.de",
                    _ => "gmx.de",
                };
                emails.push(NewContactEmail {
                    email: format!("{local}.{i}@{provider}"),
                    kind: EmailKind::Personal,
                    primary: false,
                });
            }
            let mut phones = Vec::new();
            if i % 3 == 0 {
                let company_row = self.generator.company(c.company_index);
                if let Some(office) = extension(&company_row.phone, i) {
                    phones.push(NewContactPhone {
                        number: office,
                        kind: PhoneKind::Office,
                        primary: false,
                    });
                }
            }
            let mut owners = vec![owner(rep)];
            if i % 10 == 0 && rep != made.reps[0] {
                owners.push(watcher(made.reps[0]));
            }
            let created = contact::create(
                tx,
                NewContact {
                    first_name: c.first_name.into(),
                    last_name: c.last_name.clone(),
                    salutation: c.salutation.map(Into::into),
                    title: c.title.map(Into::into),
                    job_title: Some(c.job_title.into()),
                    department: Some(c.department.into()),
                    linkedin_url: (i % 4 == 1).then(|| {
                        format!(
                            "https://www.linkedin.com/in/{}-{i}",
                            email
                                .split('@')
                                .next()
                                .unwrap_or_default()
                                .replace('.', "-")
                        )
                    }),
                    source: c.source.parse().unwrap_or_default(),
                    status: if i % 40 == 39 {
                        EntityStatus::Inactive
                    } else {
                        EntityStatus::Active
                    },
                    company_id: Some(company),
                    email: Some(email),
                    emails,
                    phone: Some(c.phone.clone()),
                    phones,
                    city: Some(c.city.into()),
                    tags: c.tags.iter().map(|t| (*t).to_string()).collect(),
                    owners,
                    ..NewContact::default()
                },
            )
            .await?;
            if c.tags.contains(&"Newsletter") {
                self.consent(tx, created.id, "Newsletter-Anmeldung auf der Website")
                    .await?;
            }
            made.contacts.push(created.id);
            made.seeded.contacts += 1;
        }
        Ok(())
    }

    /// Records a granted marketing consent (there is no consent API in the store).
    pub(super) async fn consent(
        &self,
        tx: &mut Tx,
        contact: ContactId,
        source: &str,
    ) -> Result<()> {
        let id = uuid::Uuid::now_v7();
        sqlx::query(
            "insert into consents (org_id, id, contact_id, purpose, status, source, actor_id) \
             values ($1, $2, $3, 'marketing', 'granted', $4, $5)",
        )
        .bind(tx.org())
        .bind(id)
        .bind(contact)
        .bind(source)
        .bind(tx.actor().id)
        .execute(tx.conn())
        .await?;
        tx.record(
            "contact",
            Some(contact.uuid()),
            "consent",
            &json!({ "consent_id": id, "purpose": "marketing", "status": "granted" }),
            None,
            &serde_json::Value::Null,
        )
        .await
    }

    /// The generated deals of the contacts created through the store.
    pub(super) async fn deals(&self, tx: &mut Tx, made: &mut Made) -> Result<()> {
        if self.via_store == 0 {
            return Ok(());
        }
        let all_via_store = self.via_store == self.generator.contact_count();
        let end = if all_via_store {
            self.generator.deal_count().max(MIN_DEALS)
        } else {
            self.generator.deal_count()
        };
        let count = self.generator.deal_count();
        let mut rows = self.generator.deals();
        for index in 0..end {
            // Past the generator's count (small demos) the rows are still well defined.
            let d: GenDeal = if index < count {
                match rows.next() {
                    Some(d) => d,
                    None => break,
                }
            } else {
                self.generator.deal(index)
            };
            if d.contact_index >= self.via_store {
                continue;
            }
            let partner = index % 4 == 3;
            let stages = if partner {
                made.partner.stages.len()
            } else {
                made.sales.stages.len()
            };
            let mut stage = if d.status == "won" {
                stages - 1
            } else {
                (d.stage_index as usize * stages / 5).min(stages - 1)
            };
            let covered = &made.covered[usize::from(partner)];
            if d.status == "open"
                && covered[stage]
                && let Some(free) = covered.iter().position(|c| !c)
            {
                stage = free;
            }
            let company = made.companies[d.company_index as usize];
            let id = self
                .deal(
                    tx,
                    made,
                    DealSpec {
                        title: d.title.clone(),
                        value: d.value,
                        currency: d.currency,
                        partner,
                        stage,
                        status: d.status,
                        lost_reason: d.lost_reason_key,
                        close: d.expected_close_date + self.shift,
                        contact: Some(made.contacts[d.contact_index as usize]),
                        company: Some(company),
                        rep: made.company_rep[d.company_index as usize],
                        index,
                    },
                )
                .await?;
            made.deals.insert(index, id);
        }
        Ok(())
    }

    /// Creates a deal in the first stage and moves it stage by stage to where it belongs
    /// (so its history is real), then wins or loses it.
    pub(super) async fn deal(
        &self,
        tx: &mut Tx,
        made: &mut Made,
        spec: DealSpec,
    ) -> Result<DealId> {
        let pipeline = if spec.partner {
            &made.partner
        } else {
            &made.sales
        };
        let stage_ids: Vec<String> = pipeline.stages.iter().map(|s| s.id.to_string()).collect();
        let mut owners = vec![owner(spec.rep)];
        if spec.value >= Decimal::from(100_000) {
            owners.push(watcher(made.reps[0]));
        }
        let created = deal::create(
            tx,
            NewDeal {
                title: spec.title,
                value: Some(spec.value.to_string()),
                currency: Some(spec.currency.into()),
                pipeline: Some(pipeline.id.to_string()),
                stage: stage_ids.first().cloned(),
                contact_id: spec.contact,
                company_id: spec.company,
                expected_close_date: Some(spec.close),
                owners,
                ..NewDeal::default()
            },
        )
        .await?;
        for stage in stage_ids.iter().take(spec.stage + 1).skip(1) {
            deal::move_to_stage(tx, created.id, stage, None).await?;
        }
        made.seeded.deals += 1;
        match spec.status {
            "won" => {
                deal::win(tx, created.id, None).await?;
                made.seeded.won += 1;
            }
            "lost" => {
                let reason = spec.lost_reason.unwrap_or("other");
                deal::lose(tx, created.id, reason, lost_text(reason, spec.index), None).await?;
                made.seeded.lost += 1;
            }
            _ => {
                if let Some(c) = made.covered[usize::from(spec.partner)].get_mut(spec.stage) {
                    *c = true;
                }
            }
        }
        Ok(created.id)
    }

    /// The generated activities of the contacts created through the store.
    pub(super) async fn activities(&self, tx: &mut Tx, made: &mut Made) -> Result<()> {
        if self.via_store == 0 {
            return Ok(());
        }
        for a in self.generator.activities(ACTIVITIES_PER_CONTACT) {
            if a.contact_index >= self.via_store {
                continue;
            }
            let kind = a.kind.parse().unwrap_or_default();
            let new = NewActivity {
                kind,
                subject: a.subject.into(),
                due_at: a.due_at.map(|t| t + self.shift),
                assignee_id: (kind != ActivityType::Note)
                    .then(|| made.company_rep[a.company_index as usize]),
                contact_id: Some(made.contacts[a.contact_index as usize]),
                company_id: Some(made.companies[a.company_index as usize]),
                deal_id: a.deal_index.and_then(|d| made.deals.get(&d).copied()),
                ..NewActivity::default()
            };
            self.activity(tx, made, new, a.done).await?;
        }
        Ok(())
    }

    pub(super) async fn activity(
        &self,
        tx: &mut Tx,
        made: &mut Made,
        new: NewActivity,
        done: bool,
    ) -> Result<()> {
        let created = activity::create(tx, new).await?;
        if done {
            activity::complete(tx, created.id).await?;
        }
        made.seeded.activities += 1;
        Ok(())
    }
}

/// A deal to create.
pub(super) struct DealSpec {
    pub(super) title: String,
    pub(super) value: Decimal,
    pub(super) currency: &'static str,
    /// In the partner pipeline (else sales).
    pub(super) partner: bool,
    /// The stage's position.
    pub(super) stage: usize,
    pub(super) status: &'static str,
    pub(super) lost_reason: Option<&'static str>,
    pub(super) close: NaiveDate,
    pub(super) contact: Option<ContactId>,
    pub(super) company: Option<CompanyId>,
    pub(super) rep: UserId,
    pub(super) index: u64,
}

pub(super) fn owner(user_id: UserId) -> Owner {
    Owner {
        user_id,
        role: OwnerRole::Owner,
    }
}

pub(super) fn member(user_id: UserId) -> Owner {
    Owner {
        user_id,
        role: OwnerRole::Member,
    }
}

pub(super) fn watcher(user_id: UserId) -> Owner {
    Owner {
        user_id,
        role: OwnerRole::Watcher,
    }
}

/// Today at `hour:minute` UTC.
pub(super) fn today_at(hour: u32, minute: u32) -> Option<DateTime<Utc>> {
    NaiveTime::from_hms_opt(hour, minute, 0).map(|t| Utc::now().date_naive().and_time(t).and_utc())
}

/// A generated primary e-mail address, changed if a fixed contact has it.
pub(super) fn unclash(email: &str) -> String {
    if FIXED_EMAILS.contains(&email) {
        email.replacen('@', ".2@", 1)
    } else {
        email.to_string()
    }
}

/// A direct line next to a company's switchboard number (`…0` → `…23`), if valid.
pub(super) fn extension(switchboard: &str, index: u64) -> Option<String> {
    let base = switchboard.strip_suffix('0')?;
    let number = format!("{base}{}", 10 + index % 90);
    let region = if number.starts_with("+41") {
        "CH"
    } else if number.starts_with("+43") {
        "AT"
    } else {
        "DE"
    };
    Phone::parse(&number, region)
        .ok()
        .map(|p| p.e164().to_string())
}

/// The store's input for a generated company.
pub(super) fn new_company(c: &GenCompany, owners: Vec<Owner>) -> NewCompany {
    let account_type = [
        "customer", "prospect", "customer", "prospect", "partner", "supplier", "prospect",
    ][c.index as usize % 7];
    let mut tags = Vec::new();
    if c.size == "large" {
        tags.push("Key Account".to_string());
    }
    NewCompany {
        name: c.name.clone(),
        domain: Some(c.domain.clone()),
        website: Some(c.website.clone()),
        industry: Some(c.industry_key.into()),
        account_type: Some(account_type.into()),
        vat_id: Some(c.vat_id.clone()),
        trade_register_number: Some(c.trade_register.clone()),
        trade_register_court: Some(c.register_court.into()),
        size: c.size.parse::<CompanySize>().ok(),
        billing_street: Some(c.street.clone()),
        billing_postal_code: Some(c.postal_code.clone()),
        billing_city: Some(c.city.into()),
        billing_country: Some(c.country.into()),
        email: Some(format!("info@{}", c.domain)),
        phone: Some(c.phone.clone()),
        tags,
        owners,
        ..NewCompany::default()
    }
}
