use std::collections::{HashMap, HashSet};

use super::company::{
    at_check_digit, base_name, ch_check_digit, de_check_digit, push_mobile_phone, push_office_phone,
};
use super::contact::{Name, local_part};
use super::csv::push_csv_field;
use super::rng::Rng;
use super::text::{fold_into, slug_into};
use super::*;
use crm_core::domain::{Email, Phone, VatId, fold_for_search};

fn has_umlaut(s: &str) -> bool {
    s.contains(['ä', 'ö', 'ü', 'Ä', 'Ö', 'Ü', 'ß'])
}

#[test]
fn counts_follow_the_contact_count() {
    for (contacts, companies, deals) in [
        (0, 1, 0),
        (1, 1, 1),
        (7, 1, 1),
        (8, 1, 2),
        (63, 7, 15),
        (64, 8, 16),
        (100, 12, 25),
        (1_000, 125, 250),
        (12_345, 1_543, 3_086),
    ] {
        let g = Generator::new(1, contacts);
        assert_eq!(g.company_count(), companies, "{contacts}");
        assert_eq!(g.deal_count(), deals, "{contacts}");
        assert_eq!(g.activity_count(3), contacts * 3);
        assert_eq!(g.contacts().len() as u64, contacts);
        assert_eq!(g.companies().count() as u64, companies);
    }
}

#[test]
fn every_company_has_contacts_and_the_layout_is_consistent() {
    for contacts in [8, 9, 63, 64, 65, 127, 128, 1_000, 4_321] {
        let g = Generator::new(7, contacts);
        let mut next = 0;
        let mut sizes = Vec::new();
        for c in 0..g.company_count() {
            let range = g.company_contacts(c);
            assert_eq!(range.start, next, "contiguous ({contacts}, company {c})");
            assert!(
                !range.is_empty(),
                "company {c} of {contacts} has no contact"
            );
            for i in range.clone() {
                assert_eq!(g.contact_company(i), c);
            }
            sizes.push(range.end - range.start);
            next = range.end;
        }
        assert_eq!(next, contacts, "all contacts placed");
        if contacts >= 1_000 {
            // Companies vary in size: some have one contact, some many.
            assert!(sizes.contains(&1));
            assert!(sizes.iter().any(|&n| n >= 20), "{sizes:?}");
        }
    }
}

#[test]
fn same_seed_same_rows_other_seed_other_rows() {
    let a = Generator::new(42, 3_000);
    let b = Generator::new(42, 3_000);
    let c = Generator::new(43, 3_000);
    assert!(a.contacts().eq(b.contacts()));
    assert!(a.companies().eq(b.companies()));
    assert!(a.deals().eq(b.deals()));
    assert!(a.activities(3).eq(b.activities(3)));

    let emails_a: Vec<String> = a.contacts().map(|r| r.email).collect();
    let emails_c: Vec<String> = c.contacts().map(|r| r.email).collect();
    let same = emails_a
        .iter()
        .zip(&emails_c)
        .filter(|(x, y)| x == y)
        .count();
    assert!(same < 30, "{same} of 3000 e-mails equal under another seed");
    let names_a: Vec<String> = a.companies().map(|r| r.name).collect();
    let names_c: Vec<String> = c.companies().map(|r| r.name).collect();
    assert_ne!(names_a, names_c);
    assert_ne!(a.deal(0), c.deal(0));
}

