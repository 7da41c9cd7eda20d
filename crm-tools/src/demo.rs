//! A demo organization with realistic German / Swiss / Austrian B2B data.
//!
//! [`seed`] fills the organization of a scope from the deterministic
//! [`Generator`](crate::generate::Generator): companies with legal forms, VAT ids, register
//! numbers and addresses; contacts with umlauts, typed e-mail addresses and phone numbers,
//! tags and consents; a sales team; the default `Sales` pipeline and a second `Partner`
//! pipeline with open deals in every stage (given enough contacts), won deals and lost deals
//! with their reasons; and activities, some due today and some overdue.
//!
//! Everything goes through the store (the same operations the front-ends use), so owners,
//! stage history, audit entries and outbox events are all real. Creating records one by one
//! is too slow for large data sets: beyond [`STORE_CONTACTS`] contacts, the rest are loaded
//! with the bulk CSV import ([`import_contacts`]), streamed from the generator without a
//! file. Deals and activities are only made for the contacts created through the store.
//!
//! The data is the same on every run (a fixed seed); dates are moved so that the generator's
//! reference day ([`BASE_DATE`]) is today.

use std::collections::HashMap;
use std::io::{self, Read};
use std::ops::Range;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde_json::json;

use crate::generate::{BASE_DATE, GenCompany, GenContact, GenDeal, Generator};
use crm_core::auth::{NewUser, user};
use crm_core::domain::{
    ActivityType, CompanySize, ContactSource, EmailKind, EntityStatus, OwnerRole, Phone, PhoneKind,
    UserRole,
};
use crm_core::error::{Error, Result};
use crm_core::ids::{CompanyId, ContactId, DealId, UserId};
use crm_core::import::ImportOptions;
use crm_core::import::contacts::import_contacts;
use crm_core::store::activity::{self, NewActivity};
use crm_core::store::company::{self, NewCompany};
use crm_core::store::contact::{self, NewContact, NewContactEmail, NewContactPhone};
use crm_core::store::deal::{self, NewDeal};
use crm_core::store::owner::Owner;
use crm_core::store::pipeline::{self, Pipeline};
use crm_core::tenancy::{Scope, Tx};

/// The seed of the demo data: every demo of the same size holds the same records.
pub const DEMO_SEED: u64 = 2026;

/// How many contacts [`seed`] creates one by one through the store; the rest are imported.
pub const STORE_CONTACTS: usize = 500;

/// Activities per contact (on average).
const ACTIVITIES_PER_CONTACT: u32 = 2;

/// At least this many generated deals, so that even a small demo has a full pipeline.
const MIN_DEALS: u64 = 16;

/// The second pipeline: (name, win probability in percent).
const PARTNER_PIPELINE: &str = "Partner";
const PARTNER_STAGES: &[(&str, u32)] = &[
    ("Contacted", 10),
    ("Evaluating", 30),
    ("Contract", 60),
    ("Onboarding", 85),
];

/// What [`seed`] created.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Seeded {
    /// Companies created.
    pub companies: u64,
    /// Contacts created (through the store and the import).
    pub contacts: u64,
    /// Of those, contacts loaded with the bulk import.
    pub imported: u64,
    /// Deals created (open, won and lost).
    pub deals: u64,
    /// Deals won.
    pub won: u64,
    /// Deals lost.
    pub lost: u64,
    /// Activities created.
    pub activities: u64,
    /// Users added (the sales team).
    pub users: u64,
    /// Pipelines the organization has afterwards.
    pub pipelines: u64,
}

/// How [`seed_with`] sizes the demo.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    /// Contacts in total.
    pub contacts: usize,
    /// How many of them are created one by one through the store (with their deals and
    /// activities); the rest are imported in bulk.
    pub via_store: usize,
    /// The generator's seed.
    pub seed: u64,
}

