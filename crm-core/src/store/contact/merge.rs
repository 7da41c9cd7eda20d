//! Merging two contacts into one (the two-record form of [`crate::dedupe::merge`]).

use super::*;

/// Merges contact `remove` into `keep` by the rules of [`crate::dedupe::merge`]: `keep`'s
/// values win, its empty fields are filled from `remove`; addresses, tags, owners, deals,
/// activities, consents and a Lexware link move to `keep`; `remove` becomes a tombstone
/// pointing at `keep` through its `merged_into_id` column. One audit entry and one
/// `contact.merged` event are written, and the merge can be undone
/// ([`crate::dedupe::unmerge`]). Returns `keep` as merged.
pub async fn merge(tx: &mut Tx, keep: ContactId, remove: ContactId) -> Result<Contact> {
    if keep == remove {
        return Err(Error::invalid(
            "remove",
            "a contact cannot be merged into itself",
        ));
    }
    let request = crate::dedupe::MergeRequest {
        ids: vec![keep.uuid(), remove.uuid()],
        ..Default::default()
    };
    crate::dedupe::merge(tx, crate::dedupe::Kind::Contact, &request).await?;
    load(tx, keep, true).await
}
