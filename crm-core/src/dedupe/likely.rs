//! On the way in: is a new record a likely duplicate of one that exists? The signals of
//! [`super::detect`], for a few records instead of the whole organization, through indexes
//! (e-mail, E.164 phone, company; for companies VAT id, domain and name), scored by the same
//! functions.

use std::collections::HashMap;

use uuid::Uuid;

use super::detect::{CompanyPairRow, ContactPairRow, score_company_row, score_contact_row};
use super::{DEFAULT_MIN_SCORE, Kind, Reason};
use crate::auth::Permission;
use crate::error::Result;
use crate::tenancy::Tx;

/// Existing records sharing one company or e-mail domain beyond this many are not compared
/// with the new one by that key (a free-mail domain says nothing, and the check stays cheap).
const MAX_BLOCK: i64 = 100;

/// A new record that looks like an existing one.
#[derive(Debug, Clone, PartialEq)]
pub struct Likely {
    /// The new record.
    pub id: Uuid,
    /// The existing record it most likely duplicates.
    pub other: Uuid,
    /// How likely, 0 to 1 (at least [`DEFAULT_MIN_SCORE`]).
    pub score: f64,
    /// Why.
    pub reasons: Vec<Reason>,
}

impl Likely {
    /// One line for a user: the other record's id, the score and the reasons (no personal
    /// data).
    pub fn describe(&self, kind: Kind) -> String {
        let reasons: Vec<&str> = self.reasons.iter().map(|r| r.as_str()).collect();
        format!(
            "likely a duplicate of {kind} {} (score {:.2}: {}); see `crm {kind} duplicates`",
            self.other,
            self.score,
            reasons.join(", ")
        )
    }
}

/// Candidate pairs (new `a`, existing `b`) of contacts with the features of
/// `detect::CONTACT_PAIRS`. `$2` the new ids, `$3` the block cap (a phone number, company or
/// e-mail domain shared by more contacts says nothing and is not used), `$4` an import run whose
/// contacts do not count as existing.
const CONTACT_PAIRS: &str = "\
with n as materialized ( \
    select id, company_id from contacts \
    where org_id = $1 and id = any($2) and deleted_at is null), \
ne as materialized ( \
    select e.contact_id as id, e.email_norm as norm from contact_email_list e \
    where e.org_id = $1 and e.contact_id = any($2)), \
np as materialized ( \
    select p.contact_id as id, p.number_e164 as num from contact_phone_list p \
    where p.org_id = $1 and p.contact_id = any($2) and p.number_e164 is not null), \
nd as (select distinct id, split_part(norm, '@', 2) as dom from ne), \
cand as ( \
    select ne.id as a, e.contact_id as b, 'e' as k from ne \
    join contact_email_list e on e.org_id = $1 and e.email_norm = ne.norm \
    union all \
    select np.id, m.id, 'p' from np cross join lateral ( \
        select x.id, count(*) over () as cnt from ( \
            select distinct p.contact_id as id from contact_phone_list p \
            where p.org_id = $1 and p.number_e164 = np.num limit $3 + 1) x) m \
    where m.cnt <= $3 \
    union all \
    select n.id, m.id, 'c' from n cross join lateral ( \
        select x.id, count(*) over () as cnt from ( \
            select x.id from contacts x where x.org_id = $1 and x.company_id = n.company_id \
              and x.deleted_at is null \
              and ($4::uuid is null or x.import_run_id is distinct from $4) \
            limit $3 + 1) x) m \
    where n.company_id is not null and m.cnt <= $3 \
    union all \
    select nd.id, m.id, 'd' from nd cross join lateral ( \
        select x.id, count(*) over () as cnt from ( \
            select distinct e.contact_id as id from contact_email_list e \
            where e.org_id = $1 and e.domain = nd.dom \
            limit $3 + 1) x) m \
    where m.cnt <= $3), \
pairs as ( \
    select a, b, bool_or(k = 'e') as email, bool_or(k = 'p') as phone, \
           bool_or(k = 'd') as domain \
    from cand where a <> b group by a, b), \
f as ( \
    select p.*, x.company_id as xc, y.company_id as yc, \
           btrim(split_part(x.name_key, '|', 1)) as xf, btrim(split_part(x.name_key, '|', 2)) as xl, \
           btrim(split_part(y.name_key, '|', 1)) as yf, btrim(split_part(y.name_key, '|', 2)) as yl \
    from pairs p \
    cross join lateral (select company_id, name_key from contacts \
                        where org_id = $1 and id = p.a) x \
    cross join lateral (select company_id, name_key from contacts \
                        where org_id = $1 and id = p.b and deleted_at is null \
                          and ($4::uuid is null or import_run_id is distinct from $4)) y) \
select a, b, email, phone, domain, coalesce(xc = yc, false), xf, xl, yf, yl \
from f";

