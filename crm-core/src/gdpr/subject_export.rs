//! Subject export (GDPR Art. 15 and 20): one machine-readable document with everything the
//! organization holds about a person, and the same as a bundle of CSV files.
//!
//! The JSON shape is a contract, documented field by field in the README ("Subject export
//! format"); `subject.format` names its version.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::consent::Consent;
use super::{MatchedBy, find_person, isolated};
use crate::auth::Permission;
use crate::error::{Error, Result};
use crate::ids::{ActivityId, CompanyId, ContactId, DealId, UserId};
use crate::store::contact::{self, Contact};
use crate::tenancy::Tx;

/// The version tag of the document's shape.
pub const FORMAT: &str = "crm.subject_export.v1";

/// Who the document is about.
#[derive(Debug, Clone, Serialize)]
pub struct Subject {
    /// The shape's version (`crm.subject_export.v1`).
    pub format: &'static str,
    /// The person's main contact record (`contact` below).
    pub contact_id: ContactId,
    /// Every contact record of the person: the main one first, then `other_records`.
    pub record_ids: Vec<ContactId>,
    /// How the person was named: `id` or `email`.
    pub matched_by: MatchedBy,
    /// The organization holding the data (the controller).
    pub organization: String,
}

/// One e-mail address of one of the person's records.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SubjectEmail {
    /// The record it belongs to.
    pub contact_id: ContactId,
    /// The address as entered.
    pub email: String,
    /// `work`, `personal` or `other`.
    pub kind: String,
    /// Whether it is the record's primary address.
    pub primary: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// One phone number of one of the person's records.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SubjectPhone {
    /// The record it belongs to.
    pub contact_id: ContactId,
    /// The number in E.164 form.
    pub number: String,
    /// The number as entered.
    pub raw: String,
    /// `office`, `mobile`, `fax` or `other`.
    pub kind: String,
    /// Whether it is the record's primary number.
    pub primary: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// The company the person works for.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SubjectCompany {
    /// Its id.
    pub id: CompanyId,
    /// Its name.
    pub name: String,
    /// Its web domain.
    pub domain: Option<String>,
    /// Its website.
    pub website: Option<String>,
    /// When it was soft-deleted, if it was.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A deal the person is linked to.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SubjectDeal {
    /// Its id.
    pub id: DealId,
    /// What is being sold.
    pub title: String,
    /// The value (a decimal string).
    pub value: Decimal,
    /// ISO 4217 currency code.
    pub currency: String,
    /// `open`, `won` or `lost`.
    pub status: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// The stage's name.
    pub stage: String,
    /// The person's record it is linked to.
    pub contact_id: Option<ContactId>,
    /// The company it is with.
    pub company_id: Option<CompanyId>,
    /// When it is expected to close.
    pub expected_close_date: Option<NaiveDate>,
    /// When it was won or lost.
    pub closed_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was soft-deleted, if it was.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// An activity (note, call, meeting, ...) linked to the person.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SubjectActivity {
    /// Its id.
    pub id: ActivityId,
    /// `note`, `call`, `email`, `meeting`, `task` or `followup`.
    pub kind: String,
    /// What it is about.
    pub subject: String,
    /// Longer text.
    pub body: Option<String>,
    /// When it is due.
    pub due_at: Option<DateTime<Utc>>,
    /// When it was done.
    pub done_at: Option<DateTime<Utc>>,
    /// The person's record it is linked to.
    pub contact_id: Option<ContactId>,
    /// The company it is also linked to.
    pub company_id: Option<CompanyId>,
    /// The deal it is also linked to.
    pub deal_id: Option<DealId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was soft-deleted, if it was.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A user responsible for one of the person's records.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SubjectOwner {
    /// The record.
    pub contact_id: ContactId,
    /// The user.
    pub user_id: UserId,
    /// `owner`, `member` or `watcher`.
    pub role: String,
    /// The user's name.
    pub name: Option<String>,
    /// The user's e-mail address.
    pub email: Option<String>,
}

