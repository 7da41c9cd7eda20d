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

mod data;

use data::{City, Country};

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

// ---------------------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------------------

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finalizer: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64, seeded per row from (seed, stream, index).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64, index: u64) -> Self {
        let base = mix(seed ^ stream.wrapping_mul(GOLDEN));
        Self(mix(
            base.wrapping_add(index.wrapping_mul(0xD1B5_4A32_D192_ED03))
        ))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// A number in `0..n` (0 when `n` is 0), by multiply-shift.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.index(items.len())]
    }

    /// An index skewed towards the front: the first entries are picked most often.
    fn front_index(&mut self, len: usize) -> usize {
        let a = self.index(len);
        let b = self.index(len);
        a.min(b)
    }

    fn weighted<'a, T>(&mut self, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
        let total: u64 = items.iter().map(|t| u64::from(weight(t))).sum();
        let mut roll = self.below(total);
        for item in items {
            let w = u64::from(weight(item));
            if roll < w {
                return item;
            }
            roll -= w;
        }
        &items[items.len() - 1]
    }

    fn weighted_key<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        self.weighted(items, |&(_, w)| w).0
    }

    /// Pushes `n` random decimal digits, the first one at least `first_min`.
    fn push_digits(&mut self, out: &mut String, n: u32, first_min: u64) {
        for i in 0..n {
            let d = if i == 0 {
                first_min + self.below(10 - first_min)
            } else {
                self.below(10)
            };
            out.push(char::from(b'0' + d as u8));
        }
    }
}

/// A keyed bijection of `0..size` (a four-round Feistel network with cycle walking), used to
/// hand out names and VAT numbers without repeats.
#[derive(Debug, Clone)]
struct Perm {
    size: u64,
    half: u32,
    mask: u64,
    keys: [u64; 4],
}

impl Perm {
    fn new(size: u64, seed: u64, stream: u64) -> Self {
        let bits = (64 - size.saturating_sub(1).leading_zeros()).max(2);
        let half = bits.div_ceil(2);
        let mut rng = Rng::new(seed, stream, 0);
        Self {
            size,
            half,
            mask: (1u64 << half) - 1,
            keys: [rng.next(), rng.next(), rng.next(), rng.next()],
        }
    }

    fn round(&self, x: u64) -> u64 {
        let (mut left, mut right) = (x >> self.half, x & self.mask);
        for key in self.keys {
            let f = mix(right ^ key) & self.mask;
            (left, right) = (right, left ^ f);
        }
        (left << self.half) | right
    }

    fn apply(&self, x: u64) -> u64 {
        let mut y = self.round(x);
        while y >= self.size {
            y = self.round(y);
        }
        y
    }
}

// ---------------------------------------------------------------------------------------
// Layout: which contacts belong to which company
// ---------------------------------------------------------------------------------------

/// How the contacts of one group are split over its companies.
#[derive(Debug, Clone, Copy, Default)]
struct Shape {
    counts: [u32; MAX_GROUP_COMPANIES],
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    company: u64,
    /// The company's first contact.
    first: u64,
    /// The contact's position among the company's contacts.
    k: u32,
}

#[derive(Debug, Clone, Default)]
struct LayoutCache {
    group: Option<u64>,
    shape: Shape,
}

impl Generator {
    fn shape(&self, g: u64) -> Shape {
        let last = g + 1 >= self.groups;
        let n = if last {
            self.contacts - g * GROUP_CONTACTS
        } else {
            GROUP_CONTACTS
        };
        let m = if last {
            self.companies - g * GROUP_COMPANIES
        } else {
            GROUP_COMPANIES
        } as usize;
        let mut shape = Shape::default();
        if n < m as u64 {
            for count in shape.counts.iter_mut().take(n as usize) {
                *count = 1;
            }
            return shape;
        }
        // Log-uniform weights from 1 to 127: a few large companies, many small ones.
        let mut rng = Rng::new(self.seed, STREAM_LAYOUT, g);
        let mut weights = [0u64; MAX_GROUP_COMPANIES];
        for w in weights.iter_mut().take(m) {
            let e = rng.below(7);
            *w = (1 << e) + rng.below(1 << e);
        }
        let total: u64 = weights.iter().sum();
        let rest = n - m as u64;
        let mut given = 0;
        for (count, w) in shape.counts.iter_mut().zip(weights).take(m) {
            let extra = rest * w / total;
            *count = 1 + extra as u32;
            given += extra;
        }
        for j in 0..(rest - given) as usize {
            shape.counts[j % m] += 1;
        }
        shape
    }