#[test]
fn any_row_alone_equals_the_row_in_the_stream() {
    let g = Generator::new(9, 5_000);
    let contacts: Vec<GenContact> = g.contacts().collect();
    let companies: Vec<GenCompany> = g.companies().collect();
    let deals: Vec<GenDeal> = g.deals().collect();
    let activities: Vec<GenActivity> = g.activities(3).collect();
    for i in (0..5_000).step_by(37).chain([1, 2, 3, 4_999]) {
        assert_eq!(g.contact(i), contacts[i as usize], "contact {i}");
    }
    for i in (0..companies.len() as u64).step_by(7) {
        assert_eq!(g.company(i), companies[i as usize], "company {i}");
    }
    for i in (0..deals.len() as u64).step_by(11) {
        assert_eq!(g.deal(i), deals[i as usize], "deal {i}");
    }
    for i in (0..activities.len() as u64).step_by(101) {
        assert_eq!(g.activity(i), activities[i as usize], "activity {i}");
    }
    // Ranges starting in the middle of a company, as parallel workers would cut them.
    for start in [5, 130, 2_001, 4_990] {
        let part: Vec<GenContact> = g.contacts_in(start..start + 40).collect();
        assert_eq!(
            part,
            contacts[start as usize..(start as usize + 40).min(5_000)]
        );
    }
    let part: Vec<GenDeal> = g.deals_in(100..150).collect();
    assert_eq!(part, deals[100..150]);
    let part: Vec<GenActivity> = g.activities_in(3, 1_000..1_100).collect();
    assert_eq!(part, activities[1_000..1_100]);
    // Ranges beyond the end are clipped.
    assert_eq!(g.contacts_in(4_990..10_000).len(), 10);
    assert_eq!(g.companies_in(700..800).len(), 0);
    // The activities of fewer per contact are a prefix of those of more.
    assert!(g.activities(2).eq(g.activities(3).take(10_000)));
}

#[test]
fn emails_are_unique_valid_ascii_and_at_the_company_domain() {
    let g = Generator::new(2026, 200_000);
    let mut seen = HashSet::with_capacity(200_000);
    let mut domains = HashMap::new();
    let mut contacts = g.contacts();
    let mut c = GenContact::default();
    let mut numbered = 0;
    while contacts.next_into(&mut c) {
        assert!(
            c.email.bytes().all(|b| b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(b, b'.' | b'-' | b'@')),
            "{}",
            c.email
        );
        let (local, domain) = c.email.split_once('@').unwrap();
        if local.ends_with(|ch: char| ch.is_ascii_digit()) {
            numbered += 1;
        }
        let company_domain = domains
            .entry(c.company_index)
            .or_insert_with(|| g.company(c.company_index).domain);
        assert_eq!(domain, company_domain.as_str());
        if c.index % 13 == 0 {
            Email::parse(&c.email).unwrap_or_else(|e| panic!("{}: {e}", c.email));
        }
        assert!(seen.insert(c.email.clone()), "duplicate e-mail {}", c.email);
    }
    assert_eq!(seen.len(), 200_000);
    // Numbers only where colleagues share a name, not everywhere.
    assert!(numbered > 0 && numbered < 20_000, "{numbered}");
}

#[test]
fn email_local_parts_fold_names_to_ascii() {
    let mut buf = String::new();
    let name = Name {
        female: false,
        first: "Jérôme",
        last: "Größer",
        last2: Some("Weiß"),
    };
    local_part(&name, 0, &mut buf);
    assert_eq!(buf, "jerome.groesser-weiss");
    local_part(&name, 1, &mut buf);
    assert_eq!(buf, "j.groesser-weiss");
    local_part(&name, 2, &mut buf);
    assert_eq!(buf, "jerome");
    let name = Name {
        female: true,
        first: "Ayşe",
        last: "Öztürk",
        last2: None,
    };
    local_part(&name, 3, &mut buf);
    assert_eq!(buf, "ayseoeztuerk");

    // Every name folds to ASCII letters and hyphens, as the search folding does.
    let lists: &[&[&str]] = &[
        data::MALE_DE,
        data::FEMALE_DE,
        data::MALE_AT,
        data::FEMALE_AT,
        data::MALE_CH,
        data::FEMALE_CH,
        data::MALE_FR,
        data::FEMALE_FR,
        data::MALE_INTL,
        data::FEMALE_INTL,
        data::LAST_DE,
        data::LAST_AT,
        data::LAST_CH,
        data::LAST_FR,
        data::LAST_INTL,
    ];
    for name in lists.iter().flat_map(|l| l.iter()) {
        let mut folded = String::new();
        fold_into(name, &mut folded);
        assert!(
            !folded.is_empty() && folded.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{name} -> {folded}"
        );
        assert_eq!(folded, fold_for_search(name), "{name}");
    }
}

