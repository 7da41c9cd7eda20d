//! Admin-configurable lists: industries, account types, company relationship types and
//! lost reasons. Each is a table of entries with a stable `key` (what records and scripts
//! refer to), an English and a German label, a position and an `active` flag.
//!
//! Entries in use are deactivated rather than removed: [`remove`] refuses an entry that a
//! company, deal or relationship still refers to. Every change writes an audit entry and a
//! `list.changed` event.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Permission;
use crate::domain::check_list_key;
use crate::error::{Error, FieldErrors, Result};
use crate::ids::ListEntryId;
use crate::tenancy::Tx;

/// The longest label accepted, in characters.
const MAX_LABEL: usize = 200;

/// Which admin-configurable list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// Industries of companies (`industries`).
    Industry,
    /// Account types of companies: prospect, customer, ... (`account_types`).
    AccountType,
    /// Types of company-to-company relationships (`relationship_types`).
    RelationshipType,
    /// Why deals were lost (`lost_reasons`).
    LostReason,
}

impl ListKind {
    /// Every list.
    pub const ALL: &'static [ListKind] = &[
        ListKind::Industry,
        ListKind::AccountType,
        ListKind::RelationshipType,
        ListKind::LostReason,
    ];

    /// The key naming this list: `industry`, `account_type`, `relationship_type`,
    /// `lost_reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Industry => "industry",
            ListKind::AccountType => "account_type",
            ListKind::RelationshipType => "relationship_type",
            ListKind::LostReason => "lost_reason",
        }
    }

    /// The table holding the list (a fixed name, safe to put into SQL).
    pub fn table(self) -> &'static str {
        match self {
            ListKind::Industry => "industries",
            ListKind::AccountType => "account_types",
            ListKind::RelationshipType => "relationship_types",
            ListKind::LostReason => "lost_reasons",
        }
    }

    /// What one entry is called in messages (`industry not found`).
    pub fn entity(self) -> &'static str {
        match self {
            ListKind::Industry => "industry",
            ListKind::AccountType => "account type",
            ListKind::RelationshipType => "relationship type",
            ListKind::LostReason => "lost reason",
        }
    }

    /// The list's name in messages (`the industries list`).
    pub fn plural(self) -> &'static str {
        match self {
            ListKind::Industry => "industries",
            ListKind::AccountType => "account types",
            ListKind::RelationshipType => "relationship types",
            ListKind::LostReason => "lost reasons",
        }
    }

    /// Counts the records referring to entry `$2` of this list in organization `$1`,
    /// together with what they are called. Fixed SQL, never input.
    fn usage_sql(self) -> (&'static str, &'static str) {
        match self {
            ListKind::Industry => (
                "select count(*) from companies where org_id = $1 and industry_id = $2",
                "companies",
            ),
            ListKind::AccountType => (
                "select count(*) from companies where org_id = $1 and account_type_id = $2",
                "companies",
            ),
            ListKind::RelationshipType => (
                "select count(*) from company_relationships where org_id = $1 and type_id = $2",
                "company relationships",
            ),
            ListKind::LostReason => (
                "select count(*) from deals where org_id = $1 and lost_reason_id = $2",
                "deals",
            ),
        }
    }
}

impl std::fmt::Display for ListKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ListKind {
    type Err = Error;

    /// Reads the key (`industry`), the table name (`industries`) or either with dashes or
    /// spaces (`account-types`, `lost reason`), ignoring case.
    fn from_str(s: &str) -> Result<Self> {
        let folded: String = s
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c == '-' || c == ' ' { '_' } else { c })
            .collect();
        ListKind::ALL
            .iter()
            .copied()
            .find(|k| folded == k.as_str() || folded == k.table())
            .ok_or_else(|| {
                Error::invalid(
                    "list",
                    "must be one of: industry, account_type, relationship_type, lost_reason",
                )
            })
    }
}

/// One entry of an admin-configurable list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ListEntry {
    /// Its id.
    pub id: ListEntryId,
    /// The stable key records and scripts refer to (`a-z`, `0-9`, `_`).
    pub key: String,
    /// English label.
    pub label_en: String,
    /// German label.
    pub label_de: String,
    /// Sort position within the list.
    pub position: i32,
    /// Whether the entry is offered for new records; deactivated entries stay on the
    /// records that have them.
    pub active: bool,
}

/// The entries of a list, in position order (inactive ones included, flagged).
pub async fn list(tx: &mut Tx, kind: ListKind) -> Result<Vec<ListEntry>> {
    tx.require(Permission::Read)?;
    let sql = format!(
        "select id, key, label_en, label_de, position, active from {} \
         where org_id = $1 order by position, key",
        kind.table()
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .fetch_all(tx.conn())
        .await?)
}

/// One entry by id.
pub async fn get(tx: &mut Tx, kind: ListKind, id: ListEntryId) -> Result<ListEntry> {
    tx.require(Permission::Read)?;
    fetch(tx, kind, id, false).await
}