    fn contact_slot(&self, i: u64, cache: &mut LayoutCache) -> Slot {
        let g = (i / GROUP_CONTACTS).min(self.groups - 1);
        if cache.group != Some(g) {
            cache.shape = self.shape(g);
            cache.group = Some(g);
        }
        let mut first = g * GROUP_CONTACTS;
        let offset = i - first;
        let mut start = 0;
        for (j, &count) in cache.shape.counts.iter().enumerate() {
            let count = u64::from(count);
            if offset < start + count {
                return Slot {
                    company: g * GROUP_COMPANIES + j as u64,
                    first,
                    k: (offset - start) as u32,
                };
            }
            start += count;
            first += count;
        }
        // Unreachable for i < contacts; keeps the function total.
        Slot {
            company: g * GROUP_COMPANIES,
            first: g * GROUP_CONTACTS,
            k: 0,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Companies
// ---------------------------------------------------------------------------------------

/// What a contact needs to know of its company besides its strings.
#[derive(Debug, Clone, Copy)]
struct Traits {
    country: Country,
    city: &'static City,
    /// 0 `anna.mueller`, 1 `a.mueller`, 2 `anna`, 3 `annamueller`.
    email_format: u8,
}

impl Default for Traits {
    fn default() -> Self {
        Self {
            country: Country::De,
            city: &data::CITIES_DE[0],
            email_format: 0,
        }
    }
}

/// Company name patterns; each of the ten slots of a block of ten companies has one.
const PATTERNS: usize = 5;
/// `Stem Sector`, `Surname Sector`, `Surname & Surname`, family names, `Stem English`.
const SLOTS: [usize; 10] = [0, 0, 0, 0, 1, 1, 1, 2, 3, 4];

/// How many distinct base names pattern `p` has.
fn pattern_size(p: usize) -> u64 {
    let stems = data::STEMS.len() as u64;
    let sectors = data::SECTORS.len() as u64;
    let surnames = data::LAST_DE.len() as u64;
    let pairs = surnames * (surnames - 1);
    match p {
        0 => stems * sectors,
        1 => surnames * sectors,
        2 => pairs,
        3 => surnames * data::FAMILY.len() as u64 + pairs,
        _ => stems * data::ENGLISH.len() as u64,
    }
}

/// The two different surnames of pair `r` (`0..n * (n - 1)`).
fn surname_pair(r: u64) -> (&'static str, &'static str) {
    let n = data::LAST_DE.len() as u64;
    let a = r % n;
    let mut b = r / n;
    if b >= a {
        b += 1;
    }
    (data::LAST_DE[a as usize], data::LAST_DE[b as usize])
}

/// Writes base name `r` of pattern `p` into `out` and returns its industry, if the name
/// says it.
fn base_name(p: usize, r: u64, french: bool, out: &mut String) -> Option<&'static str> {
    let sectors = data::SECTORS.len() as u64;
    let sector = |i: u64| {
        let (de, fr, key) = data::SECTORS[i as usize];
        (if french { fr } else { de }, key)
    };
    match p {
        0 => {
            let (word, key) = sector(r / data::STEMS.len() as u64);
            out.push_str(data::STEMS[(r % data::STEMS.len() as u64) as usize]);
            out.push(' ');
            out.push_str(word);
            Some(key)
        }
        1 => {
            let (word, key) = sector(r % sectors);
            out.push_str(data::LAST_DE[(r / sectors) as usize]);
            out.push(' ');
            out.push_str(word);
            Some(key)
        }
        2 => {
            let (a, b) = surname_pair(r);
            out.push_str(a);
            out.push_str(" & ");
            out.push_str(b);
            None
        }
        3 => {
            let n = data::LAST_DE.len() as u64;
            let family = n * data::FAMILY.len() as u64;
            if r < family {
                out.push_str(data::LAST_DE[(r % n) as usize]);
                out.push_str(" & ");
                out.push_str(data::FAMILY[(r / n) as usize]);
            } else {
                let (a, b) = surname_pair(r - family);
                out.push_str(a);
                out.push_str(", ");
                out.push_str(b);
                out.push_str(" & Partner");
            }
            None
        }
        _ => {
            let stems = data::STEMS.len() as u64;
            let (word, key) = data::ENGLISH[(r / stems) as usize];
            out.push_str(data::STEMS[(r % stems) as usize]);
            out.push(' ');
            out.push_str(word);
            Some(key)
        }
    }
}

impl Generator {
    fn company_traits(&self, c: u64) -> (Traits, Rng) {
        let mut rng = Rng::new(self.seed, STREAM_COMPANY, c);
        let country = match rng.below(100) {
            0..70 => Country::De,
            70..85 => Country::At,
            _ => Country::Ch,
        };
        let city = rng.weighted(country.cities(), |city| city.weight);
        let email_format = rng.weighted_key(&[(0u8, 70), (1, 18), (2, 4), (3, 8)]);
        let traits = Traits {
            country,
            city,
            email_format,
        };
        (traits, rng)
    }

    fn fill_company(&self, c: u64, out: &mut GenCompany) -> Traits {
        let (traits, mut rng) = self.company_traits(c);
        let Traits { country, city, .. } = traits;
        out.index = c;
        out.city = city.name;
        out.country = country.code();
        out.register_court = city.court;

        // Name and domain: a bijection of the index onto (pattern, base name, round) keeps
        // domains unique; a repeated base name gets a region word, later a number.
        let p = self.name_perm.apply(c);
        let slot = (p % 10) as usize;
        let pattern = SLOTS[slot];
        let per_block = SLOTS.iter().filter(|&&s| s == pattern).count() as u64;
        let rank = SLOTS[..slot].iter().filter(|&&s| s == pattern).count() as u64;
        let q = p / 10 * per_block + rank;
        let size = pattern_size(pattern);
        let round = q / size;
        let r = self.pattern_perms[pattern].apply(q % size);
        out.name.clear();
        let industry = base_name(pattern, r, city.french, &mut out.name);
        out.domain.clear();
        slug_into(&out.name, &mut out.domain);
        if round > 0 {
            out.domain.push('-');
            match data::REGIONS.get(round as usize - 1) {
                Some(region) => {
                    out.name.push(' ');
                    out.name.push_str(region);
                    slug_into(region, &mut out.domain);
                }
                None => push_u64(&mut out.domain, round),
            }
        }
        let forms = match (country, city.french) {
            (Country::De, _) if pattern >= 2 => data::FORMS_DE_FAMILY,
            (Country::De, _) => data::FORMS_DE,
            (Country::At, _) => data::FORMS_AT,
            (Country::Ch, false) => data::FORMS_CH,
            (Country::Ch, true) => data::FORMS_CH_FR,
        };
        let &(form, _, register) = rng.weighted(forms, |f| f.1);
        out.legal_form = form;
        out.name.push(' ');
        out.name.push_str(form);
        let tld = match (country, rng.chance(120)) {
            (_, true) => ".com",
            (Country::De, false) => ".de",
            (Country::At, false) => ".at",
            (Country::Ch, false) => ".ch",
        };
        out.domain.push_str(tld);
        out.website.clear();
        out.website.push_str("https://www.");
        out.website.push_str(&out.domain);

        out.industry_key = industry.unwrap_or_else(|| rng.weighted_key(data::INDUSTRIES));
        let sizes: [(&str, u32); 4] = match form {
            "AG" | "SE" | "SA" => [("micro", 5), ("small", 25), ("medium", 40), ("large", 30)],
            "e.K." | "e.U." | "OHG" | "OG" | "UG (haftungsbeschränkt)" => {
                [("micro", 60), ("small", 35), ("medium", 5), ("large", 0)]
            }
            _ => [("micro", 30), ("small", 38), ("medium", 22), ("large", 10)],
        };
        out.size = rng.weighted_key(&sizes);

        self.vat_id(c, country, city.french, &mut rng, out);

        let streets = match (country, city.french) {
            (Country::De, _) => data::STREETS_DE,
            (Country::At, _) => data::STREETS_AT,
            (Country::Ch, false) => data::STREETS_CH,
            (Country::Ch, true) => data::STREETS_FR,
        };
        out.street.clear();
        out.street.push_str(rng.pick(streets));
        out.street.push(' ');
        push_u64(&mut out.street, 1 + rng.front_index(180) as u64);
        if rng.chance(80) {
            out.street.push(rng.pick(&['a', 'b', 'c']));
        }
        out.postal_code.clear();
        let (lo, hi) = city.plz;
        let width = if country == Country::De { 5 } else { 4 };
        push_padded(
            &mut out.postal_code,
            lo + rng.below(u64::from(hi - lo) + 1) as u32,
            width,
        );

        out.phone.clear();
        push_office_phone(&mut out.phone, country, city, &mut rng);

        out.trade_register.clear();
        match country {
            Country::De => {
                let range = 2_000 + u64::from(city.weight) * 800;
                let range = if register == "HRA" { range / 4 } else { range };
                out.trade_register.push_str(register);
                out.trade_register.push(' ');
                push_u64(&mut out.trade_register, 100 + rng.below(range));
                if city.court == "Amtsgericht Charlottenburg" {
                    out.trade_register.push_str(" B");
                }
            }
            Country::At => {
                out.trade_register.push_str("FN ");
                push_u64(&mut out.trade_register, 10_000 + rng.below(590_000));
                out.trade_register.push(' ');
                out.trade_register.push(rng.pick(&[
                    'a', 'b', 'd', 'f', 'g', 'h', 'i', 'k', 'm', 'p', 's', 't', 'v', 'w', 'x', 'y',
                    'z',
                ]));
            }
            Country::Ch => {
                // The Swiss register number is the UID: the VAT id without the tax suffix.
                let uid = out.vat_id.split(' ').next().unwrap_or_default();
                out.trade_register.push_str(uid);
            }
        }
        traits
    }

    /// Writes a valid VAT id, unique across the data set (the index goes through a
    /// bijection onto the number space of the country).
    fn vat_id(&self, c: u64, country: Country, french: bool, rng: &mut Rng, out: &mut GenCompany) {
        let v = self.vat_perm.apply(c);
        let vat = &mut out.vat_id;
        vat.clear();
        match country {
            Country::De => {
                let body = spread(v, self.companies, 10_000_000, 100_000_000);
                vat.push_str("DE");
                push_u64(vat, body);
                push_u64(vat, u64::from(de_check_digit(body)));
            }
            Country::At => {
                let body = spread(v, self.companies, 1_000_000, 10_000_000);
                vat.push_str("ATU");
                push_u64(vat, body);
                push_u64(vat, u64::from(at_check_digit(body)));
            }
            Country::Ch => {
                let head = spread(v, self.companies, 1_000_000, 10_000_000);
                // One eighth digit in ten would give check value 10, which is never issued.
                let start = rng.below(10);
                let (body, check) = (0..10)
                    .map(|d| head * 10 + (start + d) % 10)
                    .find_map(|body| ch_check_digit(body).map(|check| (body, check)))
                    .unwrap_or((head * 10, 0));
                let digits = body * 10 + u64::from(check);
                vat.push_str("CHE-");
                push_padded(vat, (digits / 1_000_000) as u32, 3);
                vat.push('.');
                push_padded(vat, (digits / 1_000 % 1_000) as u32, 3);
                vat.push('.');
                push_padded(vat, (digits % 1_000) as u32, 3);
                vat.push_str(if french { " TVA" } else { " MWST" });
            }
        }
    }
}

/// Appends an office number in E.164 form: the city's area code and a subscriber number
/// filling the national number to a usual length, often the switchboard (ending in 0).
fn push_office_phone(out: &mut String, country: Country, city: &City, rng: &mut Rng) {
    out.push_str(country.calling_code());
    out.push_str(city.area);
    let subscriber = match country {
        Country::De => 10 - city.area.len() as u32,
        Country::At => 8 - city.area.len().min(3) as u32,
        Country::Ch => 7,
    };
    rng.push_digits(out, subscriber, 2);
    if rng.chance(400) {
        out.pop();
        out.push('0');
    }
}

/// Appends a mobile number of `country` in E.164 form.
fn push_mobile_phone(out: &mut String, country: Country, rng: &mut Rng) {
    let mobiles = match country {
        Country::De => data::MOBILE_DE,
        Country::At => data::MOBILE_AT,
        Country::Ch => data::MOBILE_CH,
    };
    let (prefix, digits) = rng.pick(mobiles);
    out.push_str(country.calling_code());
    out.push_str(prefix);
    rng.push_digits(out, digits, 1);
}

/// Maps `v` (`0..n`) injectively into `lo..hi`, spread over the whole range when `n` is
/// smaller, so that numbers do not look sequential.
fn spread(v: u64, n: u64, lo: u64, hi: u64) -> u64 {
    let span = hi - lo;
    let stride = (span / n.max(1)).max(1);
    let jitter = if stride > 1 {
        mix(v ^ 0x5eed) % stride
    } else {
        0
    };
    lo + (v * stride + jitter) % span
}

/// ISO 7064 MOD 11,10 over the eight digits of `body`.
fn de_check_digit(body: u64) -> u32 {
    let mut product = 10;
    for i in (0..8).rev() {
        let d = (body / 10u64.pow(i) % 10) as u32;
        let mut sum = (d + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (2 * sum) % 11;
    }
    (11 - product) % 10
}

/// The Austrian UID check digit over the seven digits of `body`.
fn at_check_digit(body: u64) -> u32 {
    let mut sum = 0;
    for i in 0..7 {
        let d = (body / 10u64.pow(6 - i) % 10) as u32;
        sum += if i % 2 == 1 { d / 5 + (2 * d) % 10 } else { d };
    }
    (10 - (sum + 4) % 10) % 10
}

/// The Swiss UID check digit over the eight digits of `body`; none when it would be 10.
fn ch_check_digit(body: u64) -> Option<u32> {
    const WEIGHTS: [u32; 8] = [5, 4, 3, 2, 7, 6, 5, 4];
    let sum: u32 = WEIGHTS
        .iter()
        .enumerate()
        .map(|(i, w)| (body / 10u64.pow(7 - i as u32) % 10) as u32 * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        check => Some(check),
    }
}

// ---------------------------------------------------------------------------------------
// Contacts
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct Name {
    female: bool,
    first: &'static str,
    last: &'static str,
    last2: Option<&'static str>,
}

/// Picks a contact's name: the first draws of the contact's random stream, so that the names
/// of colleagues can be recomputed cheaply when making e-mail addresses unique.
fn pick_name(rng: &mut Rng, traits: &Traits) -> Name {
    use data::*;
    let female = rng.chance(470);
    let roll = rng.below(100);
    let (de, at, ch, fr, intl) = if female {
        (FEMALE_DE, FEMALE_AT, FEMALE_CH, FEMALE_FR, FEMALE_INTL)
    } else {
        (MALE_DE, MALE_AT, MALE_CH, MALE_FR, MALE_INTL)
    };
    let firsts = match (traits.country, traits.city.french) {
        (Country::De, _) => {
            if roll < 92 {
                de
            } else {
                intl
            }
        }
        (Country::At, _) => match roll {
            0..62 => de,
            62..92 => at,
            _ => intl,
        },
        (Country::Ch, false) => match roll {
            0..55 => de,
            55..92 => ch,
            _ => intl,
        },
        (Country::Ch, true) => {
            if roll < 85 {
                fr
            } else {
                de
            }
        }
    };
    let first = firsts[rng.front_index(firsts.len())];
    let roll = rng.below(100);
    let lasts = match (traits.country, traits.city.french) {
        (Country::De, _) => {
            if roll < 90 {
                LAST_DE
            } else {
                LAST_INTL
            }
        }
        (Country::At, _) => match roll {
            0..50 => LAST_DE,
            50..92 => LAST_AT,
            _ => LAST_INTL,
        },
        (Country::Ch, false) => match roll {
            0..40 => LAST_DE,
            40..92 => LAST_CH,
            _ => LAST_INTL,
        },
        (Country::Ch, true) => match roll {
            0..70 => LAST_FR,
            70..90 => LAST_CH,
            _ => LAST_DE,
        },
    };
    let a = rng.front_index(lasts.len());
    let last2 = rng.chance(50).then(|| {
        let b = rng.index(lasts.len());
        lasts[if b == a { (b + 1) % lasts.len() } else { b }]
    });
    Name {
        female,
        first,
        last: lasts[a],
        last2,
    }
}

/// Writes the e-mail local part of `name` in `format` into `buf` and returns its hash.
fn local_part(name: &Name, format: u8, buf: &mut String) -> u64 {
    buf.clear();
    match format {
        0 => {
            fold_into(name.first, buf);
            buf.push('.');
        }
        1 => {
            fold_into(name.first, buf);
            let initial = buf.chars().next().unwrap_or('x');
            buf.clear();
            buf.push(initial);
            buf.push('.');
        }
        2 => {}
        _ => fold_into(name.first, buf),
    }
    if format == 2 {
        fold_into(name.first, buf);
    } else {
        fold_into(name.last, buf);
        if let Some(last2) = name.last2 {
            buf.push('-');
            fold_into(last2, buf);
        }
    }
    // FNV-1a.
    buf.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What a contact stream keeps between rows: the current company and the e-mail local parts
/// already handed out there.
#[derive(Debug, Default)]
struct ContactCtx {
    layout: LayoutCache,
    company: CompanyCache,
    /// Hashes of the local parts of the company's contacts so far, in order.
    hashes: Vec<u64>,
    hashes_of: Option<u64>,
    local: String,
    scratch: String,
}

#[derive(Debug, Default)]
struct CompanyCache {
    index: Option<u64>,
    row: GenCompany,
    traits: Traits,
}

impl CompanyCache {
    fn get(&mut self, generator: &Generator, c: u64) -> (&GenCompany, Traits) {
        if self.index != Some(c) {
            self.traits = generator.fill_company(c, &mut self.row);
            self.index = Some(c);
        }
        (&self.row, self.traits)
    }
}

impl Generator {
    fn contact_rng(&self, i: u64) -> Rng {
        Rng::new(self.seed, STREAM_CONTACT, i)
    }

    fn fill_contact(&self, i: u64, ctx: &mut ContactCtx, out: &mut GenContact) {
        let slot = self.contact_slot(i, &mut ctx.layout);
        let (company, traits) = ctx.company.get(self, slot.company);
        if ctx.hashes_of != Some(slot.company) || ctx.hashes.len() != slot.k as usize {
            ctx.hashes.clear();
            for j in slot.first..slot.first + u64::from(slot.k) {
                let name = pick_name(&mut self.contact_rng(j), &traits);
                ctx.hashes
                    .push(local_part(&name, traits.email_format, &mut ctx.scratch));
            }
            ctx.hashes_of = Some(slot.company);
        }
        let mut rng = self.contact_rng(i);
        let name = pick_name(&mut rng, &traits);
        let hash = local_part(&name, traits.email_format, &mut ctx.local);
        let same = ctx.hashes.iter().filter(|&&h| h == hash).count() as u64;
        ctx.hashes.push(hash);

        out.index = i;
        out.company_index = slot.company;
        out.company_name.clear();
        out.company_name.push_str(&company.name);
        out.first_name = name.first;
        out.last_name.clear();
        let swiss = traits.country == Country::Ch;
        push_last_name(&mut out.last_name, name.last, swiss);
        if let Some(last2) = name.last2 {
            out.last_name.push('-');
            push_last_name(&mut out.last_name, last2, swiss);
        }
        out.email.clear();
        out.email.push_str(&ctx.local);
        if same > 0 {
            push_u64(&mut out.email, same + 1);
        }
        out.email.push('@');
        out.email.push_str(&company.domain);

        out.salutation = if rng.chance(60) {
            None
        } else if name.female {
            Some("Frau")
        } else {
            Some("Herr")
        };
        let titles: &[(&str, u64)] = match traits.country {
            Country::De => &[("Dr.", 50), ("Prof. Dr.", 6)],
            Country::At => &[("Dr.", 45), ("Mag.", 50), ("Ing.", 30), ("DI", 20)],
            Country::Ch => &[("Dr.", 40), ("Prof. Dr.", 4)],
        };
        let mut roll = rng.below(1000);
        out.title = None;
        for &(title, per_mille) in titles {
            if roll < per_mille {
                out.title = Some(title);
                break;
            }
            roll -= per_mille;
        }

        out.phone.clear();
        push_mobile_phone(&mut out.phone, traits.country, &mut rng);

        // The first contact of a company is often its managing director.
        let job = if slot.k == 0 && rng.chance(350) {
            &data::JOBS[0]
        } else {
            rng.weighted(data::JOBS, |j| j.3)
        };
        out.job_title = if name.female { job.1 } else { job.0 };
        out.department = job.2;
        out.city = if rng.chance(750) {
            traits.city.name
        } else {
            rng.weighted(traits.country.cities(), |c| c.weight).name
        };

        out.tags.clear();
        let tags = rng.weighted_key(&[(0usize, 45), (1, 35), (2, 15), (3, 5)]);
        let mut start = rng.index(data::TAGS.len());
        while out.tags.len() < tags {
            out.tags.push(data::TAGS[start]);
            start = (start + 1 + rng.index(2)) % data::TAGS.len();
        }
        out.source = rng.weighted_key(data::SOURCES);
    }
}

/// Pushes a last name, in Swiss spelling (`ss` for `ß`) if `swiss`.
fn push_last_name(out: &mut String, name: &str, swiss: bool) {
    if swiss && name.contains('ß') {
        out.push_str(&name.replace('ß', "ss"));
    } else {
        out.push_str(name);
    }
}

// ---------------------------------------------------------------------------------------
// Deals and activities
// ---------------------------------------------------------------------------------------

impl Generator {
    fn deal_rng(&self, d: u64) -> Rng {
        Rng::new(self.seed, STREAM_DEAL, d)
    }

    /// The contact of deal `d`: the first draw of the deal's stream.
    fn deal_contact(&self, d: u64) -> u64 {
        self.deal_rng(d).below(self.contacts)
    }

    fn fill_deal(&self, d: u64, cache: &mut CompanyCache, out: &mut GenDeal) {
        let mut rng = self.deal_rng(d);
        let contact = rng.below(self.contacts);
        let company_index = self
            .contact_slot(contact, &mut LayoutCache::default())
            .company;
        let (company, traits) = cache.get(self, company_index);
        out.index = d;
        out.contact_index = contact;
        out.company_index = company_index;
        out.currency = if traits.country == Country::Ch {
            "CHF"
        } else {
            "EUR"
        };

        // Log-normal-ish: buckets of a factor two to two and a half, most mass at 10k–25k.
        let (lo, hi) = rng.weighted_key(&[
            ((1_000u64, 2_500u64), 8),
            ((2_500, 5_000), 12),
            ((5_000, 10_000), 18),
            ((10_000, 25_000), 24),
            ((25_000, 50_000), 16),
            ((50_000, 100_000), 11),
            ((100_000, 250_000), 7),
            ((250_000, 500_000), 4),
        ]);
        let mut cents = lo * 100 + rng.below((hi - lo) * 100);
        let round_to = match rng.below(10) {
            0..7 => 10_000,
            7..9 => 1_000,
            _ => 1,
        };
        cents -= cents % round_to;
        out.value = Decimal::new(cents as i64, 2);

        let status = rng.weighted_key(&[("open", 70), ("won", 18), ("lost", 12)]);
        out.status = status;
        out.stage_index = match status {
            "open" => rng.weighted_key(&[(0, 30), (1, 25), (2, 20), (3, 15), (4, 10)]),
            "won" => 4,
            _ => rng.weighted_key(&[(0, 25), (1, 25), (2, 25), (3, 15), (4, 10)]),
        };
        out.lost_reason_key = (status == "lost").then(|| rng.weighted_key(data::LOST_REASONS));
        let (created, close_offset) = if status == "open" {
            let created = 1 + rng.below(300) as i64;
            let offset = if rng.chance(100) {
                -(1 + rng.below(created.min(60) as u64) as i64)
            } else {
                rng.below(366) as i64
            };
            (created, offset)
        } else {
            let created = 14 + rng.below(351) as i64;
            (created, -(rng.below(created as u64 - 7) as i64))
        };
        out.created_days_ago = created as u32;
        out.expected_close_date = BASE_DATE
            .checked_add_signed(TimeDelta::days(close_offset))
            .unwrap_or(BASE_DATE);

        // Contracts are named for the year they start: the next one when closing late in the
        // year; reorders for the quarter they close in.
        let close = out.expected_close_date;
        let year = (close.year() + i32::from(close.month() >= 10)) as u64;
        let title = &mut out.title;
        title.clear();
        match rng.below(9) {
            0 => {
                title.push_str("Rahmenvertrag ");
                push_u64(title, year);
                title.push_str(" – ");
                title.push_str(&company.name);
            }
            1 => {
                title.push_str("Wartungsvertrag ");
                title.push_str(rng.pick(data::DEAL_TOPICS));
            }
            2 => {
                title.push_str("Lizenzerweiterung ");
                push_u64(title, rng.pick(&[5, 10, 15, 20, 25, 50, 100, 250]));
                title.push_str(" Arbeitsplätze");
            }
            3 => {
                title.push_str("Pilotprojekt ");
                title.push_str(rng.pick(data::DEAL_TOPICS));
            }
            4 => {
                title.push_str("Erstauftrag ");
                title.push_str(rng.pick(data::DEAL_TOPICS));
            }
            5 => {
                title.push_str("Rollout Standort ");
                title.push_str(company.city);
            }
            6 => {
                title.push_str("Servicevertrag ");
                push_u64(title, year);
            }
            7 => {
                title.push_str("Migration ");
                title.push_str(rng.pick(data::DEAL_TOPICS));
            }
            _ => {
                title.push_str("Nachbestellung Q");
                push_u64(title, u64::from(close.month0() / 3 + 1));
                title.push('/');
                push_u64(title, close.year() as u64);
            }
        }
    }

    fn fill_activity(&self, a: u64, layout: &mut LayoutCache, out: &mut GenActivity) {
        let mut rng = Rng::new(self.seed, STREAM_ACTIVITY, a);
        out.index = a;
        if self.deals > 0 && rng.chance(350) {
            let deal = rng.below(self.deals);
            out.deal_index = Some(deal);
            out.contact_index = self.deal_contact(deal);
        } else {
            out.deal_index = None;
            out.contact_index = rng.below(self.contacts);
        }
        out.company_index = self.contact_slot(out.contact_index, layout).company;
        let kind = rng.weighted_key(data::ACTIVITY_KINDS);
        out.kind = kind;
        out.subject = rng.pick(match kind {
            "note" => data::SUBJECTS_NOTE,
            "call" => data::SUBJECTS_CALL,
            "email" => data::SUBJECTS_EMAIL,
            "meeting" => data::SUBJECTS_MEETING,
            "task" => data::SUBJECTS_TASK,
            _ => data::SUBJECTS_FOLLOWUP,
        });
        let dated = match kind {
            "note" => false,
            "email" => rng.chance(300),
            _ => true,
        };
        if !dated {
            out.due_at = None;
            out.done = true;
            return;
        }
        let day = if rng.chance(40) {
            0
        } else {
            rng.below(731) as i64 - 365
        };
        let minutes = 8 * 60 + 15 * rng.below(44) as i64;
        out.due_at = BASE_DATE
            .and_time(NaiveTime::MIN)
            .checked_add_signed(TimeDelta::days(day) + TimeDelta::minutes(minutes))
            .map(|t| t.and_utc());
        out.done = match day.signum() {
            -1 => rng.chance(850),
            0 => rng.chance(400),
            _ => rng.chance(30),
        };
    }
}

// ---------------------------------------------------------------------------------------
// Iterators
// ---------------------------------------------------------------------------------------

/// The companies of a [`Generator`], in index order.
#[derive(Debug)]
pub struct Companies<'a> {
    generator: &'a Generator,
    next: u64,
    end: u64,
}

impl Companies<'_> {
    /// Fills `out` with the next company, reusing its strings; false at the end.
    pub fn next_into(&mut self, out: &mut GenCompany) -> bool {
        if self.next >= self.end {
            return false;
        }
        self.generator.fill_company(self.next, out);
        self.next += 1;
        true
    }
}

impl Iterator for Companies<'_> {
    type Item = GenCompany;

    fn next(&mut self) -> Option<GenCompany> {
        let mut out = GenCompany::default();
        self.next_into(&mut out).then_some(out)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        remaining(self.next, self.end)
    }
}

impl ExactSizeIterator for Companies<'_> {}
impl std::iter::FusedIterator for Companies<'_> {}

/// The contacts of a [`Generator`], in index order.
#[derive(Debug)]
pub struct Contacts<'a> {
    generator: &'a Generator,
    next: u64,
    end: u64,
    ctx: ContactCtx,
}

