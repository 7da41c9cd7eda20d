//! Streaming export of contacts, companies, deals and activities as CSV, JSON or NDJSON.
//!
//! CSV goes through `COPY (SELECT ...) TO STDOUT`, which is allowed under row-level
//! security and streams at the server's speed, and then through the one CSV writer
//! ([`crate::csv_out`]: formula guard, separator, Excel preset); times are RFC 3339 in UTC.
//! JSON and NDJSON stream rows as they arrive. Memory stays constant whatever the size.

use std::io::Write;

use futures_util::TryStreamExt as _;
use serde::Serialize;

use crate::auth::Permission;
use crate::csv_out::{CsvOptions, CsvRewriter, CsvWriter};
use crate::error::{Error, Result};
use crate::tenancy::Tx;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    /// Contacts with primary e-mail, phone, company name and tags.
    Contacts,
    /// Companies.
    Companies,
    /// Deals with pipeline, stage and status.
    Deals,
    /// Activities.
    Activities,
}

impl std::str::FromStr for ExportKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "contacts" => Ok(Self::Contacts),
            "companies" => Ok(Self::Companies),
            "deals" => Ok(Self::Deals),
            "activities" => Ok(Self::Activities),
            _ => Err(Error::invalid(
                "kind",
                "must be contacts, companies, deals or activities",
            )),
        }
    }
}

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A header row, then one row per record.
    Csv,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// vCard 3.0 (contacts only), one card per contact.
    Vcard,
}

/// Filters (the same as the lists').
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    /// Only records carrying this tag (contacts, companies).
    pub tag: Option<String>,
    /// Only records with this status (contacts, companies: active/inactive/blocked; deals:
    /// open/won/lost).
    pub status: Option<String>,
    /// Only records of this company (contacts, deals, activities).
    pub company_id: Option<uuid::Uuid>,
    /// Only records owned (in any role) by this user.
    pub owner: Option<uuid::Uuid>,
    /// Only records created at or after this time.
    pub created_after: Option<chrono::DateTime<chrono::Utc>>,
    /// Only records created before this time.
    pub created_before: Option<chrono::DateTime<chrono::Utc>>,
    /// Only contacts whose latest decision for the purpose [`consent_purpose`] is a grant
    /// (the complement of [`crate::gdpr::consent::without_consent`] for that purpose).
    ///
    /// [`consent_purpose`]: Self::consent_purpose
    pub consenting_only: bool,
    /// The purpose `consenting_only` asks about; `None` means
    /// [`DEFAULT_PURPOSE`](crate::gdpr::consent::DEFAULT_PURPOSE) (`marketing`).
    pub consent_purpose: Option<String>,
    /// Only these columns, in this order (default: all of the kind's columns).
    pub columns: Option<Vec<String>>,
    /// How CSV is written: separator, Excel preset, formula guard (see [`crate::csv_out`]).
    pub csv: CsvOptions,
}