/// Candidate pairs of companies, with the features of `detect::COMPANY_PAIRS` (VAT id, web
/// domain, name without legal form, its first four letters, its first letter with its last
/// word; the last two only for names whose length without legal form is within one letter,
/// as a typo's is: at 125,000 companies a four-letter prefix alone brought thousands of
/// candidates per new company). The existing companies are looked up by index
/// (`companies_vat_unique`, `companies_domain_idx`, `companies_name_key_idx`,
/// `companies_name_prefix_idx`, `companies_name_initial_last_idx`: plain equality of stored
/// columns, which row-level security lets a query use; an expression such as
/// `left(name_key, 4)` it does not), so the check costs what the candidates cost, not what
/// the organization holds.
/// A prefix or first-letter-and-last-word shared (at a similar length) by more than
/// `$3` companies says nothing, as a block beyond [`MAX_BLOCK`] in detection: without the
/// cap, a file of 10,000 names alike (`Werk 00001 Logistik GmbH`, ...) compared each new
/// company with every one before it and ran for over ten minutes.
const COMPANY_PAIRS: &str = "\
with n as materialized ( \
    select id, coalesce(name_key, '') as nk, vat_id, domain, name_prefix, name_initial_last, \
           length(crm_company_core(coalesce(name_key, ''))) as core_len from companies \
    where org_id = $1 and id = any($2) and deleted_at is null), \
cand as ( \
    select n.id as a, c.id as b, 'v' as t from n join companies c \
        on c.org_id = $1 and c.deleted_at is null and c.vat_id = n.vat_id \
    union all select n.id, c.id, 'w' from n join companies c \
        on c.org_id = $1 and c.deleted_at is null and c.domain = n.domain \
    union all select n.id, c.id, 'n' from n join companies c \
        on c.org_id = $1 and c.deleted_at is null and c.name_key = n.nk and n.nk <> '' \
    union all select n.id, m.id, 't' from n cross join lateral ( \
        select x.id, count(*) over () as cnt from ( \
            select c.id from companies c \
            where c.org_id = $1 and c.deleted_at is null and c.name_prefix = n.name_prefix \
              and abs(length(crm_company_core(c.name_key)) - n.core_len) <= 1 \
            limit $3 + 1) x) m \
    where length(n.nk) >= 4 and m.cnt <= $3 \
    union all select n.id, m.id, 't' from n cross join lateral ( \
        select x.id, count(*) over () as cnt from ( \
            select c.id from companies c \
            where c.org_id = $1 and c.deleted_at is null \
              and c.name_initial_last = n.name_initial_last \
              and abs(length(crm_company_core(c.name_key)) - n.core_len) <= 1 \
            limit $3 + 1) x) m \
    where position(' ' in n.nk) > 0 and m.cnt <= $3), \
pairs as ( \
    select a, b, bool_or(t = 'v') as vat, bool_or(t = 'w') as domain, \
           bool_or(t = 'n') as same_name \
    from cand where a <> b group by a, b), \
k as materialized ( \
    select id, coalesce(name_key, '') as nk from companies \
    where org_id = $1 and id = any(array(select a from pairs union select b from pairs))) \
select p.a, p.b, p.vat, p.domain, p.same_name, x.nk, y.nk \
from pairs p join k x on x.id = p.a join k y on y.id = p.b";

/// For each of the records `ids` (already written, in this transaction), the existing record
/// of `kind` it most likely duplicates, scored as [`super::detect`] scores a pair; only those
/// at or above [`DEFAULT_MIN_SCORE`], ordered by id. Contacts written by the import run
/// `skip_run` do not count as existing (the rows of one import are not compared with each
/// other; `ids` are meant to be one record, or the new rows of such a run).
pub async fn likely_duplicates(
    tx: &mut Tx,
    kind: Kind,
    ids: &[Uuid],
    skip_run: Option<Uuid>,
) -> Result<Vec<Likely>> {
    tx.require(Permission::Read)?;
    find(tx, kind, ids, skip_run).await
}

