//! The fixed records: the same in every demo (and what the documentation's examples use).

use chrono::{TimeDelta, Utc};
use rust_decimal::Decimal;

use crm_core::domain::{ActivityType, CompanySize, ContactSource, EmailKind, PhoneKind, UserRole};
use crm_core::error::Result;
use crm_core::ids::{CompanyId, UserId};
use crm_core::store::activity::NewActivity;
use crm_core::store::company::{self, NewCompany};
use crm_core::store::contact::{self, NewContact, NewContactEmail, NewContactPhone};
use crm_core::tenancy::Tx;

use super::store::{DealSpec, Made, Plan, owner, today_at, watcher};

/// How many fixed contacts come first.
pub(super) const FIXED_CONTACTS: usize = 2;

/// Primary e-mail addresses of the fixed contacts; a generated contact that happens to have
/// one of them gets another.
pub(super) const FIXED_EMAILS: &[&str] = &[
    "juergen.mueller@schaefer-soehne.de",
    "lukas.braendli@zuercher-praezision.ch",
];

/// The sales team: (first name, last name, e-mail, role).
pub(super) const TEAM: &[(&str, &str, &str, UserRole)] = &[
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
pub(super) fn lost_text(reason: &str, index: u64) -> Option<String> {
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

impl Plan<'_> {
    /// Two companies and their contacts that every demo has, with a deal in negotiation, a
    /// won and a lost deal, a call due today and an overdue task.
    pub(super) async fn fixed_records(&self, tx: &mut Tx, made: &mut Made) -> Result<()> {
        if self.fixed == 0 {
            return Ok(());
        }
        let katrin = made.reps[0];
        let schaefer = company::create(tx, schaefer_company(katrin)).await?;
        let juergen = contact::create(tx, juergen(schaefer.id, katrin)).await?;
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
        self.fixed_zurich(tx, made, schaefer.id).await
    }

    /// The Swiss supplier of the first company, its managing director with a won, a lost and
    /// a partner deal, and an overdue task.
    async fn fixed_zurich(&self, tx: &mut Tx, made: &mut Made, schaefer: CompanyId) -> Result<()> {
        let katrin = made.reps[0];
        let tobias = made.reps[1];

        let zuercher = company::create(tx, zuercher_company(tobias)).await?;
        company::relate(
            tx,
            zuercher.id,
            schaefer,
            "supplier_of",
            Some("Liefert Spindeln und Präzisionsteile".into()),
        )
        .await?;
        let lukas = contact::create(tx, lukas(zuercher.id, tobias, katrin)).await?;
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
}

/// The machine builder in Cologne, a key account.
fn schaefer_company(rep: UserId) -> NewCompany {
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
        owners: vec![owner(rep)],
        ..NewCompany::default()
    }
}

/// Its head of purchasing, met at a trade fair.
fn juergen(company: CompanyId, rep: UserId) -> NewContact {
    NewContact {
        first_name: "Jürgen".into(),
        last_name: "Müller".into(),
        salutation: Some("Herr".into()),
        title: Some("Dr.".into()),
        job_title: Some("Einkaufsleiter".into()),
        department: Some("Einkauf".into()),
        source: ContactSource::Event,
        company_id: Some(company),
        email: Some(FIXED_EMAILS[0].into()),
        phone: Some("+49 171 2345678".into()),
        phones: vec![NewContactPhone {
            number: "+49 221 98765431".into(),
            kind: PhoneKind::Office,
            primary: false,
        }],
        city: Some("Köln".into()),
        tags: vec!["VIP".into(), "Messe 2026".into()],
        owners: vec![owner(rep)],
        ..NewContact::default()
    }
}

/// The Swiss supplier of the machine builder.
fn zuercher_company(rep: UserId) -> NewCompany {
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
        owners: vec![owner(rep)],
        ..NewCompany::default()
    }
}

/// Its managing director, with a private address beside the business one.
fn lukas(company: CompanyId, rep: UserId, watcher_id: UserId) -> NewContact {
    NewContact {
        first_name: "Lukas".into(),
        last_name: "Brändli".into(),
        salutation: Some("Herr".into()),
        job_title: Some("Geschäftsführer".into()),
        department: Some("Geschäftsleitung".into()),
        source: ContactSource::Referral,
        company_id: Some(company),
        email: Some(FIXED_EMAILS[1].into()),
        emails: vec![NewContactEmail {
            email: "l.braendli@bluewin.ch".into(),
            kind: EmailKind::Personal,
            primary: false,
        }],
        phone: Some("+41 79 345 67 89".into()),
        city: Some("Zürich".into()),
        tags: vec!["Partner".into()],
        owners: vec![owner(rep), watcher(watcher_id)],
        ..NewContact::default()
    }
}