/// An audit entry about one of the person's records or activities.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SubjectAuditEntry {
    /// Position in the organization's audit chain.
    pub seq: i64,
    /// When it was written.
    pub at: DateTime<Utc>,
    /// Who acted.
    pub actor_id: Option<UserId>,
    /// The actor's name.
    pub actor: Option<String>,
    /// `contact` or `activity`.
    pub entity_type: String,
    /// The record.
    pub entity_id: Option<Uuid>,
    /// What happened (`create`, `update`, `delete`, `merge`, `consent_granted`, ...).
    pub action: String,
    /// The field-level change (`{"field": {"before": .., "after": ..}}`); null if redacted.
    pub payload: Option<Value>,
    /// Whether an erasure redacted the payload.
    pub redacted: bool,
}

/// The link of one of the person's records to a Lexware Office contact.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SubjectLexwareLink {
    /// The record.
    pub contact_id: ContactId,
    /// The contact's id in Lexware Office.
    pub lexware_id: Uuid,
    /// The Lexware version last seen.
    pub lexware_version: i32,
    /// When it was last synchronised.
    pub synced_at: Option<DateTime<Utc>>,
    /// When the link was made.
    pub created_at: DateTime<Utc>,
}

/// Everything held about one person.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectExport {
    /// Who it is about and how they were found.
    pub subject: Subject,
    /// The main contact record with its addresses, tags, owners and custom fields.
    pub contact: Contact,
    /// The person's other records: soft-deleted duplicates and merged records.
    pub other_records: Vec<Contact>,
    /// Every e-mail address of every record.
    pub emails: Vec<SubjectEmail>,
    /// Every phone number of every record.
    pub phones: Vec<SubjectPhone>,
    /// The main record's company.
    pub company: Option<SubjectCompany>,
    /// Deals linked to any record.
    pub deals: Vec<SubjectDeal>,
    /// Activities linked to any record (soft-deleted ones too).
    pub activities: Vec<SubjectActivity>,
    /// Users responsible for the records, with their names.
    pub owners: Vec<SubjectOwner>,
    /// Consent history, oldest first.
    pub consents: Vec<Consent>,
    /// Audit entries about the records and their activities, oldest first.
    pub audit: Vec<SubjectAuditEntry>,
    /// Lexware Office links.
    pub lexware: Vec<SubjectLexwareLink>,
    /// Vouchers cached from Lexware Office for the linked Lexware contacts (the accounting
    /// records themselves live in Lexware Office).
    pub lexware_vouchers: Vec<crate::lexware::CachedVoucher>,
    /// When the document was made.
    pub generated_at: DateTime<Utc>,
}

/// Everything held about the person named by `reference` (contact id, its digits, or any
/// of their e-mail addresses), soft-deleted and merged records of the same person
/// included. Requires [`Permission::Export`]; unknown reference: [`Error::NotFound`].
pub async fn subject_export(tx: &mut Tx, reference: &str) -> Result<SubjectExport> {
    tx.require(Permission::Export)?;
    isolated(tx, true, async |tx| collect(tx, reference).await).await
}