impl DemoOptions {
    /// `contacts` contacts, the first [`STORE_CONTACTS`] through the store, [`DEMO_SEED`].
    pub fn new(contacts: usize) -> Self {
        Self {
            contacts,
            via_store: STORE_CONTACTS,
            seed: DEMO_SEED,
        }
    }
}

/// Seeds the organization of `scope` with `contacts` contacts, their companies, a sales team,
/// two pipelines with deals and activities: [`seed_with`] with [`DemoOptions::new`].
pub async fn seed(scope: &Scope, contacts: usize) -> Result<Seeded> {
    seed_with(scope, &DemoOptions::new(contacts)).await
}

/// Seeds the organization of `scope` as `opts` says.
///
/// The records made through the store are created in one transaction (all or nothing); the
/// imported contacts follow in the import's own batches. Needs a role that may manage users,
/// configure pipelines, write and import (an owner or admin).
pub async fn seed_with(scope: &Scope, opts: &DemoOptions) -> Result<Seeded> {
    let fixed = FIXED_CONTACTS.min(opts.contacts);
    let generated = opts.contacts - fixed;
    let generator = Generator::new(opts.seed, generated as u64);
    let via_store = opts.via_store.clamp(fixed, opts.contacts) - fixed;
    let plan = Plan {
        generator: &generator,
        fixed,
        via_store: via_store as u64,
        shift: Utc::now().date_naive().signed_duration_since(BASE_DATE),
    };
    let mut seeded = scope.run(async |tx| plan.run(tx).await).await?;
    if generated > via_store {
        let options = ImportOptions {
            file_name: Some("demo".into()),
            ..ImportOptions::default()
        };
        let feed = CsvFeed::new(&generator, via_store as u64..generated as u64);
        let summary = import_contacts(scope, feed, &options, None, |_| {}).await?;
        if summary.failed > 0 {
            return Err(Error::Database(format!(
                "the demo import rejected {} generated rows",
                summary.failed
            )));
        }
        seeded.contacts += summary.created;
        seeded.imported = summary.created;
        seeded.companies += summary.companies_created;
    }
    Ok(seeded)
}

// ---------------------------------------------------------------------------------------
// Fixed records: the same in every demo (and what the documentation's examples use)
// ---------------------------------------------------------------------------------------

/// How many fixed contacts come first.
const FIXED_CONTACTS: usize = 2;

/// Primary e-mail addresses of the fixed contacts; a generated contact that happens to have
/// one of them gets another.
const FIXED_EMAILS: &[&str] = &[
    "juergen.mueller@schaefer-soehne.de",
    "lukas.braendli@zuercher-praezision.ch",
];

/// The sales team: (first name, last name, e-mail, role).
const TEAM: &[(&str, &str, &str, UserRole)] = &[
    (
        "Katrin",
        "Weiß",
        "katrin.weiss@vertrieb.example",
        UserRole::Manager,
    ),
    (
        "Tobias",
        "Krämer",
        "tobias.kraemer@vertrieb.example",
        UserRole::User,
    ),
    (
        "Selin",
        "Öztürk",
        "selin.oeztuerk@vertrieb.example",
        UserRole::User,
    ),
];

/// Why lost deals were lost, by reason key (some without an explanation).
fn lost_text(reason: &str, index: u64) -> Option<String> {
    if index % 3 == 2 {
        return None;
    }
    let text = match reason {
        "price" => "Angebot lag rund 15 % über dem Budget",
        "competitor" => "Entscheidung für einen Mitbewerber mit kürzerer Lieferzeit",
        "no_budget" => "Budget für das laufende Geschäftsjahr gestrichen",
        "no_decision" => "Projekt ohne Entscheidung auf Eis gelegt",
        "timing" => "Vorhaben auf das nächste Jahr verschoben",
        "product_fit" => "Schnittstelle zum ERP-System fehlt",
        "unresponsive" => "Seit drei Monaten keine Rückmeldung",
        _ => "Interne Umstrukturierung beim Kunden",
    };
    Some(text.to_string())
}

