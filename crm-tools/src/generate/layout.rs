//! Layout: which contacts belong to which company.

use super::rng::Rng;
use super::*;

/// How the contacts of one group are split over its companies.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Shape {
    pub(super) counts: [u32; MAX_GROUP_COMPANIES],
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    pub(super) company: u64,
    /// The company's first contact.
    pub(super) first: u64,
    /// The contact's position among the company's contacts.
    pub(super) k: u32,
}

#[derive(Debug, Clone, Default)]
pub(super) struct LayoutCache {
    pub(super) group: Option<u64>,
    pub(super) shape: Shape,
}

impl Generator {
    pub(super) fn shape(&self, g: u64) -> Shape {
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

    pub(super) fn contact_slot(&self, i: u64, cache: &mut LayoutCache) -> Slot {
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