/// The columns of each kind: (name, SQL expression over the alias of the main table).
fn columns(kind: ExportKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        ExportKind::Contacts => &[
            ("id", "c.id"),
            ("first_name", "c.first_name"),
            ("last_name", "c.last_name"),
            ("email", "c.email"),
            ("phone", "c.phone"),
            ("company", "co.name"),
            ("job_title", "c.job_title"),
            ("department", "c.department"),
            ("salutation", "c.salutation"),
            ("title", "c.title"),
            ("city", "c.city"),
            ("street", "c.street"),
            ("postal_code", "c.postal_code"),
            ("country", "c.country"),
            ("home_street", "c.home_street"),
            ("home_postal_code", "c.home_postal_code"),
            ("home_city", "c.home_city"),
            ("home_country", "c.home_country"),
            ("source", "c.source"),
            ("status", "c.status"),
            (
                "tags",
                "(select string_agg(t.name, '|' order by t.name) from contact_tags ct join tags t on t.org_id = ct.org_id and t.id = ct.tag_id where ct.org_id = c.org_id and ct.contact_id = c.id)",
            ),
            ("created_at", "c.created_at"),
            ("updated_at", "c.updated_at"),
        ],
        ExportKind::Companies => &[
            ("id", "c.id"),
            ("name", "c.name"),
            ("domain", "c.domain"),
            ("website", "c.website"),
            ("vat_id", "c.vat_id"),
            ("email", "c.email"),
            ("phone", "c.phone"),
            ("size", "c.size"),
            ("status", "c.status"),
            ("billing_street", "c.billing_street"),
            ("billing_postal_code", "c.billing_postal_code"),
            ("billing_city", "c.billing_city"),
            ("billing_country", "c.billing_country"),
            (
                "tags",
                "(select string_agg(t.name, '|' order by t.name) from company_tags ct join tags t on t.org_id = ct.org_id and t.id = ct.tag_id where ct.org_id = c.org_id and ct.company_id = c.id)",
            ),
            ("created_at", "c.created_at"),
            ("updated_at", "c.updated_at"),
        ],
        ExportKind::Deals => &[
            ("id", "c.id"),
            ("title", "c.title"),
            ("value", "c.value"),
            ("currency", "c.currency"),
            (
                "pipeline",
                "(select p.name from pipelines p where p.org_id = c.org_id and p.id = c.pipeline_id)",
            ),
            (
                "stage",
                "(select s.name from stages s where s.org_id = c.org_id and s.id = c.stage_id)",
            ),
            ("status", "c.status"),
            ("company", "co.name"),
            ("contact_id", "c.contact_id"),
            ("expected_close_date", "c.expected_close_date"),
            ("closed_at", "c.closed_at"),
            (
                "lost_reason",
                "(select l.key from lost_reasons l where l.org_id = c.org_id and l.id = c.lost_reason_id)",
            ),
            ("created_at", "c.created_at"),
        ],
        ExportKind::Activities => &[
            ("id", "c.id"),
            ("kind", "c.kind"),
            ("subject", "c.subject"),
            ("due_at", "c.due_at"),
            ("done_at", "c.done_at"),
            ("contact_id", "c.contact_id"),
            ("company", "co.name"),
            ("deal_id", "c.deal_id"),
            ("assignee_id", "c.assignee_id"),
            ("created_at", "c.created_at"),
        ],
    }
}

/// Builds the export query. Only fixed identifiers and expressions are interpolated; the
/// filter values are the placeholders `p(1)` (org) to `p(7)`: bind parameters `$1`..`$7`,
/// or SQL literals for `COPY`, which takes no parameters.
fn query(kind: ExportKind, filter: &ExportFilter, p: &dyn Fn(usize) -> String) -> Result<String> {
    query_with(kind, filter, p, false)
}

/// [`query`], with timestamp columns (names ending in `_at`) as RFC 3339 text in UTC when
/// `rfc3339` (for CSV; JSON prints them in RFC 3339 by itself).
fn query_with(
    kind: ExportKind,
    filter: &ExportFilter,
    p: &dyn Fn(usize) -> String,
    rfc3339: bool,
) -> Result<String> {
    let all = columns(kind);
    let select = select_list(&selected_columns(all, filter)?, rfc3339);
    let table = match kind {
        ExportKind::Contacts => "contacts",
        ExportKind::Companies => "companies",
        ExportKind::Deals => "deals",
        ExportKind::Activities => "activities",
    };
    let company_join = match kind {
        ExportKind::Companies => String::new(),
        _ => "left join companies co on co.org_id = c.org_id and co.id = c.company_id".to_string(),
    };
    let mut wh = conditions(kind, p);
    if filter.consenting_only {
        wh.push(consent_condition(kind, filter)?);
    }
    Ok(format!(
        "select {} from {table} c {company_join} where {} order by c.id",
        select.join(", "),
        wh.join(" and ")
    ))
}

/// The columns `filter` asks for (all when it names none), in its order.
fn selected_columns<'c>(
    all: &'c [(&'static str, &'static str)],
    filter: &ExportFilter,
) -> Result<Vec<&'c (&'static str, &'static str)>> {
    let Some(names) = &filter.columns else {
        return Ok(all.iter().collect());
    };
    let mut out = Vec::new();
    for n in names {
        match all.iter().find(|(c, _)| c == n) {
            Some(c) => out.push(c),
            None => {
                let known: Vec<&str> = all.iter().map(|(c, _)| *c).collect();
                return Err(Error::invalid(
                    "columns",
                    format!("unknown column '{n}'; columns are: {}", known.join(", ")),
                ));
            }
        }
    }
    Ok(out)
}