impl Contacts<'_> {
    /// Fills `out` with the next contact, reusing its strings; false at the end.
    pub fn next_into(&mut self, out: &mut GenContact) -> bool {
        if self.next >= self.end {
            return false;
        }
        self.generator.fill_contact(self.next, &mut self.ctx, out);
        self.next += 1;
        true
    }
}

impl Iterator for Contacts<'_> {
    type Item = GenContact;

    fn next(&mut self) -> Option<GenContact> {
        let mut out = GenContact::default();
        self.next_into(&mut out).then_some(out)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        remaining(self.next, self.end)
    }
}

impl ExactSizeIterator for Contacts<'_> {}
impl std::iter::FusedIterator for Contacts<'_> {}

/// The deals of a [`Generator`], in index order.
#[derive(Debug)]
pub struct Deals<'a> {
    generator: &'a Generator,
    next: u64,
    end: u64,
    cache: CompanyCache,
}

impl Deals<'_> {
    /// Fills `out` with the next deal, reusing its strings; false at the end.
    pub fn next_into(&mut self, out: &mut GenDeal) -> bool {
        if self.next >= self.end {
            return false;
        }
        self.generator.fill_deal(self.next, &mut self.cache, out);
        self.next += 1;
        true
    }
}

impl Iterator for Deals<'_> {
    type Item = GenDeal;

    fn next(&mut self) -> Option<GenDeal> {
        let mut out = GenDeal::default();
        self.next_into(&mut out).then_some(out)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        remaining(self.next, self.end)
    }
}

