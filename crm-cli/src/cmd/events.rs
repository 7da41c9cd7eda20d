//! `crm events tail`: the outbox as NDJSON (one event per line), resumable by sequence.

use std::io::Write as _;
use std::time::Duration;

use anyhow::Result;
use clap::Subcommand;
use crm_core::events::EventStream;

use crate::ctx::Ctx;
use crate::exit;

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print events after a sequence number as NDJSON; with --follow, keep waiting for new
    /// ones (resume later with --since LAST_SEQ).
    Tail {
        /// Start after this sequence number (0: from the beginning).
        #[arg(long, default_value_t = 0)]
        since: i64,
        /// Keep running and print new events as they are committed.
        #[arg(long)]
        follow: bool,
    },
}

pub async fn run(cmd: EventsCommand, ctx: &Ctx) -> Result<u8> {
    let EventsCommand::Tail { since, follow } = cmd;
    let (_, _, scope) = ctx.scope().await?;
    let mut stream = EventStream::open(scope, since).await?;
    loop {
        let wait = if follow {
            Duration::from_secs(30)
        } else {
            Duration::ZERO
        };
        let batch = stream.next_batch(wait).await?;
        if batch.is_empty() && !follow {
            return Ok(exit::OK);
        }
        let stdout = crate::pipe::stdout();
        let mut out = stdout.lock();
        for e in &batch {
            serde_json::to_writer(&mut out, e)?;
            writeln!(out)?;
        }
        out.flush()?;
    }
}
