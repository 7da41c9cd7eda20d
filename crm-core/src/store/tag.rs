//! Tags: free labels on contacts and companies, unique per organization by normalised name.

use serde::Serialize;

use crate::auth::Permission;
use crate::domain::normalize_name;
use crate::error::{Error, Result};
use crate::ids::TagId;
use crate::tenancy::Tx;

/// A tag.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Tag {
    /// Its id.
    pub id: TagId,
    /// Display name as first written.
    pub name: String,
    /// Optional colour (free text such as `#ff8800`).
    pub color: Option<String>,
    /// Records carrying it (contacts plus companies).
    pub uses: i64,
}

/// Validates tag names: trimmed, 1 to 100 characters, duplicates (by normalised name)
/// removed, order kept.
pub fn clean_names(names: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for n in names {
        let n = n.trim();
        if n.is_empty() {
            continue;
        }
        if n.chars().count() > 100 {
            return Err(Error::invalid(
                "tags",
                "a tag is longer than 100 characters",
            ));
        }
        if crate::domain::text::check_single_line(n).is_err() {
            return Err(Error::invalid(
                "tags",
                "a tag must not contain control characters (line breaks, tabs, terminal \
                 escape sequences)",
            ));
        }
        if seen.insert(normalize_name(n)) {
            out.push(n.to_string());
        }
    }
    Ok(out)
}

/// Returns the ids of the tags named `names`, creating the missing ones (one statement).
pub async fn resolve(tx: &mut Tx, names: &[String]) -> Result<Vec<TagId>> {
    let names = clean_names(names)?;
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let org = tx.org();
    let norms: Vec<String> = names.iter().map(|n| normalize_name(n)).collect();
    let ids: Vec<uuid::Uuid> = names.iter().map(|_| TagId::new().uuid()).collect();
    sqlx::query(
        "insert into tags (org_id, id, name, name_norm) \
         select $1, u.id, u.name, u.norm from unnest($2::uuid[], $3::text[], $4::text[]) as u(id, name, norm) \
         on conflict (org_id, name_norm) do nothing",
    )
    .bind(org)
    .bind(&ids)
    .bind(&names)
    .bind(&norms)
    .execute(tx.conn())
    .await?;
    let rows: Vec<(TagId, String)> =
        sqlx::query_as("select id, name_norm from tags where org_id = $1 and name_norm = any($2)")
            .bind(org)
            .bind(&norms)
            .fetch_all(tx.conn())
            .await?;
    Ok(norms
        .iter()
        .filter_map(|n| rows.iter().find(|(_, rn)| rn == n).map(|(id, _)| *id))
        .collect())
}

/// All tags with their use counts, by name.
pub async fn list(tx: &mut Tx) -> Result<Vec<Tag>> {
    tx.require(Permission::Read)?;
    Ok(sqlx::query_as(
        "select t.id, t.name, t.color, \
                (select count(*) from contact_tags ct where ct.org_id = t.org_id and ct.tag_id = t.id) \
              + (select count(*) from company_tags ct where ct.org_id = t.org_id and ct.tag_id = t.id) as uses \
         from tags t where t.org_id = $1 order by t.name_norm",
    )
    .bind(tx.org())
    .fetch_all(tx.conn())
    .await?)
}

/// Renames a tag (merging is refused: the new name must be free).
pub async fn rename(tx: &mut Tx, id: TagId, name: &str) -> Result<()> {
    tx.require(Permission::Configure)?;
    let names = clean_names(&[name.to_string()])?;
    let Some(name) = names.first() else {
        return Err(Error::invalid("name", "must not be empty"));
    };
    let done =
        sqlx::query("update tags set name = $3, name_norm = $4 where org_id = $1 and id = $2")
            .bind(tx.org())
            .bind(id)
            .bind(name)
            .bind(normalize_name(name))
            .execute(tx.conn())
            .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound { entity: "tag" });
    }
    tx.record(
        "tag",
        Some(id.uuid()),
        "rename",
        &serde_json::json!({ "name": name }),
        Some("tag.renamed"),
        &serde_json::json!({ "id": id }),
    )
    .await
}

/// Deletes a tag and removes it from every record.
pub async fn delete(tx: &mut Tx, id: TagId) -> Result<()> {
    tx.require(Permission::Configure)?;
    let done = sqlx::query("delete from tags where org_id = $1 and id = $2")
        .bind(tx.org())
        .bind(id)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound { entity: "tag" });
    }
    tx.record(
        "tag",
        Some(id.uuid()),
        "delete",
        &serde_json::Value::Null,
        Some("tag.deleted"),
        &serde_json::json!({ "id": id }),
    )
    .await
}