// ---------------------------------------------------------------------------------------
// The store part
// ---------------------------------------------------------------------------------------

/// What to create through the store.
struct Plan<'g> {
    generator: &'g Generator,
    /// Fixed contacts to create (0 to [`FIXED_CONTACTS`]).
    fixed: usize,
    /// Generated contacts created through the store: `0..via_store`.
    via_store: u64,
    /// Today minus the generator's reference day.
    shift: TimeDelta,
}

/// Records made so far.
struct Made {
    sales: Pipeline,
    partner: Pipeline,
    reps: Vec<UserId>,
    companies: Vec<CompanyId>,
    /// The owner (a sales rep) of each generated company.
    company_rep: Vec<UserId>,
    contacts: Vec<ContactId>,
    deals: HashMap<u64, DealId>,
    /// Whether each stage of (sales, partner) already has an open deal.
    covered: [Vec<bool>; 2],
    seeded: Seeded,
}

impl Plan<'_> {
    async fn run(&self, tx: &mut Tx) -> Result<Seeded> {
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
    async fn setup(&self, tx: &mut Tx) -> Result<Made> {
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

    /// Two companies and their contacts that every demo has, with a deal in negotiation, a
    /// won and a lost deal, a call due today and an overdue task.
    async fn fixed_records(&self, tx: &mut Tx, made: &mut Made) -> Result<()> {
        if self.fixed == 0 {
            return Ok(());
        }
        let katrin = made.reps[0];
        let tobias = made.reps[1];
        let schaefer = company::create(
            tx,
            NewCompany {
                name: "Schäfer & Söhne GmbH".into(),
                website: Some("https://www.schaefer-soehne.de".into()),
                industry: Some("mechanical_engineering".into()),
                account_type: Some("customer".into()),
                vat_id: Some("DE812345673".into()),
                trade_register_number: Some("HRB 48213".into()),
                trade_register_court: Some("Amtsgericht Köln".into()),
                size: Some(CompanySize::Medium),
                billing_street: Some("Industriestraße 12a".into()),
                billing_postal_code: Some("50735".into()),
                billing_city: Some("Köln".into()),
                billing_country: Some("DE".into()),
                email: Some("info@schaefer-soehne.de".into()),
                phone: Some("+49 221 98765430".into()),
                tags: vec!["Key Account".into()],
                owners: vec![owner(katrin)],
                ..NewCompany::default()
            },
        )
        .await?;
        let juergen = contact::create(
            tx,
            NewContact {
                first_name: "Jürgen".into(),
                last_name: "Müller".into(),
                salutation: Some("Herr".into()),
                title: Some("Dr.".into()),
                job_title: Some("Einkaufsleiter".into()),
                department: Some("Einkauf".into()),
                source: ContactSource::Event,
                company_id: Some(schaefer.id),
                email: Some(FIXED_EMAILS[0].into()),
                phone: Some("+49 171 2345678".into()),
                phones: vec![NewContactPhone {
                    number: "+49 221 98765431".into(),
                    kind: PhoneKind::Office,
                    primary: false,
                }],
                city: Some("Köln".into()),
                tags: vec!["VIP".into(), "Messe 2026".into()],
                owners: vec![owner(katrin)],
                ..NewContact::default()
            },
        )
        .await?;
        made.seeded.companies += 1;
        made.seeded.contacts += 1;
        self.consent(tx, juergen.id, "Visitenkarte Messe EMO 2026")
            .await?;

        let rahmen = self
            .deal(
                tx,
                made,
                DealSpec {
                    title: "Rahmenvertrag 2027 – Schäfer & Söhne GmbH".into(),
                    value: Decimal::new(4_850_000, 2),
                    currency: "EUR",
                    partner: false,
                    stage: 3,
                    status: "open",
                    lost_reason: None,
                    close: Utc::now().date_naive() + TimeDelta::days(21),
                    contact: Some(juergen.id),
                    company: Some(schaefer.id),
                    rep: katrin,
                    index: 0,
                },
            )
            .await?;
        self.activity(
            tx,
            made,
            NewActivity {
                kind: ActivityType::Call,
                subject: "Rückruf wegen Rahmenvertrag".into(),
                body: Some("Konditionen für die Staffelpreise klären.".into()),
                due_at: today_at(14, 0),
                assignee_id: Some(katrin),
                contact_id: Some(juergen.id),
                company_id: Some(schaefer.id),
                deal_id: Some(rahmen),
            },
            false,
        )
        .await?;
        self.activity(
            tx,
            made,
            NewActivity {
                kind: ActivityType::Note,
                subject: "Gespräch auf der Messe".into(),
                body: Some("Interesse an zwei weiteren Fräszentren ab Q2.".into()),
                contact_id: Some(juergen.id),
                company_id: Some(schaefer.id),
                ..NewActivity::default()
            },
            true,
        )
        .await?;
        if self.fixed < 2 {
            return Ok(());
        }

        let zuercher = company::create(
            tx,
            NewCompany {
                name: "Zürcher Präzision AG".into(),
                website: Some("https://www.zuercher-praezision.ch".into()),
                industry: Some("manufacturing".into()),
                account_type: Some("supplier".into()),
                vat_id: Some("CHE-106.543.216 MWST".into()),
                trade_register_number: Some("CHE-106.543.216".into()),
                trade_register_court: Some("Handelsregisteramt des Kantons Zürich".into()),
                size: Some(CompanySize::Small),
                billing_street: Some("Badenerstrasse 141".into()),
                billing_postal_code: Some("8004".into()),
                billing_city: Some("Zürich".into()),
                billing_country: Some("CH".into()),
                email: Some("info@zuercher-praezision.ch".into()),
                phone: Some("+41 44 567 89 00".into()),
                owners: vec![owner(tobias)],
                ..NewCompany::default()
            },
        )
        .await?;
        company::relate(
            tx,
            zuercher.id,
            schaefer.id,
            "supplier_of",
            Some("Liefert Spindeln und Präzisionsteile".into()),
        )
        .await?;
        let lukas = contact::create(
            tx,
            NewContact {
                first_name: "Lukas".into(),
                last_name: "Brändli".into(),
                salutation: Some("Herr".into()),
                job_title: Some("Geschäftsführer".into()),
                department: Some("Geschäftsleitung".into()),
                source: ContactSource::Referral,
                company_id: Some(zuercher.id),
                email: Some(FIXED_EMAILS[1].into()),
                emails: vec![NewContactEmail {
                    email: "l.braendli@bluewin.ch".into(),
                    kind: EmailKind::Personal,
                    primary: false,
                }],
                phone: Some("+41 79 345 67 89".into()),
                city: Some("Zürich".into()),
                tags: vec!["Partner".into()],
                owners: vec![owner(tobias), watcher(katrin)],
                ..NewContact::default()
            },
        )
        .await?;
        made.seeded.companies += 1;
        made.seeded.contacts += 1;
        let won = self
            .deal(
                tx,
                made,
                DealSpec {
                    title: "Präzisionsteile Q1 – Zürcher Präzision AG".into(),
                    value: Decimal::new(12_500_000, 2),
                    currency: "CHF",
                    partner: false,
                    stage: 4,
                    status: "won",
                    lost_reason: None,
                    close: Utc::now().date_naive() - TimeDelta::days(12),
                    contact: Some(lukas.id),
                    company: Some(zuercher.id),
                    rep: tobias,
                    index: 1,
                },
            )
            .await?;
        self.deal(
            tx,
            made,
            DealSpec {
                title: "Wartungsvertrag Fräszentren".into(),
                value: Decimal::new(1_980_000, 2),
                currency: "CHF",
                partner: false,
                stage: 2,
                status: "lost",
                lost_reason: Some("competitor"),
                close: Utc::now().date_naive() - TimeDelta::days(30),
                contact: Some(lukas.id),
                company: Some(zuercher.id),
                rep: tobias,
                index: 0,
            },
        )
        .await?;
        self.deal(
            tx,
            made,
            DealSpec {
                title: "Vertriebspartnerschaft Schweiz".into(),
                value: Decimal::new(6_000_000, 2),
                currency: "CHF",
                partner: true,
                stage: 1,
                status: "open",
                lost_reason: None,
                close: Utc::now().date_naive() + TimeDelta::days(60),
                contact: Some(lukas.id),
                company: Some(zuercher.id),
                rep: tobias,
                index: 0,
            },
        )
        .await?;
        self.activity(
            tx,
            made,
            NewActivity {
                kind: ActivityType::Task,
                subject: "Lieferantenbewertung zusenden".into(),
                due_at: today_at(9, 0).map(|t| t - TimeDelta::days(3)),
                assignee_id: Some(tobias),
                contact_id: Some(lukas.id),
                company_id: Some(zuercher.id),
                deal_id: Some(won),
                ..NewActivity::default()
            },
            false,
        )
        .await?;
        Ok(())
    }

    /// The companies of the contacts created through the store.
    async fn companies(&self, tx: &mut Tx, made: &mut Made) -> Result<()> {
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
    async fn contacts(&self, tx: &mut Tx, made: &mut Made) -> Result<()> {
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
    async fn consent(&self, tx: &mut Tx, contact: ContactId, source: &str) -> Result<()> {
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
    async fn deals(&self, tx: &mut Tx, made: &mut Made) -> Result<()> {
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
    async fn deal(&self, tx: &mut Tx, made: &mut Made, spec: DealSpec) -> Result<DealId> {
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
    async fn activities(&self, tx: &mut Tx, made: &mut Made) -> Result<()> {
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

    async fn activity(
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
struct DealSpec {
    title: String,
    value: Decimal,
    currency: &'static str,
    /// In the partner pipeline (else sales).
    partner: bool,
    /// The stage's position.
    stage: usize,
    status: &'static str,
    lost_reason: Option<&'static str>,
    close: NaiveDate,
    contact: Option<ContactId>,
    company: Option<CompanyId>,
    rep: UserId,
    index: u64,
}

fn owner(user_id: UserId) -> Owner {
    Owner {
        user_id,
        role: OwnerRole::Owner,
    }
}

fn member(user_id: UserId) -> Owner {
    Owner {
        user_id,
        role: OwnerRole::Member,
    }
}

fn watcher(user_id: UserId) -> Owner {
    Owner {
        user_id,
        role: OwnerRole::Watcher,
    }
}

/// Today at `hour:minute` UTC.
fn today_at(hour: u32, minute: u32) -> Option<DateTime<Utc>> {
    NaiveTime::from_hms_opt(hour, minute, 0).map(|t| Utc::now().date_naive().and_time(t).and_utc())
}

/// A generated primary e-mail address, changed if a fixed contact has it.
fn unclash(email: &str) -> String {
    if FIXED_EMAILS.contains(&email) {
        email.replacen('@', ".2@", 1)
    } else {
        email.to_string()
    }
}

/// A direct line next to a company's switchboard number (`…0` → `…23`), if valid.
fn extension(switchboard: &str, index: u64) -> Option<String> {
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
fn new_company(c: &GenCompany, owners: Vec<Owner>) -> NewCompany {
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

// ---------------------------------------------------------------------------------------
// The bulk part: generated contacts as CSV, streamed into the import
// ---------------------------------------------------------------------------------------

const CSV_HEADER: &str = "first_name,last_name,salutation,title,job_title,department,email,\
                          mobile,company,vat_id,website,street,postal_code,city,country,tags,\
                          source\n";

/// The contacts of a range as CSV (with their companies' details, so the import creates
/// complete companies), generated as the reader asks for them.
struct CsvFeed<'g> {
    generator: &'g Generator,
    range: Range<u64>,
    contact: GenContact,
    company: GenCompany,
    has_company: bool,
    buf: Vec<u8>,
    pos: usize,
}

impl<'g> CsvFeed<'g> {
    fn new(generator: &'g Generator, range: Range<u64>) -> Self {
        Self {
            generator,
            range,
            contact: GenContact::default(),
            company: GenCompany::default(),
            has_company: false,
            buf: CSV_HEADER.as_bytes().to_vec(),
            pos: 0,
        }
    }

    /// Appends up to 256 rows; false at the end.
    fn refill(&mut self) -> bool {
        self.buf.clear();
        self.pos = 0;
        let end = self.range.end.min(self.range.start + 256);
        let mut rows = self.generator.contacts_in(self.range.start..end);
        while rows.next_into(&mut self.contact) {
            let c = &self.contact;
            if !self.has_company || self.company.index != c.company_index {
                self.company = self.generator.company(c.company_index);
                self.has_company = true;
            }
            let co = &self.company;
            let email = unclash(&c.email);
            let tags = c.tags.join("|");
            let fields: [&str; 17] = [
                c.first_name,
                &c.last_name,
                c.salutation.unwrap_or_default(),
                c.title.unwrap_or_default(),
                c.job_title,
                c.department,
                &email,
                &c.phone,
                &co.name,
                &co.vat_id,
                &co.website,
                &co.street,
                &co.postal_code,
                c.city,
                co.country,
                &tags,
                c.source,
            ];
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    self.buf.push(b',');
                }
                push_field(&mut self.buf, f);
            }
            self.buf.push(b'\n');
        }
        self.range.start = end;
        !self.buf.is_empty()
    }
}

impl Read for CsvFeed<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.buf.len() && !self.refill() {
            return Ok(0);
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Appends one CSV field, quoted when it holds a comma, a quote or a line break.
fn push_field(buf: &mut Vec<u8>, value: &str) {
    if !value.contains([',', '"', '\n', '\r']) {
        buf.extend_from_slice(value.as_bytes());
        return;
    }
    buf.push(b'"');
    for b in value.bytes() {
        if b == b'"' {
            buf.push(b'"');
        }
        buf.push(b);
    }
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_core::domain::VatId;

    #[test]
    fn the_fixed_vat_ids_and_numbers_are_valid() {
        assert!(VatId::parse("DE812345673").is_ok());
        assert!(VatId::parse("CHE-106.543.216 MWST").is_ok());
        for (n, r) in [
            ("+49 221 98765430", "DE"),
            ("+49 221 98765431", "DE"),
            ("+49 171 2345678", "DE"),
            ("+41 44 567 89 00", "CH"),
            ("+41 79 345 67 89", "CH"),
        ] {
            assert!(Phone::parse(n, r).is_ok(), "{n}");
        }
    }

    #[test]
    fn the_csv_feed_streams_every_row_of_its_range_once() {
        let generator = Generator::new(7, 1_000);
        let mut text = String::new();
        CsvFeed::new(&generator, 100..700)
            .read_to_string(&mut text)
            .unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 600);
        let first = generator.contact(100);
        assert_eq!(&rows[0][6], first.email);
        assert_eq!(&rows[0][8], first.company_name);
        assert_eq!(&rows[599][6], generator.contact(699).email);
        assert!(rows.iter().all(|r| r.len() == 17));
    }

    #[test]
    fn a_generated_address_never_takes_a_fixed_one() {
        assert_eq!(
            unclash("juergen.mueller@schaefer-soehne.de"),
            "juergen.mueller.2@schaefer-soehne.de"
        );
        assert_eq!(unclash("anna@x.de"), "anna@x.de");
    }
}