#[test]
fn vat_ids_are_valid_unique_and_match_the_country() {
    let g = Generator::new(77, 400_000);
    let mut vats = HashSet::new();
    let mut domains = HashSet::new();
    let mut countries: HashMap<&str, u64> = HashMap::new();
    let mut companies = g.companies();
    let mut c = GenCompany::default();
    while companies.next_into(&mut c) {
        let vat = VatId::parse(&c.vat_id).unwrap_or_else(|e| panic!("{}: {e}", c.vat_id));
        assert_eq!(vat.country(), c.country, "{}", c.vat_id);
        match c.country {
            "DE" => assert!(c.vat_id.len() == 11 && c.vat_id.starts_with("DE")),
            "AT" => {
                assert!(c.vat_id.len() == 11 && c.vat_id.starts_with("ATU"));
                let digits: Vec<u32> = c.vat_id[3..].bytes().map(|b| u32::from(b - b'0')).collect();
                let body = digits[..7].iter().fold(0u64, |n, &d| n * 10 + u64::from(d));
                assert_eq!(at_check_digit(body), digits[7], "{}", c.vat_id);
            }
            _ => assert!(
                c.vat_id.starts_with("CHE-")
                    && (c.vat_id.ends_with(" MWST") || c.vat_id.ends_with(" TVA")),
                "{}",
                c.vat_id
            ),
        }
        assert!(vats.insert(vat), "duplicate VAT id {}", c.vat_id);
        assert!(
            domains.insert(c.domain.clone()),
            "duplicate domain {}",
            c.domain
        );
        assert_eq!(c.website, format!("https://www.{}", c.domain));
        *countries.entry(c.country).or_default() += 1;
    }
    let total = g.company_count() as f64;
    let share = |k: &str| countries.get(k).copied().unwrap_or(0) as f64 / total;
    assert!((0.67..0.73).contains(&share("DE")), "{countries:?}");
    assert!((0.13..0.17).contains(&share("AT")), "{countries:?}");
    assert!((0.13..0.17).contains(&share("CH")), "{countries:?}");
}

#[test]
fn check_digits_match_known_ids() {
    // DE136695976, DE123456788 (see domain::vat), ATU13585627, CHE-116.281.710.
    assert_eq!(de_check_digit(13_669_597), 6);
    assert_eq!(de_check_digit(12_345_678), 8);
    assert_eq!(at_check_digit(1_358_562), 7);
    assert_eq!(ch_check_digit(11_628_171), Some(0));
}

#[test]
fn base_names_map_to_distinct_domains() {
    // The uniqueness of domains rests on distinct base names giving distinct labels, in
    // German and in French, and on region words never producing another base name.
    let mut owner: HashMap<String, (usize, u64)> = HashMap::new();
    let mut name = String::new();
    let mut slug = String::new();
    for p in 0..PATTERNS {
        for r in 0..pattern_size(p) {
            for french in [false, true] {
                name.clear();
                slug.clear();
                base_name(p, r, french, &mut name);
                slug_into(&name, &mut slug);
                assert!(
                    !slug.is_empty()
                        && slug.len() <= 50
                        && !slug.starts_with('-')
                        && !slug.ends_with('-')
                        && slug
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                    "{name} -> {slug}"
                );
                let prev = owner.entry(slug.clone()).or_insert((p, r));
                assert_eq!(*prev, (p, r), "{name} -> {slug}");
            }
        }
    }
    for region in data::REGIONS {
        let mut r = String::new();
        slug_into(region, &mut r);
        // A base name never ends in a region word, so `base-region` is never a base name.
        assert!(
            !owner.keys().any(|s| s.ends_with(&format!("-{r}"))),
            "region {region}"
        );
    }
}

