//! Reading CSV files as people really have them: UTF-8 with or without BOM or Windows-1252
//! (German Excel), `,` `;` tab or `|` delimited, quoted fields with embedded delimiters and
//! newlines, headers in English or German.

use std::io::{Read, Write as _};

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// How many bytes are inspected to detect the encoding and the delimiter.
const SNIFF_BYTES: usize = 64 * 1024;

/// The text encoding of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    /// UTF-8 (a byte-order mark is skipped).
    Utf8,
    /// Windows-1252, the superset of Latin-1 that German Excel writes.
    Windows1252,
    /// UTF-16 little endian (with BOM).
    Utf16Le,
    /// UTF-16 big endian (with BOM).
    Utf16Be,
}

impl std::str::FromStr for TextEncoding {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Ok(Self::Utf8),
            "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" | "iso-8859-15"
            | "ansi" => Ok(Self::Windows1252),
            "utf-16le" | "utf-16" => Ok(Self::Utf16Le),
            "utf-16be" => Ok(Self::Utf16Be),
            _ => Err(Error::invalid(
                "encoding",
                "unknown encoding; use utf-8, windows-1252 (latin1) or utf-16",
            )),
        }
    }
}

impl TextEncoding {
    fn encoding(self) -> &'static Encoding {
        match self {
            Self::Utf8 => UTF_8,
            Self::Windows1252 => WINDOWS_1252,
            Self::Utf16Le => UTF_16LE,
            Self::Utf16Be => UTF_16BE,
        }
    }
}

/// Detects the encoding from the first bytes: a BOM decides; text whose every other byte is
/// mostly zero is UTF-16 without a BOM (little endian when the zeros are the odd bytes, as
/// Windows writes it); otherwise valid UTF-8 is UTF-8 and anything else is Windows-1252.
pub fn detect_encoding(head: &[u8]) -> TextEncoding {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return TextEncoding::Utf8;
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return TextEncoding::Utf16Le;
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return TextEncoding::Utf16Be;
    }
    if let Some(enc) = utf16_without_bom(head) {
        return enc;
    }
    match std::str::from_utf8(head) {
        Ok(_) => TextEncoding::Utf8,
        // Cut in the middle of a character at the end of the sample: still UTF-8.
        Err(e) if e.error_len().is_none() => TextEncoding::Utf8,
        Err(_) => TextEncoding::Windows1252,
    }
}

/// UTF-16 without a BOM: at least 4 code units, and at least 3 in 4 of the even (big
/// endian) or odd (little endian) bytes zero, as in text that is mostly Latin. A UTF-8 or
/// Windows-1252 file has no such zeros (a stray NUL byte or two do not count).
fn utf16_without_bom(head: &[u8]) -> Option<TextEncoding> {
    let units = head.len() / 2;
    if units < 4 {
        return None;
    }
    let even = head
        .iter()
        .step_by(2)
        .take(units)
        .filter(|b| **b == 0)
        .count();
    let odd = head
        .iter()
        .skip(1)
        .step_by(2)
        .take(units)
        .filter(|b| **b == 0)
        .count();
    if odd * 4 >= units * 3 && even * 4 < units {
        Some(TextEncoding::Utf16Le)
    } else if even * 4 >= units * 3 && odd * 4 < units {
        Some(TextEncoding::Utf16Be)
    } else {
        None
    }
}

/// Detects the delimiter from the header line: the most frequent of `;` `,` tab `|`
/// outside quotes.
pub fn detect_delimiter(head: &str) -> u8 {
    let mut counts = [(b';', 0usize), (b',', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for c in head.bytes() {
        match c {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(e) = counts.iter_mut().find(|(d, _)| *d == c) {
                    e.1 += 1;
                }
            }
            _ => {}
        }
    }
    // Ties go to the first listed (`;` beats `,`: German files use `,` in numbers).
    counts
        .iter()
        .max_by_key(|(d, n)| (*n, std::cmp::Reverse(*d == b'|')))
        .map_or(b',', |e| e.0)
}

/// A reader that decodes the input to UTF-8 (skipping a BOM) and hashes the raw bytes.
pub struct Source<R> {
    inner: R,
    decoder: Option<encoding_rs::Decoder>,
    raw: Vec<u8>,
    raw_pos: usize,
    out: Vec<u8>,
    out_pos: usize,
    eof: bool,
    hasher: Sha256,
    bytes: u64,
    encoding: TextEncoding,
    delimiter: u8,
}

impl<R> std::fmt::Debug for Source<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("encoding", &self.encoding)
            .field("delimiter", &(self.delimiter as char))
            .finish_non_exhaustive()
    }
}

impl<R: Read> Source<R> {
    /// Opens `inner`: reads a sample, detects (or takes) the encoding and the delimiter.
    pub fn open(
        mut inner: R,
        encoding: Option<TextEncoding>,
        delimiter: Option<u8>,
    ) -> Result<Self> {
        let mut head = vec![0u8; SNIFF_BYTES];
        let mut n = 0;
        while n < head.len() {
            match inner.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(format!("reading the input failed: {e}"))),
            }
        }
        head.truncate(n);
        let encoding = encoding.unwrap_or_else(|| detect_encoding(&head));
        let mut hasher = Sha256::new();
        hasher.update(&head);
        let (decoder, out) = if encoding == TextEncoding::Utf8 {
            // Fast path: pass UTF-8 through (invalid sequences are caught per field).
            let skip = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
                3
            } else {
                0
            };
            (None, head[skip..].to_vec())
        } else {
            let mut d = encoding.encoding().new_decoder();
            let mut out = Vec::with_capacity(head.len() * 2);
            decode_into(&mut d, &head, &mut out, false);
            (Some(d), out)
        };
        let sample = String::from_utf8_lossy(&out[..out.len().min(8192)]).into_owned();
        let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(&sample));
        Ok(Self {
            inner,
            decoder,
            raw: vec![0u8; 256 * 1024],
            raw_pos: 0,
            out,
            out_pos: 0,
            eof: n == 0,
            hasher,
            bytes: n as u64,
            encoding,
            delimiter,
        })
    }

    /// The encoding in use.
    pub fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    /// The delimiter in use.
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Raw bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The SHA-256 of the raw bytes read so far (of the whole input once it is consumed).
    pub fn digest(&self) -> Vec<u8> {
        self.hasher.clone().finalize().to_vec()
    }
}

