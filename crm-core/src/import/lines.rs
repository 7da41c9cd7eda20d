//! Physical line numbers of CSV records: the line where a record starts, counting every
//! line feed before it (so CRLF files and newlines inside quoted fields count right).

use std::collections::VecDeque;
use std::io::Read;

/// A reader that remembers where the line feeds it passed on are, so the line of a byte
/// offset can be told afterwards. Offsets are asked in increasing order; the ones passed
/// are forgotten (memory stays at what the CSV reader buffers).
pub struct LineCounter<R> {
    inner: R,
    offset: u64,
    /// Offsets of line-end bytes not passed yet, and whether each is a line feed.
    pending: VecDeque<(u64, bool)>,
    before: u64,
    /// Where the record being read starts, and how far past it reading may go.
    record_start: u64,
    max_record: Option<u64>,
}

/// The error [`LineCounter`] gives when a record grows past its cap (see
/// [`LineCounter::is_record_too_large`]).
#[derive(Debug)]
struct RecordTooLarge;

impl std::fmt::Display for RecordTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a record is larger than the cap")
    }
}

impl std::error::Error for RecordTooLarge {}

impl<R> std::fmt::Debug for LineCounter<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineCounter")
            .field("offset", &self.offset)
            .field("lines_before", &self.before)
            .finish_non_exhaustive()
    }
}

impl<R> LineCounter<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            pending: VecDeque::new(),
            before: 0,
            record_start: 0,
            max_record: None,
        }
    }

    /// Caps a record at `bytes` (plus what the CSV reader buffers): reading further than
    /// that past the start of the current record fails, so a runaway quoted field is never
    /// read into memory whole.
    pub fn with_record_cap(mut self, bytes: u64) -> Self {
        self.max_record = Some(bytes);
        self
    }

    /// Tells where the next record starts (the CSV reader's position after a record).
    pub fn start_record(&mut self, offset: u64) {
        self.record_start = offset;
    }

    /// Where the record being read starts.
    pub fn record_start(&self) -> u64 {
        self.record_start
    }

    /// Whether `e` is the error of a record past the cap.
    pub fn is_record_too_large(e: &std::io::Error) -> bool {
        e.get_ref()
            .is_some_and(|inner| inner.is::<RecordTooLarge>())
    }

    /// The 1-based line of the record the CSV reader reports at `offset` (offsets asked
    /// never decrease). The reader reports a record at the line end that precedes it (and
    /// blank lines are no records), so line-end bytes right at `offset` are skipped first.
    pub fn line_at(&mut self, offset: u64) -> u64 {
        while let Some(&(o, lf)) = self.pending.front() {
            if o >= offset {
                break;
            }
            self.pending.pop_front();
            self.before += u64::from(lf);
        }
        let mut at = offset;
        while let Some(&(o, lf)) = self.pending.front() {
            if o != at {
                break;
            }
            self.pending.pop_front();
            self.before += u64::from(lf);
            at += 1;
        }
        self.before + 1
    }

    /// The wrapped reader.
    pub fn inner(&self) -> &R {
        &self.inner
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(cap) = self.max_record
            && self.offset.saturating_sub(self.record_start) > cap
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                RecordTooLarge,
            ));
        }
        let n = self.inner.read(buf)?;
        for (i, b) in buf[..n].iter().enumerate() {
            if *b == b'\n' || *b == b'\r' {
                self.pending
                    .push_back((self.offset + i as u64, *b == b'\n'));
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<u64> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(LineCounter::new(text.as_bytes()));
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while r.read_byte_record(&mut rec).unwrap() {
            let byte = rec.position().map(|p| p.byte()).unwrap_or(0);
            out.push(r.get_mut().line_at(byte));
        }
        out
    }

    #[test]
    fn a_record_past_the_cap_stops_reading() {
        let big = format!("h\na\n\"{}\nb\n", "x".repeat(100_000));
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(LineCounter::new(big.as_bytes()).with_record_cap(10_000));
        let mut rec = csv::ByteRecord::new();
        let mut read = 0;
        let err = loop {
            match r.read_byte_record(&mut rec) {
                Ok(true) => {
                    read += 1;
                    let pos = r.position().byte();
                    r.get_mut().start_record(pos);
                }
                Ok(false) => panic!("the runaway record was read whole"),
                Err(e) => break e,
            }
        };
        assert_eq!(read, 2, "the records before it are read");
        match err.kind() {
            csv::ErrorKind::Io(e) => assert!(LineCounter::<&[u8]>::is_record_too_large(e)),
            k => panic!("{k:?}"),
        }
    }

    #[test]
    fn lf_crlf_and_quoted_newlines() {
        assert_eq!(lines("h\na\nb\n"), vec![1, 2, 3]);
        assert_eq!(lines("h\r\na\r\nb\r\n"), vec![1, 2, 3]);
        assert_eq!(lines("h,n\r\na,\"x\ny\"\r\nb,z\r\n"), vec![1, 2, 4]);
        assert_eq!(lines("h,n\r\na,\"x\r\n\r\ny\"\r\nb,z\r\n"), vec![1, 2, 5]);
        assert_eq!(
            lines("h\r\n\r\n\r\na\r\n"),
            vec![1, 4],
            "blank lines are no records"
        );
    }
}