#[test]
fn company_fields_are_realistic() {
    let g = Generator::new(5, 80_000);
    let mut with_comma = 0;
    let mut cities = HashSet::new();
    let mut industries = HashSet::new();
    for c in g.companies() {
        assert!(c.name.ends_with(c.legal_form), "{}", c.name);
        let digits = if c.country == "DE" { 5 } else { 4 };
        assert!(
            c.postal_code.len() == digits && c.postal_code.bytes().all(|b| b.is_ascii_digit()),
            "{}",
            c.postal_code
        );
        let city = Country::cities(match c.country {
            "DE" => Country::De,
            "AT" => Country::At,
            _ => Country::Ch,
        })
        .iter()
        .find(|x| x.name == c.city)
        .unwrap();
        let plz: u32 = c.postal_code.parse().unwrap();
        assert!(
            (city.plz.0..=city.plz.1).contains(&plz),
            "{} {}",
            c.city,
            plz
        );
        assert_eq!(c.register_court, city.court);
        match c.country {
            "DE" => assert!(
                c.trade_register.starts_with("HRB ") || c.trade_register.starts_with("HRA "),
                "{}",
                c.trade_register
            ),
            "AT" => assert!(c.trade_register.starts_with("FN "), "{}", c.trade_register),
            _ => assert!(
                c.vat_id.starts_with(&c.trade_register),
                "{}",
                c.trade_register
            ),
        }
        if city.french {
            assert!(matches!(c.legal_form, "SA" | "Sàrl"), "{}", c.name);
        }
        assert!(matches!(c.size, "micro" | "small" | "medium" | "large"));
        assert!(!c.street.is_empty() && c.street.contains(|ch: char| ch.is_ascii_digit()));
        if c.country == "CH" {
            assert!(!c.street.contains('ß'), "{}", c.street);
        }
        with_comma += usize::from(c.name.contains(','));
        cities.insert(c.city);
        industries.insert(c.industry_key);
    }
    assert!(with_comma > 100, "{with_comma}");
    assert!(cities.len() >= 100, "{}", cities.len());
    assert_eq!(industries.len(), 18, "{industries:?}");
}

#[test]
fn phones_are_valid_e164_for_every_city_and_mobile_prefix() {
    let mut rng = Rng::new(1, 99, 0);
    let mut number = String::new();
    for country in [Country::De, Country::At, Country::Ch] {
        for city in country.cities() {
            for _ in 0..30 {
                number.clear();
                push_office_phone(&mut number, country, city, &mut rng);
                let p = Phone::parse(&number, "DE")
                    .unwrap_or_else(|e| panic!("{} {number}: {e}", city.name));
                assert_eq!(p.e164(), number);
            }
        }
        let mobiles = match country {
            Country::De => data::MOBILE_DE,
            Country::At => data::MOBILE_AT,
            Country::Ch => data::MOBILE_CH,
        };
        let mut prefixes = HashSet::new();
        for _ in 0..1_000 {
            number.clear();
            push_mobile_phone(&mut number, country, &mut rng);
            let p = Phone::parse(&number, "DE").unwrap_or_else(|e| panic!("{number}: {e}"));
            assert_eq!(p.e164(), number);
            let (prefix, _) = mobiles
                .iter()
                .find(|(m, _)| number[3..].starts_with(m))
                .unwrap();
            prefixes.insert(*prefix);
        }
        assert_eq!(
            prefixes.len(),
            mobiles.len(),
            "every prefix is used and valid"
        );
    }
    // And those of generated rows.
    let g = Generator::new(3, 3_000);
    for c in g.companies() {
        assert_eq!(Phone::parse(&c.phone, "DE").unwrap().e164(), c.phone);
    }
    for c in g.contacts().step_by(3) {
        assert_eq!(Phone::parse(&c.phone, "DE").unwrap().e164(), c.phone);
        let code = &c.phone[..3];
        let country = g.company(c.company_index).country;
        let expected = match country {
            "DE" => "+49",
            "AT" => "+43",
            _ => "+41",
        };
        assert_eq!(code, expected);
    }
}