/// Reads everything held about the person, in the savepoint [`subject_export`] opens.
async fn collect(tx: &mut Tx, reference: &str) -> Result<SubjectExport> {
    let person = find_person(tx, reference, &[]).await?;
    let org = tx.org();
    let ids = &person.ids;
    let contact = contact::get_including_deleted(tx, person.main).await?;
    let mut other_records = Vec::new();
    for id in &ids[1..] {
        other_records.push(contact::get_including_deleted(tx, ContactId(*id)).await?);
    }
    let (organization, generated_at): (String, DateTime<Utc>) =
        sqlx::query_as("select name, now() from organizations where id = $1")
            .bind(org)
            .fetch_one(tx.conn())
            .await?;
    let (emails, phones) = addresses(tx, ids).await?;
    let company: Option<SubjectCompany> = match contact.company_id {
        Some(company_id) => {
            sqlx::query_as(
                "select id, name, domain, website, deleted_at from companies \
                 where org_id = $1 and id = $2",
            )
            .bind(org)
            .bind(company_id)
            .fetch_optional(tx.conn())
            .await?
        }
        None => None,
    };
    let deals: Vec<SubjectDeal> = sqlx::query_as(
        "select d.id, d.title, d.value, d.currency::text as currency, d.status, \
                p.name as pipeline, s.name as stage, d.contact_id, d.company_id, \
                d.expected_close_date, d.closed_at, d.created_at, d.updated_at, d.deleted_at \
         from deals d \
         join pipelines p on p.org_id = d.org_id and p.id = d.pipeline_id \
         join stages s on s.org_id = d.org_id and s.id = d.stage_id \
         where d.org_id = $1 and d.contact_id = any($2) order by d.id",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let activities: Vec<SubjectActivity> = sqlx::query_as(
        "select id, kind, subject, body, due_at, done_at, contact_id, company_id, deal_id, \
                created_at, updated_at, deleted_at \
         from activities where org_id = $1 and contact_id = any($2) order by id",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let (owners, consents) = owners_and_consents(tx, ids).await?;
    let audit = audit_of(tx, ids, &activities).await?;
    let (lexware, lexware_vouchers) = lexware_of(tx, ids).await?;
    Ok(SubjectExport {
        subject: Subject {
            format: FORMAT,
            contact_id: person.main,
            record_ids: ids.iter().map(|id| ContactId(*id)).collect(),
            matched_by: person.matched_by,
            organization,
        },
        contact,
        other_records,
        emails,
        phones,
        company,
        deals,
        activities,
        owners,
        consents,
        audit,
        lexware,
        lexware_vouchers,
        generated_at,
    })
}

/// The person's e-mail addresses and phone numbers (those only on the record included).
async fn addresses(tx: &mut Tx, ids: &[Uuid]) -> Result<(Vec<SubjectEmail>, Vec<SubjectPhone>)> {
    let org = tx.org();
    let emails: Vec<SubjectEmail> = sqlx::query_as(
        "select contact_id, email, kind, is_primary as \"primary\", created_at \
         from contact_emails where org_id = $1 and contact_id = any($2) \
         union all \
         select c.id, c.email, 'work', true, c.created_at from contacts c \
         where c.org_id = $1 and c.id = any($2) and c.email is not null \
           and not exists (select 1 from contact_emails e \
                           where e.org_id = c.org_id and e.contact_id = c.id \
                             and e.email_norm = c.email_norm) \
         order by 1, 4 desc, 2",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let phones: Vec<SubjectPhone> = sqlx::query_as(
        "select contact_id, coalesce(number_e164, number_raw) as number, number_raw as raw, kind, \
                is_primary as \"primary\", created_at \
         from contact_phones where org_id = $1 and contact_id = any($2) \
         union all \
         select c.id, c.phone, c.phone, 'office', true, c.created_at from contacts c \
         where c.org_id = $1 and c.id = any($2) and c.phone is not null \
           and not exists (select 1 from contact_phones p \
                           where p.org_id = c.org_id and p.contact_id = c.id \
                             and coalesce(p.number_e164, p.number_raw) = c.phone) \
         order by 1, 5 desc, 2",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    Ok((emails, phones))
}

/// The owners of the person's records and the consents recorded for them.
async fn owners_and_consents(
    tx: &mut Tx,
    ids: &[Uuid],
) -> Result<(Vec<SubjectOwner>, Vec<Consent>)> {
    let org = tx.org();
    let owners: Vec<SubjectOwner> = sqlx::query_as(
        "select o.contact_id, o.user_id, o.role, \
                nullif(btrim(concat_ws(' ', u.first_name, u.last_name)), '') as name, \
                u.email \
         from contact_owners o \
         left join users u on u.org_id = o.org_id and u.id = o.user_id \
         where o.org_id = $1 and o.contact_id = any($2) \
         order by o.contact_id, o.role, o.user_id",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let consents: Vec<Consent> = sqlx::query_as(
        "select id, contact_id, purpose, status, source, recorded_at, actor_id from consents \
         where org_id = $1 and contact_id = any($2) order by recorded_at, id",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    Ok((owners, consents))
}

/// The audit entries about the person's records and their activities.
async fn audit_of(
    tx: &mut Tx,
    ids: &[Uuid],
    activities: &[SubjectActivity],
) -> Result<Vec<SubjectAuditEntry>> {
    let org = tx.org();
    let activity_ids: Vec<Uuid> = activities.iter().map(|a| a.id.uuid()).collect();
    let audit: Vec<SubjectAuditEntry> = sqlx::query_as(
        "select a.seq, a.at, a.actor_id, \
                nullif(btrim(concat_ws(' ', u.first_name, u.last_name)), '') as actor, \
                a.entity_type, a.entity_id, a.action, a.payload, \
                a.redacted_at is not null as redacted \
         from audit_log a \
         left join users u on u.org_id = a.org_id and u.id = a.actor_id \
         where a.org_id = $1 \
           and ((a.entity_type = 'contact' and a.entity_id = any($2)) \
                or (a.entity_type = 'activity' and a.entity_id = any($3))) \
         order by a.seq",
    )
    .bind(org)
    .bind(ids)
    .bind(&activity_ids)
    .fetch_all(tx.conn())
    .await?;
    Ok(audit)
}

/// The person's Lexware links and the vouchers cached for the linked Lexware contacts.
async fn lexware_of(
    tx: &mut Tx,
    ids: &[Uuid],
) -> Result<(Vec<SubjectLexwareLink>, Vec<crate::lexware::CachedVoucher>)> {
    let org = tx.org();
    let lexware: Vec<SubjectLexwareLink> = sqlx::query_as(
        "select contact_id, lexware_id, lexware_version, synced_at, created_at \
         from lexware_contact_links where org_id = $1 and contact_id = any($2) \
         order by created_at",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let mut lexware_vouchers = Vec::new();
    for link in &lexware {
        lexware_vouchers.extend(crate::lexware::vouchers::for_contact(tx, link.lexware_id).await?);
    }
    Ok((lexware, lexware_vouchers))
}

// ---------------------------------------------------------------------------------------
// CSV bundle
// ---------------------------------------------------------------------------------------

/// The columns of each CSV file, in order. Fields a later version adds to a row type are
/// appended after these.
const SECTIONS: &[(&str, &[&str])] = &[
    (
        "subject",
        &[
            "format",
            "contact_id",
            "record_ids",
            "matched_by",
            "organization",
            "generated_at",
        ],
    ),
    ("contact", CONTACT_COLUMNS),
    ("other_records", CONTACT_COLUMNS),
    (
        "emails",
        &["contact_id", "email", "kind", "primary", "created_at"],
    ),
    (
        "phones",
        &[
            "contact_id",
            "number",
            "raw",
            "kind",
            "primary",
            "created_at",
        ],
    ),
    (
        "company",
        &["id", "name", "domain", "website", "deleted_at"],
    ),
    (
        "deals",
        &[
            "id",
            "title",
            "value",
            "currency",
            "status",
            "pipeline",
            "stage",
            "contact_id",
            "company_id",
            "expected_close_date",
            "closed_at",
            "created_at",
            "updated_at",
            "deleted_at",
        ],
    ),
    (
        "activities",
        &[
            "id",
            "kind",
            "subject",
            "body",
            "due_at",
            "done_at",
            "contact_id",
            "company_id",
            "deal_id",
            "created_at",
            "updated_at",
            "deleted_at",
        ],
    ),
    (
        "owners",
        &["contact_id", "user_id", "role", "name", "email"],
    ),
    (
        "consents",
        &[
            "id",
            "contact_id",
            "purpose",
            "status",
            "source",
            "recorded_at",
            "actor_id",
        ],
    ),
    (
        "audit",
        &[
            "seq",
            "at",
            "actor_id",
            "actor",
            "entity_type",
            "entity_id",
            "action",
            "payload",
            "redacted",
        ],
    ),
    (
        "lexware",
        &[
            "contact_id",
            "lexware_id",
            "lexware_version",
            "synced_at",
            "created_at",
        ],
    ),
];

const CONTACT_COLUMNS: &[&str] = &[
    "id",
    "first_name",
    "last_name",
    "salutation",
    "title",
    "job_title",
    "department",
    "linkedin_url",
    "birthday",
    "source",
    "status",
    "company_id",
    "company",
    "email",
    "phone",
    "emails",
    "phones",
    "city",
    "street",
    "postal_code",
    "country",
    "home_street",
    "home_postal_code",
    "home_city",
    "home_country",
    "external_system",
    "external_id",
    "tags",
    "owners",
    "custom",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
];

/// A CSV cell: text as is, numbers and booleans printed, null empty, lists and objects as
/// JSON.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Writes the export as one CSV file per section into `dir` (created if missing):
/// `subject.csv` (with `generated_at`), `contact.csv`, `other_records.csv`, `emails.csv`,
/// `phones.csv`, `company.csv`, `deals.csv`, `activities.csv`, `owners.csv`,
/// `consents.csv`, `audit.csv`, `lexware.csv`. Each has a header row; lists and objects
/// (a contact's addresses, an audit payload) are JSON text in their cell. The files are
/// written by the one CSV writer with `options` (formula guard, separator, Excel preset).
/// Returns the files written.
pub fn write_csv_bundle(
    export: &SubjectExport,
    dir: &Path,
    options: crate::csv_out::CsvOptions,
) -> Result<Vec<PathBuf>> {
    let io = |e: std::io::Error| Error::Io(format!("writing the CSV bundle failed: {e}"));
    let encode = |e: serde_json::Error| Error::Io(format!("encoding the export failed: {e}"));
    crate::private_file::create_dir(dir).map_err(io)?;
    let doc = serde_json::to_value(export).map_err(encode)?;
    let mut subject = doc.get("subject").cloned().unwrap_or(Value::Null);
    if let Value::Object(m) = &mut subject {
        m.insert(
            "generated_at".into(),
            doc.get("generated_at").cloned().unwrap_or(Value::Null),
        );
    }
    let rows_of = |name: &str| -> Vec<Value> {
        match name {
            "subject" => vec![subject.clone()],
            "contact" => vec![doc.get("contact").cloned().unwrap_or(Value::Null)],
            "company" => match doc.get("company") {
                Some(Value::Null) | None => Vec::new(),
                Some(c) => vec![c.clone()],
            },
            other => match doc.get(other) {
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            },
        }
    };
    let mut written = Vec::new();
    for (name, columns) in SECTIONS {
        let rows = rows_of(name);
        let mut headers: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        for r in &rows {
            if let Value::Object(m) = r {
                for k in m.keys() {
                    if !headers.contains(k) {
                        headers.push(k.clone());
                    }
                }
            }
        }
        let path = dir.join(format!("{name}.csv"));
        let file = crate::private_file::create(&path).map_err(io)?;
        let csv_err = |e: std::io::Error| Error::Io(format!("writing the CSV bundle failed: {e}"));
        let mut w = crate::csv_out::CsvWriter::new(std::io::BufWriter::new(file), options)
            .map_err(csv_err)?;
        w.write_row(&headers).map_err(csv_err)?;
        for r in &rows {
            let record: Vec<String> = headers
                .iter()
                .map(|h| r.get(h).map(cell).unwrap_or_default())
                .collect();
            w.write_row(&record).map_err(csv_err)?;
        }
        w.flush().map_err(io)?;
        written.push(path);
    }
    Ok(written)
}
