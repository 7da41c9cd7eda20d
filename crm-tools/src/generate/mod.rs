//! Deterministic, realistic B2B test data for Germany, Austria and Switzerland: companies,
//! contacts, deals and activities, from 1,000 to 10,000,000 contacts.
//!
//! Everything is a pure function of the seed and the row's index: row `i` is the same whether
//! it is generated alone ([`Generator::contact`]), as part of the whole stream
//! ([`Generator::contacts`]) or of a range ([`Generator::contacts_in`]), so ranges can be
//! generated in parallel and any row reproduced. Nothing is held in memory beyond the row
//! being built; the iterators reuse their buffers, and [`Contacts::next_into`] fills a row the
//! caller keeps, without allocating once its strings have grown.
//!
//! The data is meant to look real to a German-speaking user and to exercise the CRM:
//! umlauts and `ß` in names (Swiss spelling `ss` in Switzerland), French names and
//! `Sàrl`/`SA` in the Romandie, double names, titles, e-mail addresses unique across the whole
//! data set, valid VAT ids (with correct check digits), phone numbers valid for their country,
//! real cities with their postal code ranges, area codes and register courts.
//!
//! ```
//! use crm_tools::generate::Generator;
//!
//! let generator = Generator::new(42, 1_000);
//! assert_eq!(generator.company_count(), 125);
//! let first = generator.contacts().next().unwrap();
//! assert_eq!(first, generator.contact(0));
//! assert!(first.email.ends_with(&generator.company(first.company_index).domain));
//! ```
//!
//! Dates are spread around the fixed [`BASE_DATE`] (2026-11-01), not around today, so the
//! output never changes.

use std::io::{self, Write};
use std::ops::Range;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};
use rust_decimal::Decimal;

mod company;
mod contact;
mod csv;
mod data;
mod deal;
mod duplicates;
mod iter;
mod layout;
mod rng;
mod text;

use company::{PATTERNS, pattern_size};
use contact::{CompanyCache, ContactCtx};
pub use csv::{
    CsvHeader, write_companies_csv, write_companies_csv_with, write_contacts_csv,
    write_contacts_csv_with, write_truth_csv,
};
use data::{City, Country};
pub use duplicates::{Duplicates, PlantedCompany, PlantedContact, TruthPair, Variant};
pub use iter::{Activities, Companies, Contacts, Deals};
use layout::LayoutCache;
use rng::Perm;

/// The fixed "today" of the generated data: deal close dates and activity due dates are
/// spread over a year either side of it.
pub const BASE_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2026, 11, 1) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

/// Contacts per layout group; each full group holds [`GROUP_COMPANIES`] companies.
const GROUP_CONTACTS: u64 = 64;
/// Companies per full layout group: on average eight contacts per company.
const GROUP_COMPANIES: u64 = 8;
/// The most companies a group can hold (the last one takes the remainder, up to 15).
const MAX_GROUP_COMPANIES: usize = 16;

// Independent random streams, one per kind of row or decision.
const STREAM_COMPANY: u64 = 1;
const STREAM_CONTACT: u64 = 2;
const STREAM_DEAL: u64 = 3;
const STREAM_ACTIVITY: u64 = 4;
const STREAM_LAYOUT: u64 = 5;
const STREAM_NAME_PERM: u64 = 6;
const STREAM_VAT_PERM: u64 = 7;
const STREAM_PATTERN_PERM: u64 = 8;

// ---------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------