/// Reads one entry, optionally locking it against concurrent changes and new references.
async fn fetch(tx: &mut Tx, kind: ListKind, id: ListEntryId, lock: bool) -> Result<ListEntry> {
    let sql = format!(
        "select id, key, label_en, label_de, position, active from {} \
         where org_id = $1 and id = $2{}",
        kind.table(),
        if lock { " for update" } else { "" }
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(Error::NotFound {
            entity: kind.entity(),
        })
}

/// Finds the entry whose key, English label or German label is `key_or_label` (ignoring
/// case and surrounding spaces); a key match wins over a label match. Inactive entries are
/// found too (callers decide whether to accept them). Unknown: [`Error::NotFound`] naming
/// the list.
pub async fn find(tx: &mut Tx, kind: ListKind, key_or_label: &str) -> Result<ListEntry> {
    tx.require(Permission::Read)?;
    let wanted = key_or_label.trim();
    let not_found = Error::NotFound {
        entity: kind.entity(),
    };
    if wanted.is_empty() {
        return Err(not_found);
    }
    let sql = format!(
        "select id, key, label_en, label_de, position, active from {} \
         where org_id = $1 \
           and (key = lower($2) or lower(label_en) = lower($2) or lower(label_de) = lower($2)) \
         order by (key = lower($2)) desc, active desc, position, key",
        kind.table()
    );
    let rows: Vec<ListEntry> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(wanted)
        .fetch_all(tx.conn())
        .await?;
    let lower = wanted.to_lowercase();
    if let Some(by_key) = rows.iter().find(|r| r.key == lower) {
        return Ok(by_key.clone());
    }
    match rows.as_slice() {
        [] => Err(not_found),
        [one] => Ok(one.clone()),
        _ => Err(Error::invalid(
            kind.as_str(),
            format!(
                "matches several entries of the {} list; use the key",
                kind.plural()
            ),
        )),
    }
}

/// The id of the entry named by key or label (see [`find`]).
pub async fn resolve(tx: &mut Tx, kind: ListKind, key_or_label: &str) -> Result<ListEntryId> {
    Ok(find(tx, kind, key_or_label).await?.id)
}

/// Checks labels: trimmed, English required, German defaulting to the English one, at most
/// 200 characters each.
fn clean_labels(errors: &mut FieldErrors, label_en: &str, label_de: &str) -> (String, String) {
    let en = label_en.trim().to_string();
    let de = match label_de.trim() {
        "" => en.clone(),
        de => de.to_string(),
    };
    if en.is_empty() {
        errors.add("label_en", "must not be empty");
    }
    if en.chars().count() > MAX_LABEL {
        errors.add("label_en", "is longer than 200 characters");
    }
    if de.chars().count() > MAX_LABEL {
        errors.add("label_de", "is longer than 200 characters");
    }
    (en, de)
}

/// Fails with a conflict when another entry of the list (not `except`) already uses one of
/// the labels or has it as its key, which would make [`find`] ambiguous.
async fn check_labels_free(
    tx: &mut Tx,
    kind: ListKind,
    except: Option<ListEntryId>,
    en: &str,
    de: &str,
) -> Result<()> {
    let sql = format!(
        "select exists(select 1 from {} where org_id = $1 and ($2::uuid is null or id <> $2) \
           and (lower(label_en) in (lower($3), lower($4)) or lower(label_de) in (lower($3), lower($4)) \
                or key in (lower($3), lower($4))))",
        kind.table()
    );
    let taken: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(except)
        .bind(en)
        .bind(de)
        .fetch_one(tx.conn())
        .await?;
    if taken {
        return Err(Error::Conflict(format!(
            "another entry of the {} list already has this label",
            kind.plural()
        )));
    }
    Ok(())
}

/// Writes the audit entry and the `list.changed` event of a change.
async fn record(
    tx: &mut Tx,
    kind: ListKind,
    action: &str,
    before: Option<&ListEntry>,
    after: Option<&ListEntry>,
) -> Result<()> {
    let Some(entry) = after.or(before) else {
        return Ok(());
    };
    let diff = super::diff(before, after);
    let event = json!({
        "list": kind.as_str(),
        "id": entry.id,
        "key": entry.key,
        "action": action,
    });
    tx.record(
        kind.as_str(),
        Some(entry.id.uuid()),
        action,
        &diff,
        Some("list.changed"),
        &event,
    )
    .await
}

/// Adds an entry at the end of the list. The key must be 1 to 64 of `a-z`, `0-9`, `_`
/// and unused in the list ([`Error::Conflict`] otherwise); an empty German label takes
/// the English one.
pub async fn add(
    tx: &mut Tx,
    kind: ListKind,
    key: &str,
    label_en: &str,
    label_de: &str,
) -> Result<ListEntry> {
    tx.require(Permission::Configure)?;
    let mut errors = FieldErrors::new();
    let key = key.trim();
    errors.check("key", check_list_key(key));
    let (en, de) = clean_labels(&mut errors, label_en, label_de);
    errors.into_result()?;
    check_labels_free(tx, kind, None, &en, &de).await?;
    let sql = format!(
        "insert into {t} (org_id, id, key, label_en, label_de, position) \
         select $1, $2, $3, $4, $5, coalesce(max(position) + 1, 0) from {t} where org_id = $1 \
         on conflict (org_id, key) do nothing \
         returning id, key, label_en, label_de, position, active",
        t = kind.table()
    );
    let entry: Option<ListEntry> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(ListEntryId::new())
        .bind(key)
        .bind(&en)
        .bind(&de)
        .fetch_optional(tx.conn())
        .await?;
    let Some(entry) = entry else {
        return Err(Error::Conflict(format!(
            "the {} list already has an entry with this key",
            kind.plural()
        )));
    };
    record(tx, kind, "add", None, Some(&entry)).await?;
    Ok(entry)
}

/// Changes an entry's labels (its key stays: records and scripts refer to it). An empty
/// German label takes the English one.
pub async fn rename(
    tx: &mut Tx,
    kind: ListKind,
    id: ListEntryId,
    label_en: &str,
    label_de: &str,
) -> Result<ListEntry> {
    tx.require(Permission::Configure)?;
    let mut errors = FieldErrors::new();
    let (en, de) = clean_labels(&mut errors, label_en, label_de);
    errors.into_result()?;
    let before = fetch(tx, kind, id, true).await?;
    check_labels_free(tx, kind, Some(id), &en, &de).await?;
    let sql = format!(
        "update {} set label_en = $3, label_de = $4 where org_id = $1 and id = $2 \
         returning id, key, label_en, label_de, position, active",
        kind.table()
    );
    let after: ListEntry = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(id)
        .bind(&en)
        .bind(&de)
        .fetch_one(tx.conn())
        .await?;
    record(tx, kind, "rename", Some(&before), Some(&after)).await?;
    Ok(after)
}

/// Activates or deactivates an entry. A deactivated entry stays on the records that have
/// it but is no longer accepted for new ones; use it instead of [`remove`] for entries in
/// use.
pub async fn set_active(
    tx: &mut Tx,
    kind: ListKind,
    id: ListEntryId,
    active: bool,
) -> Result<ListEntry> {
    tx.require(Permission::Configure)?;
    let before = fetch(tx, kind, id, true).await?;
    if before.active == active {
        return Ok(before);
    }
    let sql = format!(
        "update {} set active = $3 where org_id = $1 and id = $2 \
         returning id, key, label_en, label_de, position, active",
        kind.table()
    );
    let after: ListEntry = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(id)
        .bind(active)
        .fetch_one(tx.conn())
        .await?;
    let action = if active { "activate" } else { "deactivate" };
    record(tx, kind, action, Some(&before), Some(&after)).await?;
    Ok(after)
}

/// Removes an entry no record refers to. An entry still used by a company, deal or
/// relationship (soft-deleted ones included) is refused with [`Error::Conflict`]:
/// deactivate it instead.
pub async fn remove(tx: &mut Tx, kind: ListKind, id: ListEntryId) -> Result<()> {
    tx.require(Permission::Configure)?;
    // The row lock keeps concurrent writers from starting to refer to the entry (their
    // foreign-key check waits for it) between the count and the delete.
    let before = fetch(tx, kind, id, true).await?;
    let (usage, what) = kind.usage_sql();
    let used: i64 = sqlx::query_scalar(usage)
        .bind(tx.org())
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    if used > 0 {
        return Err(Error::Conflict(format!(
            "the {} is used by {used} {what}; deactivate it instead of removing it",
            kind.entity()
        )));
    }
    if matches!(kind, ListKind::Industry | ListKind::AccountType) {
        tx.detach(kind.table(), &[id.uuid()]).await?;
    }
    let sql = format!("delete from {} where org_id = $1 and id = $2", kind.table());
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(id)
        .execute(tx.conn())
        .await?;
    record(tx, kind, "remove", Some(&before), None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_keys_and_table_names() {
        for &k in ListKind::ALL {
            assert_eq!(k.as_str().parse::<ListKind>().unwrap(), k);
            assert_eq!(k.table().parse::<ListKind>().unwrap(), k);
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        assert_eq!(
            "Account-Types".parse::<ListKind>().unwrap(),
            ListKind::AccountType
        );
        assert_eq!(
            " lost reason ".parse::<ListKind>().unwrap(),
            ListKind::LostReason
        );
        assert!(matches!(
            "colours".parse::<ListKind>(),
            Err(Error::Validation(_))
        ));
    }

    #[test]
    fn labels_are_trimmed_and_german_defaults_to_english() {
        let mut errors = FieldErrors::new();
        let (en, de) = clean_labels(&mut errors, "  Robotics ", " ");
        assert!(errors.is_empty());
        assert_eq!((en.as_str(), de.as_str()), ("Robotics", "Robotics"));
        let mut errors = FieldErrors::new();
        clean_labels(&mut errors, " ", &"x".repeat(201));
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["label_en", "label_de"]);
    }
}