impl ExactSizeIterator for Deals<'_> {}
impl std::iter::FusedIterator for Deals<'_> {}

/// The activities of a [`Generator`], in index order.
#[derive(Debug)]
pub struct Activities<'a> {
    generator: &'a Generator,
    next: u64,
    end: u64,
    layout: LayoutCache,
}

impl Iterator for Activities<'_> {
    type Item = GenActivity;

    fn next(&mut self) -> Option<GenActivity> {
        if self.next >= self.end {
            return None;
        }
        let mut out = GenActivity::default();
        self.generator
            .fill_activity(self.next, &mut self.layout, &mut out);
        self.next += 1;
        Some(out)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        remaining(self.next, self.end)
    }
}

impl ExactSizeIterator for Activities<'_> {}
impl std::iter::FusedIterator for Activities<'_> {}

fn remaining(next: u64, end: u64) -> (usize, Option<usize>) {
    let n = usize::try_from(end - next).unwrap_or(usize::MAX);
    (n, Some(n))
}

// ---------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------

/// The header and delimiter of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvHeader {
    /// English column names, comma-separated.
    #[default]
    English,
    /// German column names (`Vorname`, `Nachname`, …), semicolon-separated, as German
    /// spreadsheet programs write it.
    German,
}

impl CsvHeader {
    /// The field delimiter: `,` or `;`.
    pub fn delimiter(self) -> u8 {
        match self {
            Self::English => b',',
            Self::German => b';',
        }
    }
}