/// A generated company.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GenCompany {
    /// The row's index, `0..company_count()`.
    pub index: u64,
    /// The full name including the legal form, e.g. `Nordlicht Logistik GmbH`.
    pub name: String,
    /// The legal form at the end of the name: `GmbH`, `AG`, `GmbH & Co. KG`, `e.K.`, `SE`,
    /// `OHG`, `KG`, `UG (haftungsbeschränkt)`; in Austria also `OG`, `e.U.`; in Switzerland
    /// `AG`, `GmbH`, and in the Romandie `SA`, `Sàrl`.
    pub legal_form: &'static str,
    /// The web domain, unique across the data set, e.g. `nordlicht-logistik.de`.
    pub domain: String,
    /// `https://www.` and the domain.
    pub website: String,
    /// A valid VAT id, unique across the data set: `DE` + 9 digits (ISO 7064 MOD 11,10 check
    /// digit), `ATU` + 8 digits (with the Austrian check digit), or `CHE-123.456.789 MWST`
    /// (`TVA` in the Romandie) with the Swiss mod-11 check digit.
    pub vat_id: String,
    /// The industry key of the default list (`software`, `manufacturing`, …, `other`).
    pub industry_key: &'static str,
    /// `micro`, `small`, `medium` or `large`.
    pub size: &'static str,
    /// Street and house number, e.g. `Industriestraße 12a` (`Bahnhofstrasse 5` in Switzerland).
    pub street: String,
    /// Five digits in Germany, four in Austria and Switzerland, within the city's range.
    pub postal_code: String,
    /// The city.
    pub city: &'static str,
    /// `DE`, `AT` or `CH` (about 70 / 15 / 15 per cent).
    pub country: &'static str,
    /// The office number in E.164 form with the city's area code, e.g. `+49891234560`.
    pub phone: String,
    /// The register number: `HRB 12345` / `HRA 1234` in Germany (`HRB 123456 B` in Berlin),
    /// `FN 123456 a` in Austria, the UID `CHE-123.456.789` in Switzerland.
    pub trade_register: String,
    /// The court keeping the register, e.g. `Amtsgericht München`, `Handelsgericht Wien`,
    /// `Handelsregisteramt des Kantons Zürich`.
    pub register_court: &'static str,
}

/// A generated contact, working at company `company_index`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GenContact {
    /// The row's index, `0..contact_count()`.
    pub index: u64,
    /// The first name.
    pub first_name: &'static str,
    /// The last name; about 5 % are double names such as `Müller-Lüdtke`.
    pub last_name: String,
    /// `Herr`, `Frau`, or none (about 6 %).
    pub salutation: Option<&'static str>,
    /// An academic title, mostly none: `Dr.`, `Prof. Dr.`; in Austria also `Mag.`, `Ing.`, `DI`.
    pub title: Option<&'static str>,
    /// The business address at the company's domain, ASCII and lower case, unique across the
    /// data set: `anna.mueller@…`, `a.mueller@…`, with a number when a colleague already has
    /// the same address (`anna.mueller2@…`).
    pub email: String,
    /// A mobile number in E.164 form (`+49151…`, `+43664…`, `+4179…`).
    pub phone: String,
    /// The job title, in the contact's gender (`Einkaufsleiterin`, `Vertriebsleiter`).
    pub job_title: &'static str,
    /// The department, e.g. `Einkauf`.
    pub department: &'static str,
    /// The city: usually the company's, sometimes another one in the same country.
    pub city: &'static str,
    /// The company's index.
    pub company_index: u64,
    /// The company's name (as in [`GenCompany::name`]).
    pub company_name: String,
    /// Zero to three distinct tags out of `Newsletter`, `VIP`, `Messe 2026`, `Partner`,
    /// `Bestandskunde`, `Interessent`.
    pub tags: Vec<&'static str>,
    /// The source key: `website`, `referral`, `event`, `cold_outreach`, `partner` or `other`.
    pub source: &'static str,
}

