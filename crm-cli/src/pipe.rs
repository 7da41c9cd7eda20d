//! Standard output that remembers a closed pipe: the one mechanism behind "a broken pipe is a
//! quiet success". Every command writes its data through [`stdout`]; when a write fails
//! because the reader went away (`crm export contacts | head -3`), the failure is noted
//! here, so `main` ends with exit 0 and no message however the error travelled (wrapped by
//! the library into text, or inside a CSV or JSON error).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether a write to stdout found the pipe closed during this run.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Notes a broken pipe in `result`, then hands it on.
fn watch<T>(result: io::Result<T>) -> io::Result<T> {
    if let Err(e) = &result
        && e.kind() == io::ErrorKind::BrokenPipe
    {
        CLOSED.store(true, Ordering::Relaxed);
    }
    result
}

/// A writer that notes a broken pipe (see the module documentation).
pub struct Watched<W>(W);

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        watch(self.0.write(buf))
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        watch(self.0.write_all(buf))
    }
    fn flush(&mut self) -> io::Result<()> {
        watch(self.0.flush())
    }
}

impl Watched<io::Stdout> {
    /// The locked standard output, still watched.
    pub fn lock(&self) -> Watched<io::StdoutLock<'static>> {
        Watched(io::stdout().lock())
    }
}

/// Standard output, watched for a closed pipe. Use it instead of `std::io::stdout()`.
pub fn stdout() -> Watched<io::Stdout> {
    Watched(io::stdout())
}

/// Writes `bytes` to stdout at once: for output made by libraries that panic on a write
/// error (completions) or that is built whole first (manual pages).
pub fn write_all(bytes: &[u8]) -> io::Result<()> {
    let mut out = stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}
