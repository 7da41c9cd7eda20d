//! Planted duplicates with known truth: extra contacts and companies that are the same person
//! or company as a generated one, written the way duplicates arise in a real CRM.
//!
//! Planted row `k` duplicates an original picked by a bijection of `k` (so no original is
//! duplicated twice) and gets the next index after the originals: contact
//! `contact_count() + k`, company `company_count() + k`. Its [`Variant`] cycles through the
//! kinds of difference, so every kind is planted about equally often:
//!
//! - contacts: an e-mail address in other case and with spaces (as a second address, the
//!   person's own primary one being private), an umlaut spelling (`Müller` / `Mueller`), a
//!   typo (two letters swapped), initials (`J. Müller`), first and last name swapped, the
//!   same mobile number written another way (`+49 (0)151 …`, `0049 151-…`);
//! - companies: another legal form (`GmbH` / `AG` / `GmbH & Co. KG` / `e.K.`), a typo in
//!   the name, the same web domain (written as a website) with another
//!   legal form.
//!
//! Loaded through `crm import`, rows that share a VAT id, a domain or the folded name with a
//! company are matched to it (the import's own duplicate check), so planted companies of the
//! [`Variant::SameDomain`] kind reach the CRM as separate records only through
//! `crm company add` or the store.
//!
//! Everything else is the original's. A planted row has an e-mail address (contacts) and a
//! name (companies) of its own, unique in the data set, which is the key [`TruthPair`] names it
//! by. The VAT id is never planted twice: the CRM refuses two live companies with one VAT id.

use super::rng::{Perm, Rng};
use super::text::{fold_char, push_u64};
use super::*;

const STREAM_DUP_CONTACT: u64 = 9;
const STREAM_DUP_COMPANY: u64 = 10;
const STREAM_DUP_CONTACT_PERM: u64 = 11;
const STREAM_DUP_COMPANY_PERM: u64 = 12;

/// Private mail providers for planted addresses (never a generated company's domain).
const FREEMAIL: &[&str] = &["gmx.de", "web.de", "t-online.de", "gmx.at", "bluewin.ch"];

/// Legal forms a planted company may switch to (all of them removed by the CRM's company
/// name key).
const FORMS: &[&str] = &["GmbH", "AG", "GmbH & Co. KG", "e.K.", "KG"];

/// How a planted duplicate differs from its original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// Contact: the original's e-mail address in other case and with spaces, as a second
    /// address; a private primary address, no company, no phone.
    EmailCase,
    /// Contact: a name with umlauts written out or put in (`Müller` / `Mueller`), same
    /// company.
    Umlaut,
    /// Contact: two neighbouring letters of the last name swapped, same company.
    Typo,
    /// Contact: the first name as an initial (`J.`), same company.
    Initials,
    /// Contact: first and last name swapped, same company.
    Swapped,
    /// Contact: the same mobile number in another format, a private e-mail, no company.
    Phone,
    /// Company: the same name with another legal form, no domain.
    LegalForm,
    /// Company: a typo in the name, same legal form, no domain.
    CompanySpelling,
    /// Company: the same web domain (as `http://domain/`), another legal form.
    SameDomain,
}

impl Variant {
    /// The stable key written to the truth file (`email_case`, `umlaut`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::EmailCase => "email_case",
            Variant::Umlaut => "umlaut",
            Variant::Typo => "typo",
            Variant::Initials => "initials",
            Variant::Swapped => "swapped",
            Variant::Phone => "phone",
            Variant::LegalForm => "legal_form",
            Variant::CompanySpelling => "company_spelling",
            Variant::SameDomain => "same_domain",
        }
    }

    const CONTACT: [Variant; 6] = [
        Variant::EmailCase,
        Variant::Umlaut,
        Variant::Typo,
        Variant::Initials,
        Variant::Swapped,
        Variant::Phone,
    ];
    const COMPANY: [Variant; 3] = [
        Variant::LegalForm,
        Variant::CompanySpelling,
        Variant::SameDomain,
    ];
}

/// A planted contact: a duplicate of contact `original`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PlantedContact {
    /// Its index: `contact_count()` and up.
    pub index: u64,
    /// The contact it duplicates.
    pub original: u64,
    /// How it differs (`None` only in a default value).
    pub variant: Option<Variant>,
    /// The first name.
    pub first_name: String,
    /// The last name.
    pub last_name: String,
    /// Its primary e-mail address, unique in the data set.
    pub email: String,
    /// A second e-mail address ([`Variant::EmailCase`]: the original's, in other case and
    /// with spaces).
    pub email2: Option<String>,
    /// A phone number, as a person might type it (empty for none).
    pub phone: String,
    /// The original's company, or none for a private entry.
    pub company_index: Option<u64>,
    /// That company's name (empty for none).
    pub company_name: String,
    /// The original's job title.
    pub job_title: &'static str,
    /// The original's city.
    pub city: &'static str,
    /// The original's tags.
    pub tags: Vec<&'static str>,
}