/// Buffered CSV rows: RFC 4180 quoting (a field is quoted when it holds the delimiter, a
/// quote, CR or LF; quotes inside are doubled), LF line ends, written out in 64 KiB chunks.
struct CsvOut<W: Write> {
    writer: W,
    buf: Vec<u8>,
    delimiter: u8,
    at_line_start: bool,
}

impl<W: Write> CsvOut<W> {
    fn new(writer: W, delimiter: u8) -> Self {
        Self {
            writer,
            buf: Vec::with_capacity(1 << 16),
            delimiter,
            at_line_start: true,
        }
    }

    fn field(&mut self, value: &str) {
        if !self.at_line_start {
            self.buf.push(self.delimiter);
        }
        self.at_line_start = false;
        push_csv_field(&mut self.buf, value, self.delimiter);
    }

    fn end_row(&mut self) -> io::Result<()> {
        self.buf.push(b'\n');
        self.at_line_start = true;
        if self.buf.len() >= 1 << 16 {
            self.writer.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.writer.write_all(&self.buf)?;
        self.writer.flush()
    }
}

/// Appends `value` as one CSV field, quoted if needed.
fn push_csv_field(buf: &mut Vec<u8>, value: &str, delimiter: u8) {
    let needs_quotes = value
        .bytes()
        .any(|b| b == delimiter || matches!(b, b'"' | b'\r' | b'\n'));
    if !needs_quotes {
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

/// Writes every contact of `generator` as CSV: a header, then one row per contact with
/// `first_name, last_name, email, phone, company, job_title, city, tags` (tags joined with
/// `|`). Returns the number of rows written, not counting the header.
///
/// Streams: memory use does not grow with the number of contacts. Pass an unbuffered
/// writer; the rows are buffered here.
pub fn write_contacts_csv<W: Write>(
    generator: &Generator,
    writer: W,
    header: CsvHeader,
) -> io::Result<u64> {
    let mut csv = CsvOut::new(writer, header.delimiter());
    let names = match header {
        CsvHeader::English => [
            "first_name",
            "last_name",
            "email",
            "phone",
            "company",
            "job_title",
            "city",
            "tags",
        ],
        CsvHeader::German => [
            "Vorname", "Nachname", "E-Mail", "Telefon", "Firma", "Position", "Ort", "Tags",
        ],
    };
    for name in names {
        csv.field(name);
    }
    csv.end_row()?;
    let mut rows = 0;
    let mut contacts = generator.contacts();
    let mut contact = GenContact::default();
    let mut tags = String::new();
    while contacts.next_into(&mut contact) {
        csv.field(contact.first_name);
        csv.field(&contact.last_name);
        csv.field(&contact.email);
        csv.field(&contact.phone);
        csv.field(&contact.company_name);
        csv.field(contact.job_title);
        csv.field(contact.city);
        tags.clear();
        for (i, tag) in contact.tags.iter().enumerate() {
            if i > 0 {
                tags.push('|');
            }
            tags.push_str(tag);
        }
        csv.field(&tags);
        csv.end_row()?;
        rows += 1;
    }
    csv.finish()?;
    Ok(rows)
}

/// Writes every company of `generator` as CSV: a header, then one row per company with
/// `name, domain, vat_id, industry, city, country, phone` (German header: `Firma`, `Domain`,
/// `USt-IdNr.`, `Branche`, `Ort`, `Land`, `Telefon`). Returns the number of rows written,
/// not counting the header.
pub fn write_companies_csv<W: Write>(
    generator: &Generator,
    writer: W,
    header: CsvHeader,
) -> io::Result<u64> {
    let mut csv = CsvOut::new(writer, header.delimiter());
    let names = match header {
        CsvHeader::English => [
            "name", "domain", "vat_id", "industry", "city", "country", "phone",
        ],
        CsvHeader::German => [
            "Firma",
            "Domain",
            "USt-IdNr.",
            "Branche",
            "Ort",
            "Land",
            "Telefon",
        ],
    };
    for name in names {
        csv.field(name);
    }
    csv.end_row()?;
    let mut rows = 0;
    let mut companies = generator.companies();
    let mut company = GenCompany::default();
    while companies.next_into(&mut company) {
        csv.field(&company.name);
        csv.field(&company.domain);
        csv.field(&company.vat_id);
        csv.field(company.industry_key);
        csv.field(company.city);
        csv.field(company.country);
        csv.field(&company.phone);
        csv.end_row()?;
        rows += 1;
    }
    csv.finish()?;
    Ok(rows)
}

// ---------------------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------------------

/// The ASCII spelling of a letter: `ä` → `ae`, `ß` → `ss`, `é` → `e`, …; empty for
/// anything that is not a letter or digit.
fn fold_char(c: char) -> &'static str {
    match c {
        'ä' | 'Ä' | 'æ' | 'Æ' => "ae",
        'ö' | 'Ö' | 'œ' | 'Œ' => "oe",
        'ü' | 'Ü' => "ue",
        'ß' => "ss",
        'à' | 'á' | 'â' | 'ã' | 'å' | 'À' | 'Á' | 'Â' => "a",
        'ç' | 'ć' | 'č' | 'Ç' | 'Ć' | 'Č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ę' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ı' | 'Î' | 'İ' => "i",
        'ñ' | 'ń' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'Ó' | 'Ô' => "o",
        'ù' | 'ú' | 'û' | 'Ú' | 'Û' => "u",
        'ş' | 'ś' | 'š' | 'Ş' | 'Ś' | 'Š' => "s",
        'ğ' | 'Ğ' => "g",
        'ł' | 'Ł' => "l",
        'ź' | 'ż' | 'ž' | 'Ž' => "z",
        'đ' | 'Đ' => "d",
        'ř' => "r",
        'ÿ' => "y",
        _ => "",
    }
}

/// Appends `s` folded for an e-mail local part: ASCII lower case letters, digits and
/// hyphens; other characters (spaces, apostrophes, dots) dropped.
fn fold_into(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            'a'..='z' | '0'..='9' | '-' => out.push(ch),
            'A'..='Z' => out.push(ch.to_ascii_lowercase()),
            _ => out.push_str(fold_char(ch)),
        }
    }
}

/// Appends `s` as a domain label: folded to ASCII, every run of other characters one `-`,
/// none at either end.
fn slug_into(s: &str, out: &mut String) {
    let start = out.len();
    let mut pending = false;
    for ch in s.chars() {
        let mut ascii = [0u8; 4];
        let piece: &str = if ch.is_ascii_alphanumeric() {
            ch.to_ascii_lowercase().encode_utf8(&mut ascii)
        } else {
            fold_char(ch)
        };
        if piece.is_empty() {
            pending = true;
            continue;
        }
        if pending && out.len() > start {
            out.push('-');
        }
        pending = false;
        out.push_str(piece);
    }
}

/// Appends `n` in decimal without allocating.
fn push_u64(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// Appends `n` in decimal, zero-padded to `width` digits.
fn push_padded(out: &mut String, n: u32, width: u32) {
    let mut div = 10u32.pow(width.saturating_sub(1));
    while div > 1 && n < div {
        out.push('0');
        div /= 10;
    }
    push_u64(out, u64::from(n));
}

#[cfg(test)]
mod tests;
