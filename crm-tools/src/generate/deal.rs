//! Deals and activities.

use super::contact::CompanyCache;
use super::layout::LayoutCache;
use super::rng::Rng;
use super::text::push_u64;
use super::*;

impl Generator {
    pub(super) fn deal_rng(&self, d: u64) -> Rng {
        Rng::new(self.seed, STREAM_DEAL, d)
    }

    /// The contact of deal `d`: the first draw of the deal's stream.
    pub(super) fn deal_contact(&self, d: u64) -> u64 {
        self.deal_rng(d).below(self.contacts)
    }

    pub(super) fn fill_deal(&self, d: u64, cache: &mut CompanyCache, out: &mut GenDeal) {
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

        out.value = deal_value(&mut rng);

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

        deal_title(&mut rng, &company.name, company.city, out);
    }

    pub(super) fn fill_activity(&self, a: u64, layout: &mut LayoutCache, out: &mut GenActivity) {
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

/// A deal value: log-normal-ish, most often a round sum.
fn deal_value(rng: &mut Rng) -> Decimal {
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
    Decimal::new(cents as i64, 2)
}

/// Writes the title of a deal with the company and close date already in `out`.
fn deal_title(rng: &mut Rng, company_name: &str, city: &str, out: &mut GenDeal) {
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
            title.push_str(company_name);
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
            title.push_str(city);
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
