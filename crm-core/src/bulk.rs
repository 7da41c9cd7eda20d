//! Mass updates (`crm contact|company|deal bulk-edit`): add and remove tags and set fields
//! on many records at once.
//!
//! Every record is changed through its aggregate's own `update` (same rules, same audit
//! entry and event per record as a single edit), in batches: one transaction per batch, and
//! within it a savepoint per record, so one record that fails validation is reported and
//! skipped without costing the others. A dry run does the same work and rolls it back, so it
//! reports exactly what a real run would change or refuse.
//!
//! Fields to set are given by name with a text value (`status=inactive`, `job_title=`, an
//! empty value clears the field); the names are checked against the patch type before any
//! record is touched.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{Error, FieldErrors, Result};
use crate::ids::{CompanyId, ContactId, DealId};
use crate::store::{company, contact, deal, tag};
use crate::tenancy::{Scope, Tx};

/// Which records a bulk edit changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkKind {
    /// Contacts.
    Contacts,
    /// Companies.
    Companies,
    /// Deals (no tags).
    Deals,
}

impl BulkKind {
    /// `contacts`, `companies`, `deals`.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkKind::Contacts => "contacts",
            BulkKind::Companies => "companies",
            BulkKind::Deals => "deals",
        }
    }

    /// The fields a patch of this kind has.
    fn fields(self) -> &'static [&'static str] {
        match self {
            BulkKind::Contacts => field_names::<contact::ContactPatch>(),
            BulkKind::Companies => field_names::<company::CompanyPatch>(),
            BulkKind::Deals => field_names::<deal::DealPatch>(),
        }
    }

    fn has_tags(self) -> bool {
        !matches!(self, BulkKind::Deals)
    }
}

/// What to change on every selected record.
#[derive(Debug, Clone, Default)]
pub struct BulkEdit {
    /// Tags to add (kept once).
    pub add_tags: Vec<String>,
    /// Tags to remove (case does not matter).
    pub remove_tags: Vec<String>,
    /// Fields to set, as the JSON values of the kind's patch (`null` clears); build it
    /// with [`BulkEdit::set`].
    pub set: Map<String, Value>,
}

/// One record that could not be changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkError {
    /// The record's id.
    pub id: Uuid,
    /// Why (never personal data).
    pub message: String,
}

/// What a bulk edit did (or, as a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkSummary {
    /// `contacts`, `companies` or `deals`.
    pub kind: BulkKind,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Records selected.
    pub selected: usize,
    /// Records changed (a dry run: that would change).
    pub changed: usize,
    /// Records the edit left as they were (already so).
    pub unchanged: usize,
    /// Records refused; see `errors`.
    pub failed: usize,
    /// Transactions used.
    pub batches: usize,
    /// Every refused record with the reason.
    pub errors: Vec<BulkError>,
}

impl BulkEdit {
    /// Adds `field=value` to the edit for `kind`: the name must be a field of the kind's
    /// patch (not `version` or `tags`); the text is taken as it fits the field (text, else a
    /// number, `true`/`false` or JSON); an empty text clears the field. Errors name the field,
    /// never the value.
    pub fn set(&mut self, kind: BulkKind, field: &str, value: &str) -> Result<()> {
        let field = field.trim();
        if field == "version" || field == "tags" {
            return Err(Error::invalid(
                field,
                "cannot be set in bulk (tags: --add-tag / --remove-tag)",
            ));
        }
        if !kind.fields().contains(&field) {
            let known: Vec<&str> = kind
                .fields()
                .iter()
                .copied()
                .filter(|f| *f != "version" && *f != "tags")
                .collect();
            return Err(Error::invalid(
                field,
                format!(
                    "is not a field of {}; fields: {}",
                    kind.as_str(),
                    known.join(", ")
                ),
            ));
        }
        let mut candidates = Vec::new();
        if value.trim().is_empty() {
            candidates.push(Value::Null);
        } else {
            candidates.push(Value::String(value.to_string()));
            if let Ok(v) = serde_json::from_str::<Value>(value)
                && !v.is_string()
            {
                candidates.push(v);
            }
        }
        for candidate in candidates {
            let mut trial = Map::new();
            trial.insert("version".into(), Value::from(0));
            trial.insert(field.to_string(), candidate.clone());
            if kind.accepts(trial) {
                self.set.insert(field.to_string(), candidate);
                return Ok(());
            }
        }
        Err(Error::invalid(
            field,
            "the value does not have the field's form",
        ))
    }
}

