//! The bulk part: generated contacts as CSV, streamed into the import.

use std::io::{self, Read};
use std::ops::Range;

use crate::generate::{GenCompany, GenContact, Generator};

use super::store::unclash;

pub(super) const CSV_HEADER: &str = "first_name,last_name,salutation,title,job_title,department,email,\
                          mobile,company,vat_id,website,street,postal_code,city,country,tags,\
                          source\n";

/// The contacts of a range as CSV (with their companies' details, so the import creates
/// complete companies), generated as the reader asks for them.
pub(super) struct CsvFeed<'g> {
    pub(super) generator: &'g Generator,
    pub(super) range: Range<u64>,
    pub(super) contact: GenContact,
    pub(super) company: GenCompany,
    pub(super) has_company: bool,
    pub(super) buf: Vec<u8>,
    pub(super) pos: usize,
}

impl<'g> CsvFeed<'g> {
    pub(super) fn new(generator: &'g Generator, range: Range<u64>) -> Self {
        Self {
            generator,
            range,
            contact: GenContact::default(),
            company: GenCompany::default(),
            has_company: false,
            buf: CSV_HEADER.as_bytes().to_vec(),
            pos: 0,
        }
    }

    /// Appends up to 256 rows; false at the end.
    pub(super) fn refill(&mut self) -> bool {
        self.buf.clear();
        self.pos = 0;
        let end = self.range.end.min(self.range.start + 256);
        let mut rows = self.generator.contacts_in(self.range.start..end);
        while rows.next_into(&mut self.contact) {
            let c = &self.contact;
            if !self.has_company || self.company.index != c.company_index {
                self.company = self.generator.company(c.company_index);
                self.has_company = true;
            }
            let co = &self.company;
            let email = unclash(&c.email);
            let tags = c.tags.join("|");
            let fields: [&str; 17] = [
                c.first_name,
                &c.last_name,
                c.salutation.unwrap_or_default(),
                c.title.unwrap_or_default(),
                c.job_title,
                c.department,
                &email,
                &c.phone,
                &co.name,
                &co.vat_id,
                &co.website,
                &co.street,
                &co.postal_code,
                c.city,
                co.country,
                &tags,
                c.source,
            ];
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    self.buf.push(b',');
                }
                push_field(&mut self.buf, f);
            }
            self.buf.push(b'\n');
        }
        self.range.start = end;
        !self.buf.is_empty()
    }
}

impl Read for CsvFeed<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.buf.len() && !self.refill() {
            return Ok(0);
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Appends one CSV field, quoted when it holds a comma, a quote or a line break.
pub(super) fn push_field(buf: &mut Vec<u8>, value: &str) {
    if !value.contains([',', '"', '\n', '\r']) {
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
