//! Contacts: names, e-mail addresses, jobs and phones.

use super::company::{Traits, push_mobile_phone};
use super::layout::LayoutCache;
use super::rng::Rng;
use super::text::{fold_into, push_u64};
use super::*;

#[derive(Debug, Clone, Copy)]
pub(super) struct Name {
    pub(super) female: bool,
    pub(super) first: &'static str,
    pub(super) last: &'static str,
    pub(super) last2: Option<&'static str>,
}

/// Picks a contact's name: the first draws of the contact's random stream, so that the names
/// of colleagues can be recomputed cheaply when making e-mail addresses unique.
pub(super) fn pick_name(rng: &mut Rng, traits: &Traits) -> Name {
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
pub(super) fn local_part(name: &Name, format: u8, buf: &mut String) -> u64 {
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
pub(super) struct ContactCtx {
    pub(super) layout: LayoutCache,
    pub(super) company: CompanyCache,
    /// Hashes of the local parts of the company's contacts so far, in order.
    pub(super) hashes: Vec<u64>,
    pub(super) hashes_of: Option<u64>,
    pub(super) local: String,
    pub(super) scratch: String,
}

#[derive(Debug, Default)]
pub(super) struct CompanyCache {
    pub(super) index: Option<u64>,
    pub(super) row: GenCompany,
    pub(super) traits: Traits,
}

impl CompanyCache {
    pub(super) fn get(&mut self, generator: &Generator, c: u64) -> (&GenCompany, Traits) {
        if self.index != Some(c) {
            self.traits = generator.fill_company(c, &mut self.row);
            self.index = Some(c);
        }
        (&self.row, self.traits)
    }
}

impl Generator {
    pub(super) fn contact_rng(&self, i: u64) -> Rng {
        Rng::new(self.seed, STREAM_CONTACT, i)
    }

    pub(super) fn fill_contact(&self, i: u64, ctx: &mut ContactCtx, out: &mut GenContact) {
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
pub(super) fn push_last_name(out: &mut String, name: &str, swiss: bool) {
    if swiss && name.contains('ß') {
        out.push_str(&name.replace('ß', "ss"));
    } else {
        out.push_str(name);
    }
}
