//! The iterators over the generated rows.

use super::contact::{CompanyCache, ContactCtx};
use super::layout::LayoutCache;
use super::*;

/// The companies of a [`Generator`], in index order.
#[derive(Debug)]
pub struct Companies<'a> {
    pub(super) generator: &'a Generator,
    pub(super) next: u64,
    pub(super) end: u64,
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
    pub(super) generator: &'a Generator,
    pub(super) next: u64,
    pub(super) end: u64,
    pub(super) ctx: ContactCtx,
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
    pub(super) generator: &'a Generator,
    pub(super) next: u64,
    pub(super) end: u64,
    pub(super) cache: CompanyCache,
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
    pub(super) generator: &'a Generator,
    pub(super) next: u64,
    pub(super) end: u64,
    pub(super) layout: LayoutCache,
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

pub(super) fn remaining(next: u64, end: u64) -> (usize, Option<usize>) {
    let n = usize::try_from(end - next).unwrap_or(usize::MAX);
    (n, Some(n))
}
