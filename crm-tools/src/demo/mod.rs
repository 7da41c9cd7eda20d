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

use chrono::Utc;

use crate::generate::{BASE_DATE, Generator};
use crm_core::error::{Error, Result};
use crm_core::import::ImportOptions;
use crm_core::import::contacts::import_contacts;
use crm_core::tenancy::Scope;

mod feed;
mod fixed;
mod store;

use feed::CsvFeed;
use fixed::FIXED_CONTACTS;
use store::Plan;

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

#[cfg(test)]
mod tests {
    use std::io::Read;

    use crm_core::domain::Phone;

    use super::store::unclash;
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
