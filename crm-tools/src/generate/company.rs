//! Companies: names, legal forms, addresses, VAT ids and phone numbers.

use super::rng::{Rng, spread};
use super::text::{push_padded, push_u64, slug_into};
use super::*;

/// What a contact needs to know of its company besides its strings.
#[derive(Debug, Clone, Copy)]
pub(super) struct Traits {
    pub(super) country: Country,
    pub(super) city: &'static City,
    /// 0 `anna.mueller`, 1 `a.mueller`, 2 `anna`, 3 `annamueller`.
    pub(super) email_format: u8,
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
pub(super) const PATTERNS: usize = 5;
/// `Stem Sector`, `Surname Sector`, `Surname & Surname`, family names, `Stem English`.
pub(super) const SLOTS: [usize; 10] = [0, 0, 0, 0, 1, 1, 1, 2, 3, 4];

/// How many distinct base names pattern `p` has.
pub(super) fn pattern_size(p: usize) -> u64 {
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
pub(super) fn surname_pair(r: u64) -> (&'static str, &'static str) {
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
pub(super) fn base_name(p: usize, r: u64, french: bool, out: &mut String) -> Option<&'static str> {
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
    pub(super) fn company_traits(&self, c: u64) -> (Traits, Rng) {
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

    pub(super) fn fill_company(&self, c: u64, out: &mut GenCompany) -> Traits {
        let (traits, mut rng) = self.company_traits(c);
        let Traits { country, city, .. } = traits;
        out.index = c;
        out.city = city.name;
        out.country = country.code();
        out.register_court = city.court;

        let (industry, form, register) = self.fill_name(c, country, city, &mut rng, out);
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

        fill_address(country, city, &mut rng, out);

        out.phone.clear();
        push_office_phone(&mut out.phone, country, city, &mut rng);

        fill_trade_register(country, city, register, &mut rng, out);
        traits
    }

    /// Writes the name, legal form, domain and website; returns the industry the name
    /// implies (if any), the legal form and the register kind of the legal form.
    fn fill_name(
        &self,
        c: u64,
        country: Country,
        city: &'static City,
        rng: &mut Rng,
        out: &mut GenCompany,
    ) -> (Option<&'static str>, &'static str, &'static str) {
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
        (industry, form, register)
    }

    /// Writes a valid VAT id, unique across the data set (the index goes through a
    /// bijection onto the number space of the country).
    pub(super) fn vat_id(
        &self,
        c: u64,
        country: Country,
        french: bool,
        rng: &mut Rng,
        out: &mut GenCompany,
    ) {
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

/// Writes the street address and postal code of a company in `city`.
fn fill_address(country: Country, city: &City, rng: &mut Rng, out: &mut GenCompany) {
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
}

/// Writes the trade register entry: `HRB 12345` at the city's court in Germany, `FN 123456 a`
/// in Austria, the UID in Switzerland (from the VAT id, which must be written first).
fn fill_trade_register(
    country: Country,
    city: &City,
    register: &str,
    rng: &mut Rng,
    out: &mut GenCompany,
) {
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
                'a', 'b', 'd', 'f', 'g', 'h', 'i', 'k', 'm', 'p', 's', 't', 'v', 'w', 'x', 'y', 'z',
            ]));
        }
        Country::Ch => {
            // The Swiss register number is the UID: the VAT id without the tax suffix.
            let uid = out.vat_id.split(' ').next().unwrap_or_default();
            out.trade_register.push_str(uid);
        }
    }
}

/// Appends an office number in E.164 form: the city's area code and a subscriber number
/// filling the national number to a usual length, often the switchboard (ending in 0).
pub(super) fn push_office_phone(out: &mut String, country: Country, city: &City, rng: &mut Rng) {
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
pub(super) fn push_mobile_phone(out: &mut String, country: Country, rng: &mut Rng) {
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

/// ISO 7064 MOD 11,10 over the eight digits of `body`.
pub(super) fn de_check_digit(body: u64) -> u32 {
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
pub(super) fn at_check_digit(body: u64) -> u32 {
    let mut sum = 0;
    for i in 0..7 {
        let d = (body / 10u64.pow(6 - i) % 10) as u32;
        sum += if i % 2 == 1 { d / 5 + (2 * d) % 10 } else { d };
    }
    (10 - (sum + 4) % 10) % 10
}

/// The Swiss UID check digit over the eight digits of `body`; none when it would be 10.
pub(super) fn ch_check_digit(body: u64) -> Option<u32> {
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