impl BulkKind {
    fn accepts(self, obj: Map<String, Value>) -> bool {
        let v = Value::Object(obj);
        match self {
            BulkKind::Contacts => serde_json::from_value::<contact::ContactPatch>(v).is_ok(),
            BulkKind::Companies => serde_json::from_value::<company::CompanyPatch>(v).is_ok(),
            BulkKind::Deals => serde_json::from_value::<deal::DealPatch>(v).is_ok(),
        }
    }
}

/// Checks an edit before any record is read: something to do, tags only where the kind has
/// them, tag names valid.
pub fn check(kind: BulkKind, edit: &BulkEdit) -> Result<()> {
    let mut errors = FieldErrors::new();
    if edit.add_tags.is_empty() && edit.remove_tags.is_empty() && edit.set.is_empty() {
        errors.add(
            "edit",
            "nothing to change: give --add-tag, --remove-tag or --set",
        );
    }
    let tags_given = !edit.add_tags.is_empty() || !edit.remove_tags.is_empty();
    if !kind.has_tags() && tags_given {
        errors.add("tags", format!("{} have no tags", kind.as_str()));
    }
    if let Err(Error::Validation(e)) = tag::clean_names(&edit.add_tags) {
        errors.0.extend(e.0);
    }
    errors.into_result()
}

/// The tag list after the edit: `current` with `add` appended (once, ignoring case) and
/// `remove` taken out (ignoring case).
fn edited_tags(current: &[String], edit: &BulkEdit) -> Vec<String> {
    let removed = |t: &str| {
        edit.remove_tags
            .iter()
            .any(|r| r.trim().eq_ignore_ascii_case(t))
    };
    let mut out: Vec<String> = current.iter().filter(|t| !removed(t)).cloned().collect();
    for t in &edit.add_tags {
        let t = t.trim();
        if !t.is_empty() && !removed(t) && !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
            out.push(t.to_string());
        }
    }
    out
}

/// Whether two tag lists hold the same tags (order and case aside).
fn same_tags(a: &[String], b: &[String]) -> bool {
    let norm = |v: &[String]| {
        let mut v: Vec<String> = v.iter().map(|t| t.trim().to_lowercase()).collect();
        v.sort();
        v.dedup();
        v
    };
    norm(a) == norm(b)
}

/// The patch for one record read at `version` with `tags`; `None` when the edit leaves the
/// record as it is (tags already so, nothing to set).
fn patch<P: DeserializeOwned>(
    edit: &BulkEdit,
    version: i32,
    tags: Option<&[String]>,
) -> Result<Option<P>> {
    let mut obj = edit.set.clone();
    if let Some(current) = tags {
        let edited = edited_tags(current, edit);
        if !same_tags(current, &edited) {
            obj.insert("tags".into(), Value::from(edited));
        }
    }
    if obj.is_empty() {
        return Ok(None);
    }
    obj.insert("version".into(), Value::from(version));
    serde_json::from_value(Value::Object(obj))
        .map(Some)
        .map_err(|_| Error::invalid("set", "the values do not fit the record"))
}

/// Changes one record; whether it changed (its version moved).
async fn edit_one(tx: &mut Tx, kind: BulkKind, id: Uuid, edit: &BulkEdit) -> Result<bool> {
    Ok(match kind {
        BulkKind::Contacts => {
            let c = contact::get(tx, ContactId(id)).await?;
            match patch(edit, c.version, Some(&c.tags))? {
                Some(p) => contact::update(tx, ContactId(id), p).await?.version != c.version,
                None => false,
            }
        }
        BulkKind::Companies => {
            let c = company::get(tx, CompanyId(id)).await?;
            match patch(edit, c.version, Some(&c.tags))? {
                Some(p) => company::update(tx, CompanyId(id), p).await?.version != c.version,
                None => false,
            }
        }
        BulkKind::Deals => {
            let d = deal::get(tx, DealId(id)).await?;
            match patch(edit, d.version, None)? {
                Some(p) => deal::update(tx, DealId(id), p).await?.version != d.version,
                None => false,
            }
        }
    })
}