#[test]
fn contacts_look_german_swiss_and_austrian() {
    let g = Generator::new(11, 40_000);
    let mut umlauts = 0;
    let mut doubles = 0;
    let mut titles = 0;
    let mut no_salutation = 0;
    let mut first_names = HashSet::new();
    let mut last_names = HashSet::new();
    let mut tag_counts = [0; 4];
    let mut sources = HashSet::new();
    let mut company = GenCompany::default();
    for c in g.contacts() {
        if company.index != c.company_index || company.name.is_empty() {
            company = g.company(c.company_index);
        }
        assert_eq!(c.company_name, company.name);
        umlauts += usize::from(has_umlaut(&c.last_name));
        doubles += usize::from(c.last_name.contains('-'));
        titles += usize::from(c.title.is_some());
        no_salutation += usize::from(c.salutation.is_none());
        if company.country == "CH" {
            assert!(!c.last_name.contains('ß'), "{}", c.last_name);
        }
        match c.salutation {
            Some("Frau") => assert!(
                data::JOBS.iter().any(|j| j.1 == c.job_title),
                "{}",
                c.job_title
            ),
            Some("Herr") => assert!(data::JOBS.iter().any(|j| j.0 == c.job_title)),
            _ => {}
        }
        assert!(c.tags.len() <= 3);
        let distinct: HashSet<_> = c.tags.iter().collect();
        assert_eq!(distinct.len(), c.tags.len());
        tag_counts[c.tags.len()] += 1;
        sources.insert(c.source);
        first_names.insert(c.first_name);
        last_names.insert(c.last_name.clone());
    }
    let n = 40_000.0;
    assert!(umlauts as f64 / n > 0.10, "umlaut share {umlauts}");
    assert!(
        (0.03..0.07).contains(&(doubles as f64 / n)),
        "double names {doubles}"
    );
    assert!(
        (0.02..0.12).contains(&(titles as f64 / n)),
        "titles {titles}"
    );
    assert!(
        (0.03..0.09).contains(&(no_salutation as f64 / n)),
        "{no_salutation}"
    );
    assert!(first_names.len() >= 150, "{}", first_names.len());
    assert!(last_names.len() >= 250, "{}", last_names.len());
    assert!(tag_counts.iter().all(|&k| k > 0), "{tag_counts:?}");
    assert_eq!(sources.len(), 6);
}

#[test]
fn word_lists_are_large_enough() {
    let firsts = data::MALE_DE.len()
        + data::FEMALE_DE.len()
        + data::MALE_AT.len()
        + data::FEMALE_AT.len()
        + data::MALE_CH.len()
        + data::FEMALE_CH.len()
        + data::MALE_FR.len()
        + data::FEMALE_FR.len()
        + data::MALE_INTL.len()
        + data::FEMALE_INTL.len();
    assert!(firsts >= 150, "{firsts}");
    let lasts: HashSet<&str> = [
        data::LAST_DE,
        data::LAST_AT,
        data::LAST_CH,
        data::LAST_FR,
        data::LAST_INTL,
    ]
    .iter()
    .flat_map(|l| l.iter().copied())
    .collect();
    assert!(lasts.len() >= 250, "{}", lasts.len());
    let cities = data::CITIES_DE.len() + data::CITIES_AT.len() + data::CITIES_CH.len();
    assert!(cities >= 80, "{cities}");
    assert!(data::STEMS.len() >= 60);
    for city in data::CITIES_DE
        .iter()
        .chain(data::CITIES_AT)
        .chain(data::CITIES_CH)
    {
        assert!(city.plz.0 <= city.plz.1, "{}", city.name);
    }
}

