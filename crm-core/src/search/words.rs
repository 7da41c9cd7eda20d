//! Keeping the tenant's dictionary of search words (`crm_private.search_words`) in step with
//! the contacts and companies, from the library's own writes.
//!
//! The search's word path (migration `20261202060000`) looks query words up in a per-tenant
//! dictionary of the words the records hold. A word joins with the first record holding it
//! and leaves with the last one, so an erased person's name does not stay behind. Statement
//! triggers kept it until migration `20261203010000`; Citus does not run those on
//! distributed tables, so every write path calls this module instead, in its transaction:
//!
//! * after inserting records: [`added`] with their ids;
//! * around a change of their search text (names, e-mail, phone; a company's name, domain,
//!   e-mail, phone, VAT id, city): [`held`] before, [`changed`] after;
//! * around a hard delete: [`held`] before, [`removed`] after.
//!
//! Soft deletes and restores keep the search text and need no call. The SQL function behind
//! them (`crm_search_words_update`) only ever adds words rows of the tenant hold and removes
//! words none holds, so a redundant call is harmless, and a forgotten one shows in the
//! dictionary test (`crm-core/tests/it/search_words.rs`).

use sqlx::PgConnection;
use uuid::Uuid;

use crate::dedupe::Kind;
use crate::error::Result;
use crate::tenancy::Tx;

/// The search texts records had before a change or delete (personal data: the `Debug`
/// output shows only how many).
#[derive(Default)]
pub(crate) struct Held(Vec<String>);

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Held({} texts)", self.0.len())
    }
}

impl Held {
    /// Search texts read by the caller itself (for example returned by the changing
    /// statement from a self-join that sees the rows as they were).
    pub(crate) fn from_texts(texts: Vec<String>) -> Self {
        Held(texts)
    }

    /// Both sets of texts.
    pub(crate) fn and(mut self, other: Held) -> Self {
        self.0.extend(other.0);
        self
    }
}

fn table(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact => "select search_text from contacts where org_id = $1 and id = any($2)",
        Kind::Company => "select search_text from companies where org_id = $1 and id = any($2)",
    }
}

/// The search texts of the records `ids` now: read them right before changing or
/// hard-deleting those records, and pass them to [`changed`] or [`removed`].
pub(crate) async fn held(tx: &mut Tx, kind: Kind, ids: &[Uuid]) -> Result<Held> {
    if ids.is_empty() {
        return Ok(Held::default());
    }
    let org = tx.org();
    let texts: Vec<String> = sqlx::query_scalar(table(kind))
        .bind(org)
        .bind(ids)
        .fetch_all(tx.conn())
        .await?;
    Ok(Held(texts))
}

/// The records `ids` were inserted: their words join the dictionary.
pub(crate) async fn added(tx: &mut Tx, kind: Kind, ids: &[Uuid]) -> Result<()> {
    update(tx.conn(), kind, ids, &Held::default()).await
}

/// The records `ids` changed; `before` is what [`held`] read before the change. New words
/// join, words no record holds any more leave.
pub(crate) async fn changed(tx: &mut Tx, kind: Kind, ids: &[Uuid], before: Held) -> Result<()> {
    update(tx.conn(), kind, ids, &before).await
}

/// Records were hard-deleted; `before` is what [`held`] read before. Words no record holds
/// any more leave.
pub(crate) async fn removed(tx: &mut Tx, before: Held) -> Result<()> {
    update(tx.conn(), Kind::Contact, &[], &before).await
}

async fn update(conn: &mut PgConnection, kind: Kind, ids: &[Uuid], before: &Held) -> Result<()> {
    if ids.is_empty() && before.0.is_empty() {
        return Ok(());
    }
    sqlx::query("select crm_search_words_update($1, $2, $3)")
        .bind(kind.as_str())
        .bind(ids)
        .bind(&before.0)
        .execute(conn)
        .await?;
    Ok(())
}
