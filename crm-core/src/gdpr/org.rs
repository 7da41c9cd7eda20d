//! A tenant leaving: the organization-wide export (one NDJSON file per table) and the
//! deletion of the organization with everything it holds.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt as _;
use serde::Serialize;

use super::isolated;
use crate::auth::Permission;
use crate::domain::UserRole;
use crate::error::{Error, Result};
use crate::ids::OrgId;
use crate::tenancy::Tx;

/// Tables left out of the organization export: login secrets and the erasure key.
const SKIPPED_TABLES: &[&str] = &["sessions", "erasure_keys"];

/// Columns left out of the organization export, per table: secrets and lock-out state.
fn skipped_columns(table: &str) -> Vec<&'static str> {
    match table {
        "users" => vec!["password_hash", "failed_logins", "locked_until"],
        _ => Vec::new(),
    }
}

/// One file of an organization export.
#[derive(Debug, Clone, Serialize)]
pub struct TableExport {
    /// The table.
    pub table: String,
    /// Rows written.
    pub rows: u64,
    /// The file, `<table>.ndjson`.
    pub file: PathBuf,
}

/// What an organization export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct OrgExport {
    /// The organization.
    pub org_id: OrgId,
    /// Its slug.
    pub slug: String,
    /// When the export was made (the transaction's time: every file is one snapshot).
    pub generated_at: DateTime<Utc>,
    /// The directory.
    pub dir: PathBuf,
    /// One entry per file, `organization` first.
    pub tables: Vec<TableExport>,
}

/// Exports everything of the organization into `dir` (created if missing): one NDJSON file
/// per table (`<table>.ndjson`, one JSON object per row, columns as in the schema), the
/// organization's own row in `organization.ndjson`, and `manifest.json` listing the files
/// and row counts. Password hashes, sessions and the erasure key are left out. One transaction, so the
/// files are one consistent snapshot. Requires the export, audit and user-management
/// permissions (owner or admin), as the archive holds all of them.
pub async fn org_export(tx: &mut Tx, dir: &Path) -> Result<OrgExport> {
    tx.require(Permission::Export)?;
    tx.require(Permission::ReadAudit)?;
    tx.require(Permission::ManageUsers)?;
    isolated(tx, true, async |tx| export_tables(tx, dir).await).await
}

async fn export_tables(tx: &mut Tx, dir: &Path) -> Result<OrgExport> {
    let io = |e: std::io::Error| Error::Io(format!("writing the organization export failed: {e}"));
    crate::private_file::create_dir(dir).map_err(io)?;
    let org = tx.org();
    let (slug, generated_at): (String, DateTime<Utc>) =
        sqlx::query_as("select slug, now() from organizations where id = $1")
            .bind(org)
            .fetch_one(tx.conn())
            .await?;
    // The tenant tables the application role may read, from the catalog (names checked
    // against a strict pattern before they are quoted into the query).
    let tables: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c \
         join pg_namespace n on n.oid = c.relnamespace \
         where n.nspname = 'public' and c.relkind in ('r', 'p') \
           and exists (select 1 from pg_attribute a where a.attrelid = c.oid \
                       and a.attname = 'org_id' and not a.attisdropped) \
           and has_table_privilege(c.oid, 'select') \
         order by 1",
    )
    .fetch_all(tx.conn())
    .await?;
    let mut out = Vec::new();
    out.push(
        write_ndjson(
            tx,
            dir,
            "organization",
            "select to_jsonb(o)::text from organizations o where o.id = $1 and $2::text[] is not null"
                .to_string(),
            &[],
        )
        .await?,
    );
    for table in tables {
        let safe = !table.is_empty()
            && table
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !safe || SKIPPED_TABLES.contains(&table.as_str()) {
            continue;
        }
        let sql = format!(
            "select (to_jsonb(t) - $2::text[])::text from public.\"{table}\" t where t.org_id = $1"
        );
        let skip = skipped_columns(&table);
        out.push(write_ndjson(tx, dir, &table, sql, &skip).await?);
    }
    let export = OrgExport {
        org_id: org,
        slug,
        generated_at,
        dir: dir.to_path_buf(),
        tables: out,
    };
    let manifest = serde_json::to_vec_pretty(&export)
        .map_err(|e| Error::Io(format!("encoding the manifest failed: {e}")))?;
    crate::private_file::write(&dir.join("manifest.json"), &manifest).map_err(io)?;
    Ok(export)
}

/// Streams the rows of `sql` (binds: the organization, the columns to leave out) into
/// `<name>.ndjson`. `sql` is built from fixed text and a checked table name only.
async fn write_ndjson(
    tx: &mut Tx,
    dir: &Path,
    name: &str,
    sql: String,
    skip: &[&str],
) -> Result<TableExport> {
    let io = |e: std::io::Error| Error::Io(format!("writing the organization export failed: {e}"));
    let file = dir.join(format!("{name}.ndjson"));
    let mut w = std::io::BufWriter::new(crate::private_file::create(&file).map_err(io)?);
    let org = tx.org();
    let skip: Vec<String> = skip.iter().map(|s| s.to_string()).collect();
    let mut rows = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(&skip)
        .fetch(tx.conn());
    let mut n = 0u64;
    while let Some(line) = rows.try_next().await? {
        w.write_all(line.as_bytes()).map_err(io)?;
        w.write_all(b"\n").map_err(io)?;
        n += 1;
    }
    w.flush().map_err(io)?;
    Ok(TableExport {
        table: name.to_string(),
        rows: n,
        file,
    })
}

/// A deleted organization.
#[derive(Debug, Clone, Serialize)]
pub struct OrgDeletion {
    /// Its id.
    pub org_id: OrgId,
    /// Its slug.
    pub slug: String,
    /// When it was deleted.
    pub deleted_at: DateTime<Utc>,
}

/// Deletes the organization and everything it holds (every tenant table's rows go with it:
/// records, users, audit log, events, receipts, keys), in the caller's transaction. Only
/// an owner may; it cannot be undone (export first with [`org_export`]).
pub async fn delete_organization(tx: &mut Tx) -> Result<OrgDeletion> {
    tx.require(Permission::Erase)?;
    if tx.actor().role != UserRole::Owner {
        return Err(Error::PermissionDenied(
            "only an owner may delete the organization".into(),
        ));
    }
    let row: Option<(String, DateTime<Utc>)> =
        sqlx::query_as("delete from organizations where id = $1 returning slug, now()")
            .bind(tx.org())
            .fetch_optional(tx.conn())
            .await?;
    let (slug, deleted_at) = row.ok_or(Error::NotFound {
        entity: "organization",
    })?;
    Ok(OrgDeletion {
        org_id: tx.org(),
        slug,
        deleted_at,
    })
}