#[test]
fn deals_are_consistent() {
    let g = Generator::new(8, 20_000);
    let mut statuses: HashMap<&str, u32> = HashMap::new();
    let min = BASE_DATE - TimeDelta::days(366);
    let max = BASE_DATE + TimeDelta::days(366);
    for d in g.deals() {
        assert!(d.contact_index < g.contact_count());
        assert_eq!(d.company_index, g.contact_company(d.contact_index));
        let company = g.company(d.company_index);
        let currency = if company.country == "CH" {
            "CHF"
        } else {
            "EUR"
        };
        assert_eq!(d.currency, currency);
        assert_eq!(d.value.scale(), 2);
        assert!(
            d.value >= Decimal::new(1_000, 0) && d.value <= Decimal::new(500_000, 0),
            "{}",
            d.value
        );
        assert!(d.stage_index < 5);
        assert_eq!(d.lost_reason_key.is_some(), d.status == "lost");
        if let Some(key) = d.lost_reason_key {
            assert!(
                crm_core::domain::DEFAULT_LOST_REASONS
                    .iter()
                    .any(|r| r.key == key)
            );
        }
        if d.status == "won" {
            assert_eq!(d.stage_index, 4);
        }
        assert!((min..=max).contains(&d.expected_close_date));
        let created = BASE_DATE - TimeDelta::days(i64::from(d.created_days_ago));
        assert!(
            d.expected_close_date >= created,
            "closes before it was created"
        );
        if d.status != "open" {
            assert!(d.expected_close_date <= BASE_DATE);
        }
        assert!(!d.title.trim().is_empty());
        *statuses.entry(d.status).or_default() += 1;
    }
    let open = f64::from(statuses["open"]) / g.deal_count() as f64;
    assert!((0.66..0.74).contains(&open), "{statuses:?}");
    assert!(statuses["won"] > 0 && statuses["lost"] > 0);
}

#[test]
fn activities_spread_around_the_base_date() {
    let g = Generator::new(4, 10_000);
    let base = BASE_DATE.and_time(NaiveTime::MIN).and_utc();
    let (mut overdue_open, mut today, mut future, mut with_deal) = (0, 0, 0, 0);
    let mut kinds = HashSet::new();
    for a in g.activities(3) {
        assert!(a.contact_index < g.contact_count());
        assert_eq!(a.company_index, g.contact_company(a.contact_index));
        if let Some(deal) = a.deal_index {
            assert_eq!(g.deal(deal).contact_index, a.contact_index);
            with_deal += 1;
        }
        kinds.insert(a.kind);
        match a.due_at {
            None => assert!(a.done && matches!(a.kind, "note" | "email")),
            Some(due) => {
                let days = (due - base).num_days();
                assert!((-365..=365).contains(&days), "{due}");
                if due.date_naive() == BASE_DATE {
                    today += 1;
                } else if due < base && !a.done {
                    overdue_open += 1;
                } else if due > base {
                    future += 1;
                }
            }
        }
    }
    assert_eq!(kinds.len(), 6);
    assert!(overdue_open > 100 && today > 100 && future > 1_000);
    assert!((8_000..13_000).contains(&with_deal), "{with_deal}");
}

/// A minimal RFC 4180 reader for the round trip.
fn parse_csv(text: &str, delimiter: char) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else if c == '"' {
            quoted = true;
        } else if c == delimiter {
            row.push(std::mem::take(&mut field));
        } else if c == '\n' {
            row.push(std::mem::take(&mut field));
            rows.push(std::mem::take(&mut row));
        } else {
            field.push(c);
        }
    }
    assert!(field.is_empty() && row.is_empty(), "text ends mid-row");
    rows
}

#[test]
fn csv_quotes_what_needs_quoting() {
    let mut buf = Vec::new();
    for value in [
        "plain",
        "a,b",
        "say \"hi\"",
        "two\nlines",
        "cr\r",
        "semi;colon",
        "",
    ] {
        buf.clear();
        push_csv_field(&mut buf, value, b',');
        let text = String::from_utf8(buf.clone()).unwrap();
        let quoted = value.contains([',', '"', '\n', '\r']);
        assert_eq!(text.starts_with('"'), quoted, "{value:?} -> {text}");
        let parsed = parse_csv(&format!("{text}\n"), ',');
        assert_eq!(parsed, vec![vec![value.to_string()]]);
    }
    buf.clear();
    push_csv_field(&mut buf, "semi;colon", b';');
    assert_eq!(buf, b"\"semi;colon\"");
}

