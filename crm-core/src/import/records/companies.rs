//! One company row: values settled and checked, deduplicated within the file, then matched
//! with an existing company (by source id, VAT id, domain or name) and skipped, completed,
//! updated or created through the store.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::values::settle_format_values;
use super::{RowOutcome, duplicate, from_json};
use crate::domain::normalize_name;
use crate::error::{Error, Result};
use crate::import::formats::Format;
use crate::import::{ImportOptions, OnDuplicate};
use crate::store::{company, diff};
use crate::tenancy::Tx;

/// What a company row of another tool's export carries beyond the store's input.
#[derive(Default)]
pub(super) struct CompanyExtra {
    /// (source system, id there).
    pub(super) external: Option<(String, String)>,
    /// A note for a note activity.
    pub(super) notes: Option<String>,
    /// The owner as written.
    pub(super) owner: Option<String>,
}

/// What company rows share while an import runs.
pub(super) struct CompanyCtx {
    pub(super) format: Format,
    /// Active users by e-mail and folded name (loaded at the first owner column value).
    pub(super) users: Option<std::collections::HashMap<String, uuid::Uuid>>,
    /// The current row's warnings: (field, message).
    pub(super) warnings: Vec<(String, String)>,
    /// Companies the batch created or matched, to link contacts imported before.
    pub(super) touched: Vec<uuid::Uuid>,
}

impl CompanyCtx {
    /// The context of a run reading a file in `format`.
    pub(super) fn new(format: Format) -> Self {
        Self {
            format,
            users: None,
            warnings: Vec::new(),
            touched: Vec::new(),
        }
    }
}

/// Imports one company row: values settled and checked, deduplicated within the file,
/// then matched with an existing company and skipped, completed, updated or created.
pub(super) async fn company_row(
    tx: &mut Tx,
    mut values: Map<String, Value>,
    mut custom: Map<String, Value>,
    opts: &ImportOptions,
    seen: &mut HashSet<String>,
    extra: &CompanyExtra,
    cctx: &mut CompanyCtx,
) -> Result<RowOutcome> {
    split_tags(&mut values);
    if cctx.format != Format::Generic {
        settle_format_values(tx, &mut values, &mut custom, extra, cctx).await?;
    }
    let pre = check_company_values(&mut values);
    let (key, vat, domain, name) = company_key(&values, extra);
    if !seen.insert(key) {
        return Ok(RowOutcome::Skipped);
    }
    let existing = find_company(
        tx,
        extra.external.as_ref(),
        vat.as_deref(),
        domain.as_deref(),
        &name,
    )
    .await?;
    let external = extra.external.as_ref();
    match (existing, opts.on_duplicate) {
        // A company the contact import created for a name only is completed by the row
        // that describes it: its empty fields are filled, nothing is overwritten.
        (Some((id, true)), OnDuplicate::Skip) => {
            complete_company(tx, id, values, custom, &pre, extra, cctx).await
        }
        (Some((id, _)), OnDuplicate::Skip) => {
            // The source id is the record's identity, not data: kept so later files
            // (contacts naming the company by it, a newer export) find the company.
            keep_external(tx, id, external).await?;
            cctx.touched.push(id.uuid());
            Ok(RowOutcome::Skipped)
        }
        (Some(_), OnDuplicate::Error) => Err(duplicate()),
        (Some((id, _)), OnDuplicate::Update) => {
            update_company(tx, id, values, custom, &pre, extra, cctx).await
        }
        (None, _) => create_company(tx, values, custom, pre, extra, cctx).await,
    }
}