/// The select list: `expression as name`, times as RFC 3339 text in UTC when `rfc3339`.
fn select_list(selected: &[&(&str, &str)], rfc3339: bool) -> Vec<String> {
    selected
        .iter()
        .map(|(n, e)| match rfc3339 && n.ends_with("_at") {
            true => format!(
                "to_char({e} at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') as {n}"
            ),
            false => format!("{e} as {n}"),
        })
        .collect()
}

/// The filter's conditions on the records (alias `c`), over parameters `p(1)` (the
/// organization) to `p(7)`: tag, status, company, owner, created from, created before.
fn conditions(kind: ExportKind, p: &dyn Fn(usize) -> String) -> Vec<String> {
    let (owners, tags) = match kind {
        ExportKind::Contacts => (
            Some(("contact_owners", "contact_id")),
            Some(("contact_tags", "contact_id")),
        ),
        ExportKind::Companies => (
            Some(("company_owners", "company_id")),
            Some(("company_tags", "company_id")),
        ),
        ExportKind::Deals => (Some(("deal_owners", "deal_id")), None),
        ExportKind::Activities => (None, None),
    };
    let mut wh = vec![
        format!("c.org_id = {}", p(1)),
        "c.deleted_at is null".to_string(),
    ];
    if let Some((t, col)) = tags {
        wh.push(format!(
            "({p2}::text is null or exists (select 1 from {t} x join tags t on t.org_id = x.org_id and t.id = x.tag_id \
             where x.org_id = c.org_id and x.{col} = c.id and t.name_norm = crm_fold(btrim({p2}))))",
            p2 = p(2)
        ));
    } else {
        wh.push(format!("({}::text is null or false)", p(2)));
    }
    match kind {
        ExportKind::Activities => wh.push(format!(
            "({p3}::text is null or ({p3} = 'done') = (c.done_at is not null))",
            p3 = p(3)
        )),
        _ => wh.push(format!(
            "({p3}::text is null or c.status = {p3})",
            p3 = p(3)
        )),
    }
    match kind {
        ExportKind::Companies => wh.push(format!("({p4}::uuid is null or c.id = {p4})", p4 = p(4))),
        _ => wh.push(format!(
            "({p4}::uuid is null or c.company_id = {p4})",
            p4 = p(4)
        )),
    }
    match owners {
        Some((t, col)) => wh.push(format!(
            "({p5}::uuid is null or exists (select 1 from {t} o where o.org_id = c.org_id and o.{col} = c.id and o.user_id = {p5}))",
            p5 = p(5)
        )),
        None => wh.push(format!("({p5}::uuid is null or c.assignee_id = {p5})", p5 = p(5))),
    }
    wh.push(format!(
        "({p6}::timestamptz is null or c.created_at >= {p6})",
        p6 = p(6)
    ));
    wh.push(format!(
        "({p7}::timestamptz is null or c.created_at < {p7})",
        p7 = p(7)
    ));
    wh
}

/// The condition of `--consenting-only`: the contact's latest consent for the purpose is
/// granted (contacts only).
fn consent_condition(kind: ExportKind, filter: &ExportFilter) -> Result<String> {
    if kind != ExportKind::Contacts {
        return Err(Error::invalid(
            "consenting_only",
            "applies to contacts only",
        ));
    }
    let purpose = crate::gdpr::consent::purpose_key(
        filter
            .consent_purpose
            .as_deref()
            .unwrap_or(crate::gdpr::consent::DEFAULT_PURPOSE),
    )?;
    // The purpose is checked (letters, digits, underscores) and quoted: the CSV path
    // runs under COPY, which takes no parameters.
    Ok(format!(
        "(select k.status from consents k where k.org_id = c.org_id and k.contact_id = c.id \
          and k.purpose = {} order by k.recorded_at desc, k.id desc limit 1) = 'granted'",
        literal(&purpose)
    ))
}

/// The query of the ids of the contacts `filter` selects, with the filter values as bind
/// parameters `$1` (org) to `$7`.
pub(crate) fn id_query(filter: &ExportFilter) -> Result<String> {
    let ids = ExportFilter {
        columns: Some(vec!["id".into()]),
        ..filter.clone()
    };
    query(ExportKind::Contacts, &ids, &|i| format!("${i}"))
}