/// A generated deal with one contact of one company.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GenDeal {
    /// The row's index, `0..deal_count()`.
    pub index: u64,
    /// The company of the contact.
    pub company_index: u64,
    /// The contact the deal is with.
    pub contact_index: u64,
    /// A German title, e.g. `Rahmenvertrag 2027 – Nordlicht Logistik GmbH`.
    pub title: String,
    /// Between 1,000.00 and 500,000.00, two decimals, skewed towards small deals.
    pub value: Decimal,
    /// `CHF` for Swiss companies, `EUR` otherwise.
    pub currency: &'static str,
    /// The stage in the default pipeline, `0..5`; won deals are in the last stage.
    pub stage_index: u32,
    /// `open` (about 70 %), `won` or `lost`.
    pub status: &'static str,
    /// For lost deals the key of the default lost reason (`price`, `competitor`, `no_budget`,
    /// `no_decision`, `timing`, `product_fit`, `unresponsive`, `other`); none otherwise.
    pub lost_reason_key: Option<&'static str>,
    /// Within a year of [`BASE_DATE`]: mostly ahead for open deals (some overdue), in the past
    /// for closed ones, and never before the deal was created.
    pub expected_close_date: NaiveDate,
    /// How many days before [`BASE_DATE`] the deal was created.
    pub created_days_ago: u32,
}

/// A generated activity with a contact, sometimes about one of the contact's deals.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GenActivity {
    /// The row's index, `0..activity_count(per_contact)`.
    pub index: u64,
    /// `note`, `call`, `email`, `meeting`, `task` or `followup`.
    pub kind: &'static str,
    /// A German subject, e.g. `Angebot nachfassen`.
    pub subject: &'static str,
    /// The contact.
    pub contact_index: u64,
    /// The contact's company.
    pub company_index: u64,
    /// The deal, for about a third of the activities; its contact is `contact_index`.
    pub deal_index: Option<u64>,
    /// When it is due: none for notes and most e-mails; otherwise within a year of
    /// [`BASE_DATE`], between 08:00 and 18:45 UTC, some on the base date itself.
    pub due_at: Option<DateTime<Utc>>,
    /// Whether it is done: notes and undated e-mails are; most overdue ones are; few future
    /// ones are.
    pub done: bool,
}

// ---------------------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------------------

/// The generator: a seed and a size. Cheap to create and to share between threads.
#[derive(Debug, Clone)]
pub struct Generator {
    seed: u64,
    contacts: u64,
    companies: u64,
    groups: u64,
    deals: u64,
    name_perm: Perm,
    vat_perm: Perm,
    pattern_perms: [Perm; PATTERNS],
}