/// A text value of the row.
fn text_of(v: &Map<String, Value>, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// Splits a tags value at `|`, `,` and `;`.
fn split_tags(values: &mut Map<String, Value>) {
    if let Some(t) = text_of(values, "tags") {
        let tags: Vec<Value> = t
            .split(['|', ',', ';'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| json!(t))
            .collect();
        values.insert("tags".into(), Value::Array(tags));
    }
}

/// Reads the head count and the countries; their problems are reported together with the
/// store's own validation.
fn check_company_values(values: &mut Map<String, Value>) -> crate::error::FieldErrors {
    let mut pre = crate::error::FieldErrors::new();
    if let Some(e) = text_of(values, "employees") {
        match e.parse::<u32>() {
            Ok(n) => {
                values.insert("employees".into(), json!(n));
            }
            Err(_) => {
                values.remove("employees");
                pre.add("employees", "is not a whole number");
            }
        }
    }
    for field in ["billing_country", "delivery_country"] {
        if let Some(c) = text_of(values, field) {
            match crate::import::contacts::parse_country(&c) {
                Some(code) => {
                    values.insert(field.into(), json!(code));
                }
                None => {
                    values.remove(field);
                    pre.add(
                        field,
                        "is not a known country; use a two-letter ISO code such as DE",
                    );
                }
            }
        }
    }
    pre
}

/// The within-file dedup key (source id, else VAT id, else domain, else normalised name),
/// with the VAT id, domain and name the existing company is looked up by.
fn company_key(
    values: &Map<String, Value>,
    extra: &CompanyExtra,
) -> (String, Option<String>, Option<String>, String) {
    // Dedup key: source id, else VAT id, else domain, else normalised name.
    let vat = text_of(values, "vat_id")
        .and_then(|v| crate::domain::VatId::parse(&v).ok())
        .map(|v| v.as_str().to_string());
    let domain = text_of(values, "domain")
        .or_else(|| text_of(values, "website"))
        .and_then(|w| crate::domain::Website::parse(&w).ok())
        .map(|w| w.domain().to_string());
    let name = text_of(values, "name").unwrap_or_default();
    let key = match (&extra.external, &vat, &domain) {
        (Some((_, id)), _, _) => format!("x:{id}"),
        (None, Some(v), _) => format!("vat:{v}"),
        (None, None, Some(d)) => format!("domain:{}", d.to_lowercase()),
        _ => format!("name:{}", normalize_name(&name)),
    };
    (key, vat, domain, name)
}

/// Completes a company the contact import created for a name only: its empty fields are
/// filled, nothing is overwritten.
async fn complete_company(
    tx: &mut Tx,
    id: crate::ids::CompanyId,
    values: Map<String, Value>,
    custom: Map<String, Value>,
    pre: &crate::error::FieldErrors,
    extra: &CompanyExtra,
    cctx: &mut CompanyCtx,
) -> Result<RowOutcome> {
    let external = extra.external.as_ref();
    let note = extra.notes.as_deref();
    pre.clone().into_result()?;
    let found = company::get(tx, id).await?;
    let have = serde_json::to_value(&found).unwrap_or(Value::Null);
    // A head count fills the size class; every other input key is a field of the
    // company as read.
    let blank = |k: &str| match have.get(if k == "employees" { "size" } else { k }) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty() || (k == "employees" && s == "unknown"),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    let mut patch: Map<String, Value> = values
        .into_iter()
        .filter(|(k, _)| k != "name" && blank(k))
        .collect();
    if !custom.is_empty() {
        let mut c = found.custom.as_object().cloned().unwrap_or_default();
        for (k, v) in custom {
            c.entry(k).or_insert(v);
        }
        patch.insert("custom".into(), Value::Object(c));
    }
    patch.insert("version".into(), json!(found.version));
    let patch: company::CompanyPatch = from_json(Value::Object(patch))?;
    let after = company::update(tx, id, patch).await?;
    keep_external(tx, id, external).await?;
    keep_note(tx, id, note).await?;
    cctx.touched.push(id.uuid());
    let changes = diff(Some(&found), Some(&after));
    if changes.as_object().is_none_or(|m| m.is_empty()) && external.is_none() {
        return Ok(RowOutcome::Unchanged);
    }
    Ok(RowOutcome::Updated(id.uuid(), changes))
}

/// Updates the matched company with the row's values (`--on-duplicate update`).
async fn update_company(
    tx: &mut Tx,
    id: crate::ids::CompanyId,
    values: Map<String, Value>,
    custom: Map<String, Value>,
    pre: &crate::error::FieldErrors,
    extra: &CompanyExtra,
    cctx: &mut CompanyCtx,
) -> Result<RowOutcome> {
    let external = extra.external.as_ref();
    let note = extra.notes.as_deref();
    let found = company::get(tx, id).await?;
    let mut patch = values.clone();
    patch.insert("version".into(), json!(found.version));
    if !custom.is_empty() {
        let mut c = found.custom.as_object().cloned().unwrap_or_default();
        c.extend(custom);
        patch.insert("custom".into(), Value::Object(c));
    }
    pre.clone().into_result()?;
    let patch: company::CompanyPatch = from_json(Value::Object(patch))?;
    let after = company::update(tx, found.id, patch).await?;
    keep_external(tx, id, external).await?;
    keep_note(tx, id, note).await?;
    cctx.touched.push(id.uuid());
    let changes = diff(Some(&found), Some(&after));
    if changes.as_object().is_none_or(|m| m.is_empty()) {
        return Ok(RowOutcome::Unchanged);
    }
    Ok(RowOutcome::Updated(found.id.uuid(), changes))
}

/// Creates the company; the row's own problems and the store's are reported together.
async fn create_company(
    tx: &mut Tx,
    mut values: Map<String, Value>,
    custom: Map<String, Value>,
    mut pre: crate::error::FieldErrors,
    extra: &CompanyExtra,
    cctx: &mut CompanyCtx,
) -> Result<RowOutcome> {
    let external = extra.external.as_ref();
    let note = extra.notes.as_deref();
    if !custom.is_empty() {
        values.insert("custom".into(), Value::Object(custom));
    }
    let new: company::NewCompany = from_json(Value::Object(values))?;
    match company::create(tx, new).await {
        Ok(c) if pre.is_empty() => {
            keep_external(tx, c.id, external).await?;
            keep_note(tx, c.id, note).await?;
            cctx.touched.push(c.id.uuid());
            cctx.warnings
                .extend(crate::dedupe::company_import_warning(tx, c.id.uuid()).await?);
            Ok(RowOutcome::Created)
        }
        // The savepoint rolls the created company back.
        Ok(_) => Err(Error::Validation(pre)),
        Err(Error::Validation(mut fe)) => {
            pre.0.append(&mut fe.0);
            Err(Error::Validation(pre))
        }
        Err(e) => Err(e),
    }
}

/// The existing company a row stands for: by its source id, else VAT id, else domain, else
/// name, never one with a different VAT id or another source id from the same system.
/// Returns its id and whether it is a placeholder (created by a contact import for the
/// company's name only, with no source id).
async fn find_company(
    tx: &mut Tx,
    external: Option<&(String, String)>,
    vat: Option<&str>,
    domain: Option<&str>,
    name: &str,
) -> Result<Option<(crate::ids::CompanyId, bool)>> {
    let (system, id) = match external {
        Some((s, i)) => (Some(s.as_str()), Some(i.as_str())),
        None => (None, None),
    };
    let found: Option<(crate::ids::CompanyId, bool)> = sqlx::query_as(
        "select c.id, c.external_id is null and exists (select 1 from import_runs r \
                where r.org_id = c.org_id and r.id = c.import_run_id and r.kind = 'contacts') \
         from companies c \
         where c.org_id = $1 and c.deleted_at is null \
           and ((c.external_system = $2 and c.external_id = $3) or c.vat_id = $4 \
                or c.domain = $5 or c.name_norm = $6) \
           and ($4::text is null or c.vat_id is null or c.vat_id = $4) \
           and ($2::text is null or c.external_id is null or c.external_system <> $2 \
                or c.external_id = $3) \
         order by case when c.external_system = $2 and c.external_id = $3 then 0 \
                       when c.vat_id = $4 then 1 when c.domain = $5 then 2 else 3 end, c.id \
         limit 1",
    )
    .bind(tx.org())
    .bind(system)
    .bind(id)
    .bind(vat)
    .bind(domain)
    .bind(normalize_name(name))
    .fetch_optional(tx.conn())
    .await?;
    Ok(found)
}

/// Keeps the source system's id on the company (when it has none yet).
async fn keep_external(
    tx: &mut Tx,
    id: crate::ids::CompanyId,
    external: Option<&(String, String)>,
) -> Result<()> {
    if let Some((system, ext)) = external {
        sqlx::query(
            "update companies set external_system = $3, external_id = $4 \
             where org_id = $1 and id = $2 and external_id is null",
        )
        .bind(tx.org())
        .bind(id)
        .bind(system)
        .bind(ext)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Keeps a row's note as a note activity on the company (once: the same text is not added
/// again by a second import).
async fn keep_note(tx: &mut Tx, id: crate::ids::CompanyId, note: Option<&str>) -> Result<()> {
    let Some(note) = note else {
        return Ok(());
    };
    let exists: bool = sqlx::query_scalar(
        "select exists (select 1 from activities where org_id = $1 and company_id = $2 \
         and kind = 'note' and deleted_at is null and body = $3)",
    )
    .bind(tx.org())
    .bind(id)
    .bind(note)
    .fetch_one(tx.conn())
    .await?;
    if exists {
        return Ok(());
    }
    let first = note
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("Note");
    let mut subject: String = first.chars().take(100).collect();
    if first.chars().count() > 100 {
        subject.push('…');
    }
    crate::store::activity::create(
        tx,
        crate::store::activity::NewActivity {
            subject,
            body: Some(note.to_string()),
            company_id: Some(id),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}