/// Writes the export to `out`, returning the number of records.
pub async fn export<W: Write>(
    tx: &mut Tx,
    kind: ExportKind,
    format: ExportFormat,
    filter: &ExportFilter,
    out: &mut W,
) -> Result<u64> {
    tx.require(Permission::Export)?;
    let org = tx.org();
    let io = |e: std::io::Error| Error::Io(format!("writing the export failed: {e}"));
    match format {
        ExportFormat::Vcard if kind == ExportKind::Contacts => {
            crate::import::formats::vcard::write::export(tx, filter, out).await
        }
        ExportFormat::Vcard => Err(Error::invalid(
            "format",
            "vCard is a format for contacts only",
        )),
        ExportFormat::Csv => {
            // COPY takes no parameters: the values go in as SQL literals. Every one is either
            // typed (uuid, timestamp) and printed by us, or text quoted by `literal`.
            let lit = |i: usize| -> String {
                let v = match i {
                    1 => Some(org.uuid().to_string()),
                    2 => filter.tag.clone(),
                    3 => filter.status.clone(),
                    4 => filter.company_id.map(|u| u.to_string()),
                    5 => filter.owner.map(|u| u.to_string()),
                    6 => filter.created_after.map(|t| t.to_rfc3339()),
                    7 => filter.created_before.map(|t| t.to_rfc3339()),
                    _ => None,
                };
                let ty = match i {
                    1 | 4 | 5 => "uuid",
                    6 | 7 => "timestamptz",
                    _ => "text",
                };
                match v {
                    Some(v) => format!("{}::{ty}", literal(&v)),
                    None => format!("null::{ty}"),
                }
            };
            let sql = query_with(kind, filter, &lit, true)?;
            let copy_sql = format!("copy ({sql}) to stdout with (format csv, header)");
            let mut stream = tx.conn().copy_out_raw(&copy_sql).await?;
            let mut csv = CsvRewriter::new(CsvWriter::new(&mut *out, filter.csv).map_err(io)?);
            while let Some(chunk) = stream.try_next().await? {
                csv.feed(&chunk).map_err(io)?;
            }
            let (records, out) = csv.finish().map_err(io)?;
            out.flush().map_err(io)?;
            // The header is one record.
            Ok(records.saturating_sub(1))
        }
        ExportFormat::Json | ExportFormat::Ndjson => {
            let sql = query(kind, filter, &|i| format!("${i}"))?;
            let json_sql = format!("select row_to_json(x)::text from ({sql}) x");
            let mut rows = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(json_sql))
                .bind(org)
                .bind(&filter.tag)
                .bind(&filter.status)
                .bind(filter.company_id)
                .bind(filter.owner)
                .bind(filter.created_after)
                .bind(filter.created_before)
                .fetch(tx.conn());
            let mut n = 0u64;
            if format == ExportFormat::Json {
                out.write_all(b"[").map_err(io)?;
            }
            while let Some(row) = rows.try_next().await? {
                if format == ExportFormat::Json {
                    out.write_all(if n == 0 { b"\n" } else { b",\n" })
                        .map_err(io)?;
                }
                out.write_all(row.as_bytes()).map_err(io)?;
                if format == ExportFormat::Ndjson {
                    out.write_all(b"\n").map_err(io)?;
                }
                n += 1;
            }
            if format == ExportFormat::Json {
                out.write_all(if n == 0 { b"]\n" } else { b"\n]\n" })
                    .map_err(io)?;
            }
            out.flush().map_err(io)?;
            Ok(n)
        }
    }
}

/// A SQL string literal (standard_conforming_strings: only quotes need doubling; a NUL
/// cannot be part of a PostgreSQL text value and is dropped).
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\0', "").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_columns_are_refused_with_the_known_ones_listed() {
        let f = ExportFilter {
            columns: Some(vec!["email".into(), "shoe_size".into()]),
            ..Default::default()
        };
        let err = query(ExportKind::Contacts, &f, &|i| format!("${i}"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("shoe_size") && err.contains("first_name"),
            "{err}"
        );
        let f = ExportFilter {
            columns: Some(vec!["email".into(), "id".into()]),
            ..Default::default()
        };
        let q = query(ExportKind::Contacts, &f, &|i| format!("${i}")).unwrap();
        assert!(q.starts_with("select c.email as email, c.id as id from contacts c"));
    }

    #[test]
    fn literals_are_quoted() {
        assert_eq!(literal("O'Brien"), "'O''Brien'");
        assert_eq!(literal("a\\b"), "'a\\b'");
    }
}