async fn savepoint(tx: &mut Tx, sql: &'static str) -> Result<()> {
    sqlx::query(sql).execute(tx.conn()).await?;
    Ok(())
}

/// Applies `edit` to the records `ids` of `kind`, `batch` records per transaction (a dry
/// run rolls each batch back). Fails when the database does or the actor may not write
/// (batches committed before stay); records refused for their own reasons (validation, a
/// concurrent change, gone) are in the summary.
pub async fn run(
    scope: &Scope,
    kind: BulkKind,
    ids: &[Uuid],
    edit: &BulkEdit,
    dry_run: bool,
    batch: usize,
) -> Result<BulkSummary> {
    check(kind, edit)?;
    let mut summary = BulkSummary {
        kind,
        dry_run,
        selected: ids.len(),
        changed: 0,
        unchanged: 0,
        failed: 0,
        batches: 0,
        errors: Vec::new(),
    };
    for chunk in ids.chunks(batch.max(1)) {
        let mut tx = scope.begin().await?;
        summary.batches += 1;
        for &id in chunk {
            savepoint(&mut tx, "savepoint crm_bulk_record").await?;
            match edit_one(&mut tx, kind, id, edit).await {
                Ok(changed) => {
                    if changed {
                        summary.changed += 1;
                    } else {
                        summary.unchanged += 1;
                    }
                    if dry_run {
                        savepoint(&mut tx, "rollback to savepoint crm_bulk_record").await?;
                    }
                    savepoint(&mut tx, "release savepoint crm_bulk_record").await?;
                }
                // Not about this record: the whole run stops (nothing of this batch stays).
                Err(
                    e @ (Error::Database(_) | Error::Unavailable(_) | Error::PermissionDenied(_)),
                ) => {
                    return Err(e);
                }
                Err(e) => {
                    savepoint(&mut tx, "rollback to savepoint crm_bulk_record").await?;
                    savepoint(&mut tx, "release savepoint crm_bulk_record").await?;
                    summary.failed += 1;
                    summary.errors.push(BulkError {
                        id,
                        message: e.to_string(),
                    });
                }
            }
        }
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
    }
    Ok(summary)
}

/// The field names of a struct that derives `Deserialize` (read from what serde's derive
/// passes to `deserialize_struct`).
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct Names<'a>(&'a mut &'static [&'static str]);
    impl<'de> de::Deserializer<'de> for Names<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(
            self,
            _: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Names(&mut fields));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_and_values_typed() {
        let mut e = BulkEdit::default();
        e.set(BulkKind::Contacts, "status", "inactive").unwrap();
        e.set(BulkKind::Contacts, "job_title", "").unwrap();
        assert_eq!(e.set["status"], "inactive");
        assert_eq!(e.set["job_title"], Value::Null);
        let err = e
            .set(BulkKind::Companies, "colour", "red")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a field of companies"), "{err}");
        assert!(e.set(BulkKind::Contacts, "version", "3").is_err());
        assert!(e.set(BulkKind::Contacts, "status", "sleepy").is_err());
        assert!(BulkKind::Deals.fields().contains(&"title"));
    }

    #[test]
    fn tags_are_added_once_and_removed_ignoring_case() {
        let e = BulkEdit {
            add_tags: vec!["vip".into(), "Messe".into()],
            remove_tags: vec!["ALT".into()],
            ..BulkEdit::default()
        };
        assert_eq!(
            edited_tags(&["alt".into(), "VIP".into(), "b2b".into()], &e),
            ["VIP", "b2b", "Messe"]
        );
        assert!(check(BulkKind::Deals, &e).is_err());
        assert!(check(BulkKind::Contacts, &BulkEdit::default()).is_err());
    }
}