/// A planted company: a duplicate of company `original`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PlantedCompany {
    /// The company to write: `index` is `company_count()` and up; `domain`, `website` and
    /// `vat_id` empty where the variant has none.
    pub company: GenCompany,
    /// The company it duplicates.
    pub original: u64,
    /// How it differs (`None` only in a default value).
    pub variant: Option<Variant>,
}

/// One true duplicate pair: the original and the planted record, by index and by key (the
/// contacts' primary e-mail address, the companies' name).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TruthPair {
    /// `contact` or `company`.
    pub kind: &'static str,
    /// How the planted record differs.
    pub variant: Variant,
    /// The original's index.
    pub index_a: u64,
    /// The planted record's index.
    pub index_b: u64,
    /// The original's key.
    pub key_a: String,
    /// The planted record's key.
    pub key_b: String,
}

/// The planted duplicates of a [`Generator`]: how many, and each one on demand.
#[derive(Debug, Clone)]
pub struct Duplicates<'a> {
    generator: &'a Generator,
    contacts: u64,
    companies: u64,
    contact_perm: Perm,
    company_perm: Perm,
}

impl<'a> Duplicates<'a> {
    /// `contacts` planted contacts and `companies` planted companies (each at most the number
    /// of originals).
    pub fn new(generator: &'a Generator, contacts: u64, companies: u64) -> Self {
        let seed = generator.seed();
        let (n, m) = (generator.contact_count(), generator.company_count());
        Self {
            generator,
            contacts: contacts.min(n),
            companies: companies.min(m),
            contact_perm: Perm::new(n.max(1), seed, STREAM_DUP_CONTACT_PERM),
            company_perm: Perm::new(m.max(1), seed, STREAM_DUP_COMPANY_PERM),
        }
    }

    /// A duplicate for `percent` per cent of the contacts and of the companies (rounded,
    /// `0..=100`).
    pub fn percent(generator: &'a Generator, percent: f64) -> Self {
        let p = percent.clamp(0.0, 100.0) / 100.0;
        let of = |n: u64| (n as f64 * p).round() as u64;
        Self::new(
            generator,
            of(generator.contact_count()),
            of(generator.company_count()),
        )
    }

    /// No duplicates.
    pub fn none(generator: &'a Generator) -> Self {
        Self::new(generator, 0, 0)
    }

