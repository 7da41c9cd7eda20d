//! vCard files (`.vcf`): RFC 2426 (3.0) and RFC 6350 (4.0), and the 2.1 files of older
//! phones (bare type parameters, quoted-printable values, `CHARSET=`). A file is read whole
//! and each card becomes one row of the contact import, named by its fields; [`write`]
//! writes contacts as vCard 3.0 for `crm export contacts --format vcard`.

mod read;
pub mod write;

use std::io::{BufRead as _, BufReader, Read};

use super::Format;
use crate::error::{Error, Result};

pub use read::{Card, parse};

/// What the start of an input showed.
pub enum Sniffed<'a> {
    /// A vCard file, turned into CSV (header of field names, one row per card), with the
    /// line of each card's `BEGIN:VCARD`.
    Cards(Vec<u8>, Vec<u64>),
    /// Anything else, to be read as CSV (nothing consumed).
    Other(Box<dyn Read + Send + 'a>),
}

impl std::fmt::Debug for Sniffed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sniffed::Cards(_, lines) => write!(f, "Cards({})", lines.len()),
            Sniffed::Other(_) => f.write_str("Other"),
        }
    }
}

/// Looks at the start of `input`: a vCard (or `--from vcard`) is read and converted.
pub fn sniff<'a, R: Read + Send + 'a>(input: R, from: Option<Format>) -> Result<Sniffed<'a>> {
    let mut r = BufReader::with_capacity(1 << 20, input);
    let head = r
        .fill_buf()
        .map_err(|e| Error::Io(format!("reading the input failed: {e}")))?;
    let is_card = looks_like_vcard(head);
    if !is_card {
        if from == Some(Format::Vcard) {
            return Err(Error::invalid(
                "file",
                "not a vCard file (it does not start with BEGIN:VCARD)",
            ));
        }
        return Ok(Sniffed::Other(Box::new(r)));
    }
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)
        .map_err(|e| Error::Io(format!("reading the input failed: {e}")))?;
    let cards = parse(&bytes);
    let lines = cards.iter().map(|c| c.line).collect();
    Ok(Sniffed::Cards(read::to_csv(&cards)?, lines))
}

/// Whether bytes start (after a BOM and blank lines) with `BEGIN:VCARD`.
pub fn looks_like_vcard(head: &[u8]) -> bool {
    let head = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let rest = &head[start..];
    rest.len() >= 11 && rest[..11].eq_ignore_ascii_case(b"BEGIN:VCARD")
}