fn decode_into(d: &mut encoding_rs::Decoder, input: &[u8], out: &mut Vec<u8>, last: bool) {
    let mut s = String::with_capacity(input.len() * 2 + 16);
    let mut consumed = 0;
    loop {
        let need = d
            .max_utf8_buffer_length(input.len() - consumed)
            .unwrap_or(input.len() * 3 + 16);
        s.reserve(need);
        let (res, read, _) = d.decode_to_string(&input[consumed..], &mut s, last);
        consumed += read;
        if res == encoding_rs::CoderResult::InputEmpty {
            break;
        }
    }
    out.extend_from_slice(s.as_bytes());
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.out_pos < self.out.len() {
                let n = (self.out.len() - self.out_pos).min(buf.len());
                buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.eof {
                return Ok(0);
            }
            self.out.clear();
            self.out_pos = 0;
            let n = self.inner.read(&mut self.raw[self.raw_pos..])?;
            self.raw_pos = 0;
            if n == 0 {
                self.eof = true;
                if let Some(d) = self.decoder.as_mut() {
                    decode_into(d, &[], &mut self.out, true);
                }
                continue;
            }
            self.bytes += n as u64;
            self.hasher.update(&self.raw[..n]);
            match self.decoder.as_mut() {
                None => self.out.write_all(&self.raw[..n])?,
                Some(d) => {
                    let chunk = self.raw[..n].to_vec();
                    decode_into(d, &chunk, &mut self.out, false);
                }
            }
        }
    }
}

/// Decodes one CSV field: UTF-8, or Windows-1252 when the bytes are not valid UTF-8 (a
/// file that is mostly UTF-8 with a few Latin-1 cells still imports correctly).
pub fn field_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => WINDOWS_1252.decode_without_bom_handling(bytes).0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> (String, TextEncoding, u8) {
        let mut s = Source::open(bytes, None, None).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        (out, s.encoding(), s.delimiter())
    }

    #[test]
    fn utf8_with_bom_is_stripped() {
        let (text, enc, delim) = read_all("\u{feff}Vorname;Nachname\nJürgen;Müller\n".as_bytes());
        assert_eq!(enc, TextEncoding::Utf8);
        assert_eq!(delim, b';');
        assert!(text.starts_with("Vorname;"));
        assert!(text.contains("Müller"));
    }

    #[test]
    fn windows_1252_is_detected_and_decoded() {
        // "Müller;Straße" in Windows-1252.
        let bytes = b"Nachname;Stra\xdfe\nM\xfcller;Hauptstra\xdfe 1\n";
        let (text, enc, delim) = read_all(bytes);
        assert_eq!(enc, TextEncoding::Windows1252);
        assert_eq!(delim, b';');
        assert!(text.contains("Müller;Hauptstraße 1"));
    }

    #[test]
    fn delimiters_are_detected_outside_quotes() {
        assert_eq!(detect_delimiter("a,b,c\n1;2"), b',');
        assert_eq!(detect_delimiter("\"a;b\",c,d\n"), b',');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter("a;b,c;d"), b';');
    }

    #[test]
    fn large_inputs_decode_across_chunk_boundaries() {
        let line = "Jürgen;Müller;Köln\n";
        let text: String = std::iter::repeat_n(line, 50_000).collect();
        let (enc_bytes, _, _) = WINDOWS_1252.encode(&text);
        let (decoded, enc, _) = read_all(&enc_bytes);
        assert_eq!(enc, TextEncoding::Windows1252);
        assert_eq!(decoded, text);
    }

    #[test]
    fn digest_covers_the_whole_input() {
        let data = vec![b'a'; 300_000];
        let mut s = Source::open(&data[..], None, None).unwrap();
        std::io::copy(&mut s, &mut std::io::sink()).unwrap();
        assert_eq!(s.digest(), Sha256::digest(&data).to_vec());
        assert_eq!(s.bytes_read(), 300_000);
    }

    #[test]
    fn utf16_without_bom_is_detected() {
        let text = "Vorname;Nachname\nJürgen;Müller\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let (decoded, enc, delim) = read_all(&le);
        assert_eq!((enc, delim), (TextEncoding::Utf16Le, b';'));
        assert_eq!(decoded, text);
        let (decoded, enc, _) = read_all(&be);
        assert_eq!(enc, TextEncoding::Utf16Be);
        assert_eq!(decoded, text);
        // One NUL byte in a UTF-8 file does not make it UTF-16.
        assert_eq!(
            detect_encoding(b"Vorname;Nachname\nMax;Mu\0ster\n"),
            TextEncoding::Utf8
        );
    }

    #[test]
    fn latin1_cells_in_utf8_files_decode() {
        assert_eq!(field_text(b"M\xfcller"), "Müller");
        assert_eq!(field_text("Müller".as_bytes()), "Müller");
    }
}
