//! Changes made elsewhere (the CLI, another user): a task follows the event outbox (LISTEN /
//! NOTIFY through crm-core's event stream) and tells the console which kinds of records
//! changed. A lost connection shows as "reconnecting" and is retried every 5 seconds.

use std::time::Duration;

use crm_core::Scope;
use crm_core::console;
use crm_core::events::EventStream;
use tokio::sync::mpsc::UnboundedSender;

use crate::command::Message;

/// Starts following the outbox from its newest event.
pub fn spawn(scope: Scope, tx: UnboundedSender<Message>) {
    tokio::spawn(async move {
        loop {
            if follow(&scope, &tx).await.is_err() && tx.send(Message::Live(false)).is_err() {
                return;
            }
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
}

/// Follows until an error (or the console closes).
async fn follow(scope: &Scope, tx: &UnboundedSender<Message>) -> crm_core::Result<()> {
    let head = scope.run(async |t| console::event_head(t).await).await?;
    let mut stream = EventStream::open(scope.clone(), head).await?;
    if tx.send(Message::Live(true)).is_err() {
        return Ok(());
    }
    loop {
        let batch = stream.next_batch(Duration::from_secs(30)).await?;
        if batch.is_empty() {
            if tx.is_closed() {
                return Ok(());
            }
            continue;
        }
        let mut kinds: Vec<String> = batch.into_iter().map(|e| e.entity_type).collect();
        kinds.sort();
        kinds.dedup();
        if tx.send(Message::Changed(kinds)).is_err() {
            return Ok(());
        }
    }
}