#[test]
fn contacts_csv_round_trips_in_english_and_german() {
    let g = Generator::new(12, 3_000);
    let contacts: Vec<GenContact> = g.contacts().collect();
    for (header, delimiter, first) in [
        (CsvHeader::English, ',', "first_name"),
        (CsvHeader::German, ';', "Vorname"),
    ] {
        let mut out = Vec::new();
        assert_eq!(write_contacts_csv(&g, &mut out, header).unwrap(), 3_000);
        let text = String::from_utf8(out).unwrap();
        let rows = parse_csv(&text, delimiter);
        assert_eq!(rows.len(), 3_001);
        assert_eq!(rows[0].len(), 8);
        assert_eq!(rows[0][0], first);
        for (row, c) in rows[1..].iter().zip(&contacts) {
            let expected = [
                c.first_name.to_string(),
                c.last_name.clone(),
                c.email.clone(),
                c.phone.clone(),
                c.company_name.clone(),
                c.job_title.to_string(),
                c.city.to_string(),
                c.tags.join("|"),
            ];
            assert_eq!(row.as_slice(), expected.as_slice());
        }
        if header == CsvHeader::English {
            // Company names such as "Müller, Schäfer & Partner KG" needed quotes.
            assert!(text.contains(", "));
            assert!(contacts.iter().any(|c| c.company_name.contains(',')));
        }
    }
    assert_eq!(
        String::from_utf8({
            let mut out = Vec::new();
            write_contacts_csv(&Generator::new(1, 0), &mut out, CsvHeader::German).unwrap();
            out
        })
        .unwrap(),
        "Vorname;Nachname;E-Mail;Telefon;Firma;Position;Ort;Tags\n"
    );
}

#[test]
fn companies_csv_round_trips() {
    let g = Generator::new(13, 4_000);
    let mut out = Vec::new();
    assert_eq!(
        write_companies_csv(&g, &mut out, CsvHeader::English).unwrap(),
        500
    );
    let rows = parse_csv(&String::from_utf8(out).unwrap(), ',');
    assert_eq!(
        rows[0],
        [
            "name", "domain", "vat_id", "industry", "city", "country", "phone"
        ]
    );
    for (row, c) in rows[1..].iter().zip(g.companies()) {
        assert_eq!(
            row.as_slice(),
            [
                c.name.as_str(),
                &c.domain,
                &c.vat_id,
                c.industry_key,
                c.city,
                c.country,
                &c.phone
            ]
        );
    }
    let mut out = Vec::new();
    write_companies_csv(&g, &mut out, CsvHeader::German).unwrap();
    let rows = parse_csv(&String::from_utf8(out).unwrap(), ';');
    assert_eq!(rows.len(), 501);
    assert_eq!(rows[0][2], "USt-IdNr.");
}

#[test]
fn perm_is_a_bijection() {
    for size in [1, 2, 3, 5, 17, 1_000, 4_097] {
        let perm = Perm::new(size, 3, 1);
        let image: HashSet<u64> = (0..size).map(|x| perm.apply(x)).collect();
        assert_eq!(image.len() as u64, size);
        assert!(image.iter().all(|&y| y < size));
    }
}

/// Run with `cargo test --release -p crm-core --lib generate -- --ignored --nocapture`.
#[test]
#[ignore = "prints throughput; run in release mode"]
fn throughput() {
    let g = Generator::new(1, 2_000_000);
    let start = std::time::Instant::now();
    let mut row = GenContact::default();
    let mut contacts = g.contacts();
    let mut bytes = 0;
    while contacts.next_into(&mut row) {
        bytes += row.email.len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!("contacts: {:.0}/s ({bytes} e-mail bytes)", 2e6 / secs);

    let start = std::time::Instant::now();
    let rows = write_contacts_csv(&g, io::sink(), CsvHeader::English).unwrap();
    println!(
        "contacts CSV: {:.0} rows/s",
        rows as f64 / start.elapsed().as_secs_f64()
    );

    let start = std::time::Instant::now();
    let n = g.companies().count();
    println!(
        "companies: {:.0}/s",
        n as f64 / start.elapsed().as_secs_f64()
    );
    let start = std::time::Instant::now();
    let n = g.deals().count();
    println!("deals: {:.0}/s", n as f64 / start.elapsed().as_secs_f64());
    let start = std::time::Instant::now();
    let n = g.activities(3).count();
    println!(
        "activities: {:.0}/s",
        n as f64 / start.elapsed().as_secs_f64()
    );
}