/// The warnings of an import batch: for each contact it created (in `import_stage`, written
/// in this transaction), the existing contact it likely duplicates, as (line, message).
/// Contacts of the same run do not count as existing. The import calls it only when the
/// organization had contacts as the run began: a first load has nothing to compare with (it
/// asked per batch whether a contact of another run existed, which read every contact of
/// the run so far: 2.3 s of a 1M-row import into an empty organization).
pub(crate) async fn import_warnings(tx: &mut Tx, run: Uuid) -> Result<Vec<(u64, String)>> {
    let org = tx.org();
    let staged: Vec<(Uuid, i64)> = sqlx::query_as(
        "select s.id, s.line from import_stage s \
         join contacts c on c.org_id = $1 and c.id = s.id and c.import_run_id = $2 \
         where s.existing_id is null",
    )
    .bind(org)
    .bind(run)
    .fetch_all(tx.conn())
    .await?;
    let ids: Vec<Uuid> = staged.iter().map(|r| r.0).collect();
    let lines: HashMap<Uuid, i64> = staged.into_iter().collect();
    let found = find(tx, Kind::Contact, &ids, Some(run)).await?;
    let mut out: Vec<(u64, String)> = found
        .iter()
        .filter_map(|l| Some((*lines.get(&l.id)? as u64, l.describe(Kind::Contact))))
        .collect();
    out.sort();
    Ok(out)
}

/// The warning of a company row an import just created (`id`, in this transaction): the
/// existing company it likely duplicates, as (field, message), or none. Companies created
/// earlier in the same file count as existing (the company import has no run of its own on
/// its rows); when no company existed before this batch (a first load), nothing is compared.
/// The existing companies are found through indexes (see `COMPANY_PAIRS`).
pub(crate) async fn company_import_warning(
    tx: &mut Tx,
    id: Uuid,
) -> Result<Option<(String, String)>> {
    let any_existing: bool = sqlx::query_scalar(
        "select exists (select 1 from companies where org_id = $1 and deleted_at is null \
                        and id <> $2 and created_at < now())",
    )
    .bind(tx.org())
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    if !any_existing {
        return Ok(None);
    }
    let found = find(tx, Kind::Company, &[id], None).await?;
    Ok(found
        .first()
        .map(|l| ("duplicate".to_string(), l.describe(Kind::Company))))
}

async fn find(
    tx: &mut Tx,
    kind: Kind,
    ids: &[Uuid],
    skip_run: Option<Uuid>,
) -> Result<Vec<Likely>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let org = tx.org();
    let mut best: HashMap<Uuid, Likely> = HashMap::new();
    let mut keep = |a: Uuid, b: Uuid, scored: Option<(f64, Vec<Reason>)>| {
        if let Some((score, reasons)) = scored
            && score >= DEFAULT_MIN_SCORE
        {
            let better = best.get(&a).is_none_or(|l| {
                (score, std::cmp::Reverse(b)) > (l.score, std::cmp::Reverse(l.other))
            });
            if better {
                best.insert(
                    a,
                    Likely {
                        id: a,
                        other: b,
                        score,
                        reasons,
                    },
                );
            }
        }
    };
    match kind {
        Kind::Contact => {
            let rows: Vec<ContactPairRow> = sqlx::query_as(CONTACT_PAIRS)
                .bind(org)
                .bind(ids)
                .bind(MAX_BLOCK)
                .bind(skip_run)
                .fetch_all(tx.conn())
                .await?;
            for row in rows {
                let (a, b, scored) = score_contact_row(row);
                keep(a, b, scored);
            }
        }
        Kind::Company => {
            let rows: Vec<CompanyPairRow> = sqlx::query_as(COMPANY_PAIRS)
                .bind(org)
                .bind(ids)
                .bind(MAX_BLOCK)
                .fetch_all(tx.conn())
                .await?;
            for row in rows {
                let (a, b, scored) = score_company_row(row);
                keep(a, b, scored);
            }
        }
    }
    let mut out: Vec<Likely> = best.into_values().collect();
    out.sort_by_key(|l| l.id);
    Ok(out)
}