    /// The generator planted into.
    pub fn generator(&self) -> &'a Generator {
        self.generator
    }

    /// How many contacts are planted.
    pub fn contact_count(&self) -> u64 {
        self.contacts
    }

    /// How many companies are planted.
    pub fn company_count(&self) -> u64 {
        self.companies
    }

    /// Planted contact `k` (`0..contact_count()`).
    pub fn contact(&self, k: u64) -> PlantedContact {
        let g = self.generator;
        let original = self.contact_perm.apply(k);
        let o = g.contact(original);
        let mut rng = Rng::new(g.seed(), STREAM_DUP_CONTACT, k);
        let mut variant = Variant::CONTACT[(k % Variant::CONTACT.len() as u64) as usize];
        let local = o.email.split('@').next().unwrap_or("kontakt");
        let private = |rng: &mut Rng| {
            let mut e = format!("{local}.");
            push_u64(&mut e, k);
            e.push('@');
            e.push_str(rng.pick(FREEMAIL));
            e
        };
        let mut own = format!("{local}.");
        push_u64(&mut own, k);
        own.push('@');
        own.push_str(o.email.split('@').nth(1).unwrap_or("example.org"));
        let mut p = PlantedContact {
            index: g.contact_count() + k,
            original,
            variant: None,
            first_name: o.first_name.to_string(),
            last_name: o.last_name.clone(),
            email: own,
            email2: None,
            phone: String::new(),
            company_index: Some(o.company_index),
            company_name: o.company_name.clone(),
            job_title: o.job_title,
            city: o.city,
            tags: o.tags.clone(),
        };
        match variant {
            Variant::EmailCase => {
                p.email = private(&mut rng);
                p.email2 = Some(format!(" {} ", case_variant(&o.email)));
                p.company_index = None;
                p.company_name.clear();
            }
            Variant::Umlaut => match umlaut_variant(&o.last_name) {
                Some(v) => p.last_name = v,
                None => match umlaut_variant(o.first_name) {
                    Some(v) => p.first_name = v,
                    None => {
                        variant = Variant::Typo;
                        p.last_name = typo(&o.last_name, &mut rng);
                    }
                },
            },
            Variant::Typo => p.last_name = typo(&o.last_name, &mut rng),
            Variant::Initials => {
                let initial = o.first_name.chars().next().unwrap_or('X');
                p.first_name = format!("{initial}.");
            }
            Variant::Swapped => {
                p.first_name = o.last_name.clone();
                p.last_name = o.first_name.to_string();
            }
            _ => {
                p.email = private(&mut rng);
                p.phone = phone_variant(&o.phone, rng.chance(500));
                p.company_index = None;
                p.company_name.clear();
            }
        }
        p.variant = Some(variant);
        p
    }

    /// Planted company `k` (`0..company_count()`).
    pub fn company(&self, k: u64) -> PlantedCompany {
        let g = self.generator;
        let original = self.company_perm.apply(k);
        let o = g.company(original);
        let mut rng = Rng::new(g.seed(), STREAM_DUP_COMPANY, k);
        let variant = Variant::COMPANY[(k % Variant::COMPANY.len() as u64) as usize];
        let base = o
            .name
            .strip_suffix(o.legal_form)
            .unwrap_or(&o.name)
            .trim_end()
            .to_string();
        let other_form = {
            let i = rng.index(FORMS.len() - 1);
            let forms: Vec<&&str> = FORMS.iter().filter(|f| **f != o.legal_form).collect();
            *forms[i.min(forms.len() - 1)]
        };
        let mut c = o.clone();
        c.index = g.company_count() + k;
        c.vat_id.clear();
        c.domain.clear();
        c.website.clear();
        match variant {
            Variant::LegalForm => {
                c.name = format!("{base} {other_form}");
                c.legal_form = other_form;
            }
            Variant::CompanySpelling => {
                // A typo: an umlaut spelling is the same name to the CRM (its names are
                // compared folded), which an import matches to the original by name.
                c.name = format!("{} {}", typo_longest(&base, &mut rng), o.legal_form);
            }
            _ => {
                c.name = format!("{base} {other_form}");
                c.legal_form = other_form;
                c.domain = o.domain.clone();
                c.website = format!("http://{}/", o.domain);
            }
        }
        PlantedCompany {
            company: c,
            original,
            variant: Some(variant),
        }
    }

    /// The planted contacts, in index order.
    pub fn contacts(&self) -> impl Iterator<Item = PlantedContact> + '_ {
        (0..self.contacts).map(|k| self.contact(k))
    }

    /// The planted companies, in index order.
    pub fn companies(&self) -> impl Iterator<Item = PlantedCompany> + '_ {
        (0..self.companies).map(|k| self.company(k))
    }

    /// The true pairs of contacts, one per planted contact.
    pub fn contact_truth(&self) -> impl Iterator<Item = TruthPair> + '_ {
        self.contacts().map(|p| TruthPair {
            kind: "contact",
            variant: p.variant.unwrap_or(Variant::Typo),
            index_a: p.original,
            index_b: p.index,
            key_a: self.generator.contact(p.original).email,
            key_b: p.email,
        })
    }

    /// The true pairs of companies, one per planted company.
    pub fn company_truth(&self) -> impl Iterator<Item = TruthPair> + '_ {
        self.companies().map(|p| TruthPair {
            kind: "company",
            variant: p.variant.unwrap_or(Variant::LegalForm),
            index_a: p.original,
            index_b: p.company.index,
            key_a: self.generator.company(p.original).name,
            key_b: p.company.name,
        })
    }
}

/// The address with the first letter of each part upper case (`Anna.Mueller@Firma.de`), or
/// all upper case when that changes nothing.
fn case_variant(email: &str) -> String {
    let mut out = String::with_capacity(email.len());
    let mut up = true;
    for ch in email.chars() {
        if up {
            out.extend(ch.to_uppercase());
        } else {
            out.push(ch);
        }
        up = matches!(ch, '.' | '@' | '-');
    }
    if out == email {
        email.to_uppercase()
    } else {
        out
    }
}

/// The name with its umlauts written out (`Müller` → `Mueller`, `Weiß` → `Weiss`), else with
/// a written-out umlaut put in (`Kuehn` → `Kühn`); `None` when it has neither.
fn umlaut_variant(name: &str) -> Option<String> {
    if name
        .chars()
        .any(|c| matches!(c, 'ä' | 'ö' | 'ü' | 'Ä' | 'Ö' | 'Ü' | 'ß'))
    {
        let mut out = String::with_capacity(name.len() + 2);
        for ch in name.chars() {
            match ch {
                'ä' | 'ö' | 'ü' | 'ß' => out.push_str(fold_char(ch)),
                'Ä' => out.push_str("Ae"),
                'Ö' => out.push_str("Oe"),
                'Ü' => out.push_str("Ue"),
                _ => out.push(ch),
            }
        }
        return Some(out);
    }
    for (pair, umlaut) in [("ae", "ä"), ("oe", "ö"), ("ue", "ü")] {
        // Not after a vowel or `q` (`Bauer`, `Quest`): there the letters are no umlaut.
        if let Some(i) = name.find(pair)
            && i > 0
            && !name[..i].ends_with(['a', 'e', 'i', 'o', 'u', 'q'])
        {
            return Some(format!("{}{umlaut}{}", &name[..i], &name[i + 2..]));
        }
    }
    None
}