impl Generator {
    /// A generator of `contacts` contacts, `contacts / 8` companies (at least one), about one
    /// deal per four contacts, all determined by `seed`.
    ///
    /// Contacts are laid out in groups of 64 over 8 companies of varying size (one to a few dozen
    /// contacts each); the last group takes the remainder, so the company count is exactly
    /// `max(1, contacts / 8)` and every company has a contact when there are at least 8.
    pub fn new(seed: u64, contacts: u64) -> Self {
        let companies = (contacts / GROUP_COMPANIES).max(1);
        let pattern_perms = std::array::from_fn(|p| {
            Perm::new(pattern_size(p), seed, STREAM_PATTERN_PERM + p as u64)
        });
        Self {
            seed,
            contacts,
            companies,
            groups: (contacts / GROUP_CONTACTS).max(1),
            deals: if contacts == 0 {
                0
            } else {
                (contacts / 4).max(1)
            },
            name_perm: Perm::new(companies, seed, STREAM_NAME_PERM),
            vat_perm: Perm::new(companies, seed, STREAM_VAT_PERM),
            pattern_perms,
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How many contacts there are.
    pub fn contact_count(&self) -> u64 {
        self.contacts
    }

    /// How many companies there are: `max(1, contacts / 8)`.
    pub fn company_count(&self) -> u64 {
        self.companies
    }

    /// How many deals there are: `contacts / 4` (at least one if there are contacts).
    pub fn deal_count(&self) -> u64 {
        self.deals
    }

    /// How many activities [`Generator::activities`] yields: `contacts * per_contact`.
    pub fn activity_count(&self, per_contact: u32) -> u64 {
        self.contacts.saturating_mul(u64::from(per_contact))
    }

    /// The company contact `contact` works at.
    pub fn contact_company(&self, contact: u64) -> u64 {
        self.contact_slot(contact, &mut LayoutCache::default())
            .company
    }

    /// The contacts of company `company`: a range of contact indices (empty only when there
    /// are fewer contacts than companies).
    pub fn company_contacts(&self, company: u64) -> Range<u64> {
        if company >= self.companies {
            return self.contacts..self.contacts;
        }
        let g = (company / GROUP_COMPANIES).min(self.groups - 1);
        let j = (company - g * GROUP_COMPANIES) as usize;
        let shape = self.shape(g);
        let before: u64 = shape.counts[..j].iter().map(|&n| u64::from(n)).sum();
        let first = g * GROUP_CONTACTS + before;
        first..first + u64::from(shape.counts.get(j).copied().unwrap_or(0))
    }

    /// Company `index` (`0..company_count()`).
    pub fn company(&self, index: u64) -> GenCompany {
        let mut out = GenCompany::default();
        self.fill_company(index, &mut out);
        out
    }

    /// Contact `index` (`0..contact_count()`).
    pub fn contact(&self, index: u64) -> GenContact {
        let mut out = GenContact::default();
        self.fill_contact(index, &mut ContactCtx::default(), &mut out);
        out
    }

    /// Deal `index` (`0..deal_count()`).
    pub fn deal(&self, index: u64) -> GenDeal {
        let mut out = GenDeal::default();
        self.fill_deal(index, &mut CompanyCache::default(), &mut out);
        out
    }

    /// Activity `index`. A row does not depend on the number of activities per contact, only
    /// the count does (`0..activity_count(per_contact)`): the activities of a smaller data set
    /// are a prefix of those of a larger one.
    pub fn activity(&self, index: u64) -> GenActivity {
        let mut out = GenActivity::default();
        self.fill_activity(index, &mut LayoutCache::default(), &mut out);
        out
    }

    /// All companies, in index order.
    pub fn companies(&self) -> Companies<'_> {
        self.companies_in(0..self.companies)
    }

    /// The companies with indices in `range` (clipped to the company count).
    pub fn companies_in(&self, range: Range<u64>) -> Companies<'_> {
        let (next, end) = clip(range, self.companies);
        Companies {
            generator: self,
            next,
            end,
        }
    }

    /// All contacts, in index order (which groups them by company).
    pub fn contacts(&self) -> Contacts<'_> {
        self.contacts_in(0..self.contacts)
    }

    /// The contacts with indices in `range` (clipped to the contact count).
    pub fn contacts_in(&self, range: Range<u64>) -> Contacts<'_> {
        let (next, end) = clip(range, self.contacts);
        Contacts {
            generator: self,
            next,
            end,
            ctx: ContactCtx::default(),
        }
    }

    /// All deals, in index order.
    pub fn deals(&self) -> Deals<'_> {
        self.deals_in(0..self.deals)
    }

    /// The deals with indices in `range` (clipped to the deal count).
    pub fn deals_in(&self, range: Range<u64>) -> Deals<'_> {
        let (next, end) = clip(range, self.deals);
        Deals {
            generator: self,
            next,
            end,
            cache: CompanyCache::default(),
        }
    }

    /// All activities, `per_contact` per contact on average (some contacts have none, some
    /// many), in index order.
    pub fn activities(&self, per_contact: u32) -> Activities<'_> {
        self.activities_in(per_contact, 0..self.activity_count(per_contact))
    }

    /// The activities with indices in `range` (clipped to the activity count).
    pub fn activities_in(&self, per_contact: u32, range: Range<u64>) -> Activities<'_> {
        let (next, end) = clip(range, self.activity_count(per_contact));
        Activities {
            generator: self,
            next,
            end,
            layout: LayoutCache::default(),
        }
    }
}

fn clip(range: Range<u64>, count: u64) -> (u64, u64) {
    let end = range.end.min(count);
    (range.start.min(end), end)
}

#[cfg(test)]
mod tests;