/// Two neighbouring letters swapped, not the first letter (`Schneider` → `Schnieder`); when
/// every swap changes nothing (`Aaa`), a letter doubled.
fn typo(name: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    let n = chars.len();
    if n >= 4 {
        let start = 1 + rng.index(n - 3);
        for j in (start..n - 1).chain(1..start) {
            if chars[j] != chars[j + 1] && chars[j].is_alphabetic() && chars[j + 1].is_alphabetic()
            {
                chars.swap(j, j + 1);
                return chars.into_iter().collect();
            }
        }
    }
    let i = n / 2;
    if let Some(&c) = chars.get(i) {
        chars.insert(i, c);
    }
    chars.into_iter().collect()
}

/// A typo in the longest word of a company name.
fn typo_longest(name: &str, rng: &mut Rng) -> String {
    let longest = name
        .split(' ')
        .max_by_key(|w| w.chars().count())
        .unwrap_or(name);
    let typed = typo(longest, rng);
    name.replacen(longest, &typed, 1)
}

/// An E.164 number written another way: `+49 (0)151 2345678` or `0049 151-2345678`.
fn phone_variant(e164: &str, with_zero: bool) -> String {
    let digits = e164.trim_start_matches('+');
    if digits.len() < 7 || !digits.is_ascii() {
        return e164.to_string();
    }
    let (cc, rest) = digits.split_at(2);
    let (prefix, number) = rest.split_at(3);
    if with_zero {
        format!("+{cc} (0){prefix} {number}")
    } else {
        format!("00{cc} {prefix}-{number}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_helpers_change_what_they_say() {
        assert_eq!(umlaut_variant("Müller").as_deref(), Some("Mueller"));
        assert_eq!(umlaut_variant("Weiß").as_deref(), Some("Weiss"));
        assert_eq!(umlaut_variant("Kuehn").as_deref(), Some("Kühn"));
        assert_eq!(umlaut_variant("Bauer"), None);
        assert_eq!(
            case_variant("anna.mueller@nord-licht.de"),
            "Anna.Mueller@Nord-Licht.De"
        );
        assert_eq!(phone_variant("+491511234567", true), "+49 (0)151 1234567");
        assert_eq!(phone_variant("+436641234567", false), "0043 664-1234567");
        let mut rng = Rng::new(1, 2, 3);
        for name in ["Schneider", "Aaaa", "Li", "Meyer-Lüdtke"] {
            assert_ne!(typo(name, &mut rng), name);
        }
    }

    #[test]
    fn planting_is_deterministic_and_keys_are_unique() {
        let g = Generator::new(7, 2_000);
        let d = Duplicates::percent(&g, 15.0);
        assert_eq!(d.contact_count(), 300);
        assert_eq!(d.company_count(), 38);
        assert_eq!(d.contact(17), Duplicates::percent(&g, 15.0).contact(17));
        let mut emails: std::collections::HashSet<String> = g.contacts().map(|c| c.email).collect();
        let mut originals = std::collections::HashSet::new();
        for p in d.contacts() {
            assert!(emails.insert(p.email.clone()), "planted e-mail repeats");
            assert!(originals.insert(p.original), "an original duplicated twice");
            let o = g.contact(p.original);
            let same = (p.first_name.as_str(), p.last_name.as_str())
                == (o.first_name, o.last_name.as_str());
            match p.variant {
                Some(Variant::EmailCase) => {
                    assert!(same);
                    let e2 = p.email2.as_deref().unwrap();
                    assert_eq!(e2.trim().to_lowercase(), o.email);
                    assert_ne!(e2, o.email);
                }
                Some(Variant::Phone) => {
                    assert!(same);
                    assert_ne!(p.phone, o.phone);
                    let digits: String = p.phone.chars().filter(char::is_ascii_digit).collect();
                    assert!(o.phone.ends_with(&digits[4..]), "{}", p.phone);
                }
                _ => assert!(!same, "{:?}", p.variant),
            }
        }
        let mut names: std::collections::HashSet<String> = g.companies().map(|c| c.name).collect();
        for p in d.companies() {
            assert!(names.insert(p.company.name.clone()), "{}", p.company.name);
            assert!(p.company.vat_id.is_empty());
        }
    }
}
