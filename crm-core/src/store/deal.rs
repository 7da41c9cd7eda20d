//! Deals: a value in a currency moving through the stages of a pipeline, won or lost in
//! the end (a lost deal names a lost reason), with a stage history that records every move
//! and who made it.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::auth::Permission;
use crate::domain::{Currency, DealStatus, InvalidValue, Money, OwnerRole};
use crate::error::{Error, FieldErrors, Result};
use crate::ids::{CompanyId, ContactId, DealId, PipelineId, StageId, UserId};
use crate::store::owner::{self, OwnedKind, Owner};
use crate::store::{Page, PageRequest, changed_fields, clean, diff, double_option};
use crate::tenancy::Tx;

/// The columns of a [`Deal`] with the names of the records it points at; append a `where`.
macro_rules! deal_select {
    () => {
        "select d.id, d.title, d.value, d.currency::text as currency, d.pipeline_id, \
                p.name as pipeline, d.stage_id, s.name as stage, s.probability, d.contact_id, \
                coalesce(nullif(btrim(concat_ws(' ', c.first_name, c.last_name)), ''), c.email) \
                    as contact, \
                d.company_id, co.name as company, d.status, lr.key as lost_reason, \
                d.lost_reason_text, d.expected_close_date, d.closed_at, d.custom, d.version, \
                d.created_at, d.updated_at, d.deleted_at \
         from deals d \
         join pipelines p on p.org_id = d.org_id and p.id = d.pipeline_id \
         join stages s on s.org_id = d.org_id and s.id = d.stage_id \
         left join contacts c on c.org_id = d.org_id and c.id = d.contact_id \
         left join companies co on co.org_id = d.org_id and co.id = d.company_id \
         left join lost_reasons lr on lr.org_id = d.org_id and lr.id = d.lost_reason_id "
    };
}

/// A deal status as stored (text), decoded into [`DealStatus`].
#[derive(sqlx::Type)]
#[sqlx(transparent)]
struct StatusText(String);

impl TryFrom<StatusText> for DealStatus {
    type Error = InvalidValue;
    fn try_from(s: StatusText) -> Result<Self, InvalidValue> {
        s.0.parse()
    }
}

/// A deal as read, with the names of its pipeline, stage, contact and company.
#[derive(Clone, Serialize, sqlx::FromRow)]
pub struct Deal {
    /// Its id.
    pub id: DealId,
    /// What is being sold.
    pub title: String,
    /// The value, exact to the currency's decimal places.
    pub value: Decimal,
    /// ISO 4217 code of the value's currency.
    pub currency: String,
    /// The pipeline.
    pub pipeline_id: PipelineId,
    /// The pipeline's name.
    pub pipeline: String,
    /// The current stage.
    pub stage_id: StageId,
    /// The stage's name.
    pub stage: String,
    /// The stage's win probability in percent.
    pub probability: Decimal,
    /// The contact (person) the deal is with.
    pub contact_id: Option<ContactId>,
    /// The contact's display name.
    pub contact: Option<String>,
    /// The company the deal is with.
    pub company_id: Option<CompanyId>,
    /// The company's name.
    pub company: Option<String>,
    /// Open, won or lost.
    #[sqlx(try_from = "StatusText")]
    pub status: DealStatus,
    /// The lost reason's key, when lost.
    pub lost_reason: Option<String>,
    /// Free text about why it was lost.
    pub lost_reason_text: Option<String>,
    /// When it is expected to close.
    pub expected_close_date: Option<NaiveDate>,
    /// When it was won or lost.
    pub closed_at: Option<DateTime<Utc>>,
    /// Its owners.
    #[sqlx(skip)]
    pub owners: Vec<Owner>,
    /// Custom fields (a JSON object).
    pub custom: Value,
    /// Version for optimistic locking.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was soft-deleted.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for Deal {
    /// Leaves out the contact's name (personal data).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deal")
            .field("id", &self.id)
            .field("value", &self.value)
            .field("currency", &self.currency)
            .field("pipeline_id", &self.pipeline_id)
            .field("stage_id", &self.stage_id)
            .field("status", &self.status)
            .field("contact_id", &self.contact_id)
            .field("company_id", &self.company_id)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// One move of a deal between stages (the first entry, with no `from_stage_id`, is where it
/// was created).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StageChange {
    /// The entry's id.
    pub id: Uuid,
    /// The stage it left (`None` at creation, or when that stage was removed since).
    pub from_stage_id: Option<StageId>,
    /// That stage's name (its current one, or the one it had when the deal moved if the
    /// stage was removed since).
    pub from_stage: Option<String>,
    /// The stage it entered (`None` when that stage was removed since).
    pub to_stage_id: Option<StageId>,
    /// That stage's name (as for `from_stage`).
    pub to_stage: Option<String>,
    /// When.
    pub moved_at: DateTime<Utc>,
    /// Who moved it.
    pub actor_id: Option<UserId>,
}

/// Reads an amount given as a JSON string (`"1.234,50"`, `"1200"`) or number (`1200.5`).
fn amount<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(Option::<Raw>::deserialize(d)?.map(|r| match r {
        Raw::Text(s) => s,
        Raw::Number(n) => n.to_string(),
    }))
}

/// A new deal.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDeal {
    /// What is being sold (1 to 300 characters).
    #[serde(default)]
    pub title: String,
    /// The value as typed (`12500`, `1.234,50`, `1234.50`) or a JSON number; zero when
    /// absent. Not negative, at most the currency's decimal places.
    #[serde(default, deserialize_with = "amount")]
    pub value: Option<String>,
    /// ISO 4217 code; the organization's default currency when absent.
    #[serde(default)]
    pub currency: Option<String>,
    /// The pipeline's id or name; the default pipeline when absent.
    #[serde(default)]
    pub pipeline: Option<String>,
    /// The stage's id or name within the pipeline; its first stage when absent.
    #[serde(default)]
    pub stage: Option<String>,
    /// The contact.
    #[serde(default)]
    pub contact_id: Option<ContactId>,
    /// The company.
    #[serde(default)]
    pub company_id: Option<CompanyId>,
    /// When it is expected to close.
    #[serde(default)]
    pub expected_close_date: Option<NaiveDate>,
    /// Its owners; the acting user as owner when empty.
    #[serde(default)]
    pub owners: Vec<Owner>,
    /// Custom fields.
    #[serde(default)]
    pub custom: Map<String, Value>,
}

/// Changes to a deal read at `version`; `None` leaves a field as it is, and for nullable
/// fields `Some(None)` clears it. The stage changes with [`move_to_stage`], the status
/// with [`win`], [`lose`] and [`reopen`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealPatch {
    /// The version the deal was read at.
    pub version: i32,
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// New value (as in [`NewDeal::value`]).
    #[serde(default, deserialize_with = "amount")]
    pub value: Option<String>,
    /// New currency (the value is checked against it).
    #[serde(default)]
    pub currency: Option<String>,
    /// New contact, or `Some(None)` to unlink.
    #[serde(default, deserialize_with = "double_option")]
    pub contact_id: Option<Option<ContactId>>,
    /// New company, or `Some(None)` to unlink.
    #[serde(default, deserialize_with = "double_option")]
    pub company_id: Option<Option<CompanyId>>,
    /// New expected close date, or `Some(None)` to clear it.
    #[serde(default, deserialize_with = "double_option")]
    pub expected_close_date: Option<Option<NaiveDate>>,
    /// New owners (replacing all).
    #[serde(default)]
    pub owners: Option<Vec<Owner>>,
    /// New custom fields (replacing all).
    #[serde(default)]
    pub custom: Option<Map<String, Value>>,
}

/// Which deals [`list`] returns; every set field narrows the list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DealFilter {
    /// In this pipeline.
    pub pipeline: Option<PipelineId>,
    /// In this stage.
    pub stage: Option<StageId>,
    /// With this status.
    pub status: Option<DealStatus>,
    /// Owned (in any role) by this user.
    pub owner: Option<UserId>,
    /// With this company.
    pub company_id: Option<CompanyId>,
    /// With this contact.
    pub contact_id: Option<ContactId>,
    /// In this currency.
    pub currency: Option<Currency>,
    /// Expected to close on or after this day.
    pub expected_close_from: Option<NaiveDate>,
    /// Expected to close on or before this day.
    pub expected_close_to: Option<NaiveDate>,
    /// Worth at least this much.
    pub value_min: Option<Decimal>,
    /// Worth at most this much.
    pub value_max: Option<Decimal>,
    /// Title contains this text (ignoring case).
    pub text: Option<String>,
    /// Soft-deleted deals too.
    pub include_deleted: bool,
}

/// Where an amount comes from: typed input or the stored value.
enum Amount<'a> {
    Text(&'a str),
    Stored(Decimal),
}

fn check_title(errors: &mut FieldErrors, title: &str) -> Option<String> {
    let title = title.trim();
    if title.is_empty() {
        errors.add("title", "must not be empty");
        None
    } else if title.chars().count() > 300 {
        errors.add("title", "must be at most 300 characters");
        None
    } else if let Err(e) = crate::domain::text::check_single_line(title) {
        errors.add("title", e.message().to_string());
        None
    } else {
        Some(title.to_string())
    }
}

/// Checks an amount in a currency (`currency` when given, else the one the amount names,
/// else `fallback`).
fn check_money(
    errors: &mut FieldErrors,
    amount: Amount<'_>,
    currency: Option<&str>,
    fallback: &str,
) -> Option<Money> {
    // An amount typed with a sign or code (`12.500,00 €`) names its currency when no
    // currency is given.
    let named = match amount {
        Amount::Text(v) => Money::named_currency(v).ok().flatten(),
        Amount::Stored(_) => None,
    };
    let currency = match currency.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => errors.check("currency", Currency::parse(c)),
        None => match named {
            Some(c) => Some(c),
            None => errors.check("currency", Currency::parse(fallback)),
        },
    };
    let checked_in = currency.unwrap_or_default();
    let money = match amount {
        Amount::Text(v) => errors.check("value", Money::parse(v, checked_in.as_str())),
        Amount::Stored(v) => errors.check("value", Money::new(v, checked_in)),
    };
    currency.and(money)
}

fn audit_diff(before: Option<&Deal>, after: Option<&Deal>) -> Value {
    let mut d = diff(before, after);
    if let Some(m) = d.as_object_mut() {
        // Names of other records: derived, and a contact's name is personal data.
        for k in ["contact", "company", "pipeline", "stage", "probability"] {
            m.remove(k);
        }
    }
    d
}

fn split_ref(reference: &str) -> (Option<Uuid>, &str) {
    let r = reference.trim();
    (Uuid::parse_str(r).ok(), r)
}

/// The pipeline named by id or name (the default one when `None`) and the stage named by
/// id or name in it (its first stage when `None`); problems go to `errors`.
async fn resolve_target(
    tx: &mut Tx,
    errors: &mut FieldErrors,
    pipeline: Option<&str>,
    stage: Option<&str>,
) -> Result<Option<(PipelineId, StageId)>> {
    let org = tx.org();
    let pipeline = pipeline.map(str::trim).filter(|s| !s.is_empty());
    let pipeline_id: Option<PipelineId> =
        match pipeline {
            None => sqlx::query_scalar(
                "select id from pipelines where org_id = $1 and is_default and deleted_at is null",
            )
            .bind(org)
            .fetch_optional(tx.conn())
            .await?,
            Some(r) => {
                let (id, name) = split_ref(r);
                sqlx::query_scalar(
                    "select id from pipelines where org_id = $1 and deleted_at is null \
                 and (id = $2 or lower(name) = lower($3)) \
                 order by coalesce(id = $2, false) desc, (name = $3) desc limit 1",
                )
                .bind(org)
                .bind(id)
                .bind(name)
                .fetch_optional(tx.conn())
                .await?
            }
        };
    let Some(pipeline_id) = pipeline_id else {
        errors.add(
            "pipeline",
            if pipeline.is_none() {
                "the organization has no default pipeline; name one"
            } else {
                "no such pipeline"
            },
        );
        return Ok(None);
    };
    let stage = stage.map(str::trim).filter(|s| !s.is_empty());
    let (id, name) = match stage {
        Some(r) => {
            let (id, name) = split_ref(r);
            (id, Some(name))
        }
        None => (None, None),
    };
    let stage_id: Option<StageId> = sqlx::query_scalar(
        "select id from stages where org_id = $1 and pipeline_id = $2 \
         and ($4::text is null or id = $3 or lower(name) = lower($4)) \
         order by coalesce(id = $3, false) desc, coalesce(name = $4, false) desc, position \
         limit 1",
    )
    .bind(org)
    .bind(pipeline_id)
    .bind(id)
    .bind(name)
    .fetch_optional(tx.conn())
    .await?;
    match stage_id {
        Some(s) => Ok(Some((pipeline_id, s))),
        None => {
            errors.add(
                "stage",
                if stage.is_none() {
                    "the pipeline has no stages"
                } else {
                    "no such stage in the pipeline"
                },
            );
            Ok(None)
        }
    }
}

/// Checks that the linked contact and company exist (and are not deleted) and that every
/// owner is a user of the organization. Only the given links are checked.
async fn check_refs(
    tx: &mut Tx,
    errors: &mut FieldErrors,
    contact: Option<ContactId>,
    company: Option<CompanyId>,
    owners: Option<&[Owner]>,
) -> Result<()> {
    let mut users: Vec<Uuid> = owners
        .unwrap_or_default()
        .iter()
        .map(|o| o.user_id.uuid())
        .collect();
    users.sort();
    users.dedup();
    let (contact_ok, company_ok, found): (bool, bool, i64) = sqlx::query_as(
        "select ($2::uuid is null or exists(select 1 from contacts where org_id = $1 \
                  and id = $2 and deleted_at is null)), \
                ($3::uuid is null or exists(select 1 from companies where org_id = $1 \
                  and id = $3 and deleted_at is null)), \
                (select count(*) from users where org_id = $1 and id = any($4) \
                  and deleted_at is null)",
    )
    .bind(tx.org())
    .bind(contact)
    .bind(company)
    .bind(&users)
    .fetch_one(tx.conn())
    .await?;
    if !contact_ok {
        errors.add("contact_id", "no such contact");
    }
    if !company_ok {
        errors.add("company_id", "no such company");
    }
    if usize::try_from(found).unwrap_or(0) != users.len() {
        errors.add("owners", "names a user who is not in this organization");
    }
    Ok(())
}

/// The live deal `id` with its owners, optionally locked for update.
async fn fetch(tx: &mut Tx, id: DealId, lock: bool) -> Result<Deal> {
    let sql = if lock {
        concat!(
            deal_select!(),
            "where d.org_id = $1 and d.id = $2 and d.deleted_at is null for update of d"
        )
    } else {
        concat!(
            deal_select!(),
            "where d.org_id = $1 and d.id = $2 and d.deleted_at is null"
        )
    };
    let mut deal: Deal = sqlx::query_as(sql)
        .bind(tx.org())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(Error::NotFound { entity: "deal" })?;
    deal.owners = owner::get(tx, OwnedKind::Deal, id.uuid()).await?;
    Ok(deal)
}

fn check_version(deal: &Deal, version: Option<i32>) -> Result<()> {
    match version {
        Some(v) if v != deal.version => Err(Error::stale("deal")),
        _ => Ok(()),
    }
}

/// Appends a stage-history entry made by the acting user.
async fn record_move(tx: &mut Tx, deal: DealId, from: Option<StageId>, to: StageId) -> Result<()> {
    sqlx::query(
        "insert into deal_stage_history (org_id, id, deal_id, from_stage_id, to_stage_id, \
                                         actor_id, from_stage_name, to_stage_name) \
         values ($1, $2, $3, $4, $5, $6, \
                 (select name from stages where org_id = $1 and id = $4), \
                 (select name from stages where org_id = $1 and id = $5))",
    )
    .bind(tx.org())
    .bind(Uuid::now_v7())
    .bind(deal)
    .bind(from)
    .bind(to)
    .bind(tx.actor().id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Creates a deal in its pipeline's stage (default pipeline, first stage unless named),
/// with a first stage-history entry. Every invalid field is reported at once.
pub async fn create(tx: &mut Tx, new: NewDeal) -> Result<Deal> {
    tx.require(Permission::Write)?;
    let org = tx.org();
    let mut errors = FieldErrors::new();
    let title = check_title(&mut errors, &new.title);
    let default_currency: String =
        sqlx::query_scalar("select default_currency::text from organizations where id = $1")
            .bind(org)
            .fetch_one(tx.conn())
            .await?;
    let amount = match new.value.as_deref() {
        Some(v) => Amount::Text(v),
        None => Amount::Stored(Decimal::ZERO),
    };
    let money = check_money(
        &mut errors,
        amount,
        new.currency.as_deref(),
        &default_currency,
    );
    let target = resolve_target(
        tx,
        &mut errors,
        new.pipeline.as_deref(),
        new.stage.as_deref(),
    )
    .await?;
    let owners = if new.owners.is_empty() {
        vec![Owner {
            user_id: tx.actor().id,
            role: OwnerRole::Owner,
        }]
    } else {
        new.owners.clone()
    };
    check_refs(
        tx,
        &mut errors,
        new.contact_id,
        new.company_id,
        Some(&owners),
    )
    .await?;
    errors.into_result()?;
    let (Some(title), Some(money), Some((pipeline_id, stage_id))) = (title, money, target) else {
        return Err(Error::invalid("deal", "is incomplete"));
    };

    let id = DealId::new();
    sqlx::query(
        "insert into deals (org_id, id, title, value, currency, pipeline_id, stage_id, \
                            contact_id, company_id, expected_close_date, custom) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(org)
    .bind(id)
    .bind(&title)
    .bind(money.amount())
    .bind(money.currency().as_str())
    .bind(pipeline_id)
    .bind(stage_id)
    .bind(new.contact_id)
    .bind(new.company_id)
    .bind(new.expected_close_date)
    .bind(Value::Object(new.custom))
    .execute(tx.conn())
    .await?;
    record_move(tx, id, None, stage_id).await?;
    // Read before the owners are set: with restricted visibility, a deal whose owners do not
    // include its creator is not visible to them afterwards.
    let mut deal = fetch(tx, id, false).await?;
    owner::set(tx, OwnedKind::Deal, id.uuid(), &owners).await?;
    // As stored (not read back: the owner rows of a deal handed to others are as invisible
    // to a restricted creator as the deal itself).
    let mut stored = owner::dedup(&owners);
    owner::sort(&mut stored);
    deal.owners = stored;
    tx.record(
        "deal",
        Some(id.uuid()),
        "create",
        &audit_diff(None, Some(&deal)),
        Some("deal.created"),
        &json!({ "id": id, "pipeline_id": pipeline_id, "stage_id": stage_id }),
    )
    .await?;
    Ok(deal)
}

/// The deal a person named by `reference`, for front-ends that take what people type:
///
/// - a full id: that deal, live or soft-deleted;
/// - at least 4 hex digits (dashes ignored) that begin exactly one deal's id, or, when none
///   begins with them, that end exactly one. Ids begin with their creation time, so deals
///   created in the same minute share their first 8 digits; lists therefore show the last
///   8, and both ends work.
///
/// Live deals win: a soft-deleted deal is found by digits only when no live one matches.
/// [`Error::NotFound`] when nothing matches; a [`Error::Validation`] on the field `id` when
/// the digits match several deals or the reference is not an id.
pub async fn resolve(tx: &mut Tx, reference: &str) -> Result<DealId> {
    tx.require(Permission::Read)?;
    let reference = reference.trim();
    let org = tx.org();
    if let Ok(id) = Uuid::parse_str(reference) {
        return if super::id_exists(tx.conn(), "deals", org, id).await? {
            Ok(DealId(id))
        } else {
            Err(Error::NotFound { entity: "deal" })
        };
    }
    let Some(digits) = super::id_digits(reference) else {
        return Err(Error::invalid(
            "id",
            "must be a deal id or at least 4 of its hex digits",
        ));
    };
    let matches = super::match_id_digits(tx.conn(), "deals", org, &digits, 4).await?;
    match super::live_first(&matches).as_slice() {
        [] => Err(Error::NotFound { entity: "deal" }),
        [one] => Ok(DealId(*one)),
        _ => Err(Error::invalid(
            "id",
            "is ambiguous: it matches several deals; give more digits or the full id",
        )),
    }
}

/// The live deal `id`.
pub async fn get(tx: &mut Tx, id: DealId) -> Result<Deal> {
    tx.require(Permission::Read)?;
    fetch(tx, id, false).await
}

fn sorted(owners: &[Owner]) -> Vec<(UserId, &'static str)> {
    let mut v: Vec<(UserId, &'static str)> = Vec::new();
    for o in owners {
        v.retain(|(u, _)| *u != o.user_id);
        v.push((o.user_id, o.role.as_str()));
    }
    v.sort();
    v
}

/// Changes a deal read at `patch.version` (a stale version is [`Error::Conflict`]). A patch
/// that changes nothing writes nothing.
pub async fn update(tx: &mut Tx, id: DealId, patch: DealPatch) -> Result<Deal> {
    tx.require(Permission::Write)?;
    let before = fetch(tx, id, true).await?;
    check_version(&before, Some(patch.version))?;
    let mut errors = FieldErrors::new();
    let title = match &patch.title {
        Some(t) => check_title(&mut errors, t),
        None => Some(before.title.clone()),
    };
    let (value, currency) = if patch.value.is_none() && patch.currency.is_none() {
        (Some(before.value), before.currency.clone())
    } else {
        let amount = match patch.value.as_deref() {
            Some(v) => Amount::Text(v),
            None => Amount::Stored(before.value),
        };
        let money = check_money(
            &mut errors,
            amount,
            patch.currency.as_deref(),
            &before.currency,
        );
        (
            money.map(|m| m.amount()),
            money.map_or_else(String::new, |m| m.currency().as_str().to_string()),
        )
    };
    let contact_id = patch.contact_id.unwrap_or(before.contact_id);
    let company_id = patch.company_id.unwrap_or(before.company_id);
    let expected_close_date = patch
        .expected_close_date
        .unwrap_or(before.expected_close_date);
    let custom = patch
        .custom
        .clone()
        .map_or_else(|| before.custom.clone(), Value::Object);
    check_refs(
        tx,
        &mut errors,
        contact_id.filter(|c| Some(*c) != before.contact_id),
        company_id.filter(|c| Some(*c) != before.company_id),
        patch.owners.as_deref(),
    )
    .await?;
    errors.into_result()?;
    let (Some(title), Some(value)) = (title, value) else {
        return Err(Error::invalid("deal", "is incomplete"));
    };
    let owners_change = patch
        .owners
        .as_deref()
        .is_some_and(|o| sorted(o) != sorted(&before.owners));
    let unchanged = title == before.title
        && value == before.value
        && currency == before.currency
        && contact_id == before.contact_id
        && company_id == before.company_id
        && expected_close_date == before.expected_close_date
        && custom == before.custom
        && !owners_change;
    if unchanged {
        return Ok(before);
    }
    sqlx::query(
        "update deals set title = $3, value = $4, currency = $5, contact_id = $6, \
                company_id = $7, expected_close_date = $8, custom = $9 \
         where org_id = $1 and id = $2 and version = $10 and deleted_at is null",
    )
    .bind(tx.org())
    .bind(id)
    .bind(&title)
    .bind(value)
    .bind(&currency)
    .bind(contact_id)
    .bind(company_id)
    .bind(expected_close_date)
    .bind(&custom)
    .bind(patch.version)
    .execute(tx.conn())
    .await?;
    // Read before the owners change: an actor with restricted visibility who hands the deal
    // over no longer sees it afterwards.
    let mut after = fetch(tx, id, false).await?;
    if let (true, Some(owners)) = (owners_change, patch.owners.as_deref()) {
        owner::set(tx, OwnedKind::Deal, id.uuid(), owners).await?;
        after.owners = owner::get(tx, OwnedKind::Deal, id.uuid()).await?;
    }
    let d = audit_diff(Some(&before), Some(&after));
    tx.record(
        "deal",
        Some(id.uuid()),
        "update",
        &d,
        Some("deal.updated"),
        &json!({ "id": id, "fields": changed_fields(&d) }),
    )
    .await?;
    Ok(after)
}

/// Moves an open deal to `stage`: a stage id (of any live pipeline; the deal then changes
/// pipeline too) or the name of a stage of the deal's pipeline. With `version`, a stale
/// read is [`Error::Conflict`]; a won or lost deal is refused with [`Error::Conflict`].
/// Moving to the stage it is in changes nothing.
pub async fn move_to_stage(
    tx: &mut Tx,
    id: DealId,
    stage: &str,
    version: Option<i32>,
) -> Result<Deal> {
    tx.require(Permission::Write)?;
    let org = tx.org();
    let before = fetch(tx, id, true).await?;
    check_version(&before, version)?;
    if before.status != DealStatus::Open {
        return Err(Error::Conflict(format!(
            "only an open deal can be moved; this one is {}, reopen it first",
            before.status
        )));
    }
    let (stage_id, name) = split_ref(stage);
    let target: Option<(PipelineId, StageId)> = sqlx::query_as(
        "select s.pipeline_id, s.id from stages s \
         join pipelines p on p.org_id = s.org_id and p.id = s.pipeline_id \
         where s.org_id = $1 and p.deleted_at is null \
           and (s.id = $2 or (s.pipeline_id = $3 and lower(s.name) = lower($4))) \
         order by coalesce(s.id = $2, false) desc, (s.name = $4) desc limit 1",
    )
    .bind(org)
    .bind(stage_id)
    .bind(before.pipeline_id)
    .bind(name)
    .fetch_optional(tx.conn())
    .await?;
    let Some((pipeline_id, stage_id)) = target else {
        return Err(Error::invalid(
            "stage",
            "no such stage (by name, only stages of the deal's pipeline are found)",
        ));
    };
    if stage_id == before.stage_id {
        return Ok(before);
    }
    sqlx::query("update deals set pipeline_id = $3, stage_id = $4 where org_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .bind(pipeline_id)
        .bind(stage_id)
        .execute(tx.conn())
        .await?;
    record_move(tx, id, Some(before.stage_id), stage_id).await?;
    let after = fetch(tx, id, false).await?;
    tx.record(
        "deal",
        Some(id.uuid()),
        "move",
        &audit_diff(Some(&before), Some(&after)),
        Some("deal.stage_changed"),
        &json!({
            "id": id,
            "from": before.stage_id,
            "to": stage_id,
            "from_pipeline_id": before.pipeline_id,
            "pipeline_id": pipeline_id,
        }),
    )
    .await?;
    Ok(after)
}

/// Changes the status (checked by [`DealStatus::transition`]; a refused change is
/// [`Error::Conflict`]), setting or clearing `closed_at` and the lost reason.
async fn set_status(
    tx: &mut Tx,
    id: DealId,
    version: Option<i32>,
    to: DealStatus,
    reason: Option<Uuid>,
    text: Option<String>,
) -> Result<Deal> {
    let before = fetch(tx, id, true).await?;
    check_version(&before, version)?;
    before
        .status
        .transition(to)
        .map_err(|e| Error::Conflict(e.to_string()))?;
    sqlx::query(
        "update deals set status = $3, \
                closed_at = case when $3 = 'open' then null else now() end, \
                lost_reason_id = $4, lost_reason_text = $5 \
         where org_id = $1 and id = $2",
    )
    .bind(tx.org())
    .bind(id)
    .bind(to)
    .bind(reason)
    .bind(&text)
    .execute(tx.conn())
    .await?;
    let after = fetch(tx, id, false).await?;
    let (action, topic) = match to {
        DealStatus::Won => ("win", "deal.won"),
        DealStatus::Lost => ("lose", "deal.lost"),
        DealStatus::Open => ("reopen", "deal.reopened"),
    };
    tx.record(
        "deal",
        Some(id.uuid()),
        action,
        &audit_diff(Some(&before), Some(&after)),
        Some(topic),
        &json!({
            "id": id,
            "from": before.status,
            "status": to,
            "pipeline_id": after.pipeline_id,
            "stage_id": after.stage_id,
            "value": after.value,
            "currency": after.currency,
            "lost_reason": after.lost_reason,
        }),
    )
    .await?;
    Ok(after)
}

/// Marks an open deal won and sets `closed_at`.
pub async fn win(tx: &mut Tx, id: DealId, version: Option<i32>) -> Result<Deal> {
    tx.require(Permission::Write)?;
    set_status(tx, id, version, DealStatus::Won, None, None).await
}

/// The active lost reason with this key or English or German label (ignoring case).
async fn find_lost_reason(tx: &mut Tx, reason: &str) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "select id from lost_reasons where org_id = $1 and active \
         and (key = lower($2) or lower(label_en) = lower($2) or lower(label_de) = lower($2)) \
         order by (key = lower($2)) desc, position limit 1",
    )
    .bind(tx.org())
    .bind(reason)
    .fetch_optional(tx.conn())
    .await?)
}

/// Marks an open deal lost with a lost reason (its key, or its English or German label; it
/// must exist and be active) and an optional explanation.
pub async fn lose(
    tx: &mut Tx,
    id: DealId,
    reason: &str,
    text: Option<String>,
    version: Option<i32>,
) -> Result<Deal> {
    tx.require(Permission::Write)?;
    let mut errors = FieldErrors::new();
    let reason = reason.trim();
    let text = clean(text.as_deref());
    if text.as_ref().is_some_and(|t| t.chars().count() > 2000) {
        errors.add("lost_reason_text", "must be at most 2000 characters");
    }
    let reason_id = if reason.is_empty() {
        errors.add("lost_reason", "a lost deal needs a lost reason");
        None
    } else {
        let found = find_lost_reason(tx, reason).await?;
        if found.is_none() {
            errors.add(
                "lost_reason",
                "is not an active lost reason of this organization",
            );
        }
        found
    };
    errors.into_result()?;
    set_status(tx, id, version, DealStatus::Lost, reason_id, text).await
}

/// Reopens a won or lost deal: clears `closed_at` and the lost reason.
pub async fn reopen(tx: &mut Tx, id: DealId) -> Result<Deal> {
    tx.require(Permission::Write)?;
    set_status(tx, id, None, DealStatus::Open, None, None).await
}

/// Soft-deletes a deal (lists hide it; [`restore`] brings it back).
pub async fn delete(tx: &mut Tx, id: DealId) -> Result<()> {
    tx.require(Permission::Delete)?;
    let done = sqlx::query(
        "update deals set deleted_at = now() where org_id = $1 and id = $2 \
         and deleted_at is null",
    )
    .bind(tx.org())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound { entity: "deal" });
    }
    tx.record(
        "deal",
        Some(id.uuid()),
        "delete",
        &json!({ "deleted_at": { "before": null, "after": "now" } }),
        Some("deal.deleted"),
        &json!({ "id": id }),
    )
    .await
}

/// Restores a soft-deleted deal.
pub async fn restore(tx: &mut Tx, id: DealId) -> Result<Deal> {
    tx.require(Permission::Delete)?;
    let done = sqlx::query(
        "update deals set deleted_at = null where org_id = $1 and id = $2 \
         and deleted_at is not null",
    )
    .bind(tx.org())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound {
            entity: "deleted deal",
        });
    }
    let deal = fetch(tx, id, false).await?;
    tx.record(
        "deal",
        Some(id.uuid()),
        "restore",
        &json!({ "deleted_at": { "before": "set", "after": null } }),
        Some("deal.restored"),
        &json!({ "id": id }),
    )
    .await?;
    Ok(deal)
}

/// The stage history of a live deal, oldest first.
pub async fn stage_history(tx: &mut Tx, id: DealId) -> Result<Vec<StageChange>> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let exists: bool = sqlx::query_scalar(
        "select exists(select 1 from deals where org_id = $1 and id = $2 and deleted_at is null)",
    )
    .bind(org)
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    if !exists {
        return Err(Error::NotFound { entity: "deal" });
    }
    Ok(sqlx::query_as(
        "select h.id, h.from_stage_id, coalesce(f.name, h.from_stage_name) as from_stage, \
                h.to_stage_id, coalesce(t.name, h.to_stage_name) as to_stage, \
                h.moved_at, h.actor_id \
         from deal_stage_history h \
         left join stages t on t.org_id = h.org_id and t.id = h.to_stage_id \
         left join stages f on f.org_id = h.org_id and f.id = h.from_stage_id \
         where h.org_id = $1 and h.deal_id = $2 order by h.moved_at, h.id",
    )
    .bind(org)
    .bind(id)
    .fetch_all(tx.conn())
    .await?)
}

/// `%text%` for `ilike`, with the pattern characters of `text` escaped.
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// One page of deals matching `filter`, by id (creation order). Names of related records
/// come with the deals; owners take one more query per page.
pub async fn list(tx: &mut Tx, filter: &DealFilter, page: PageRequest) -> Result<Page<Deal>> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new(concat!(deal_select!(), "where d.org_id = "));
    q.push_bind(org);
    if !filter.include_deleted {
        q.push(" and d.deleted_at is null");
    }
    if let Some(v) = filter.pipeline {
        q.push(" and d.pipeline_id = ").push_bind(v);
    }
    if let Some(v) = filter.stage {
        q.push(" and d.stage_id = ").push_bind(v);
    }
    if let Some(v) = filter.status {
        q.push(" and d.status = ").push_bind(v);
    }
    if let Some(v) = filter.owner {
        q.push(
            " and exists (select 1 from deal_owners o where o.org_id = d.org_id \
             and o.deal_id = d.id and o.user_id = ",
        )
        .push_bind(v)
        .push(")");
    }
    if let Some(v) = filter.company_id {
        q.push(" and d.company_id = ").push_bind(v);
    }
    if let Some(v) = filter.contact_id {
        q.push(" and d.contact_id = ").push_bind(v);
    }
    if let Some(v) = filter.currency {
        q.push(" and d.currency = ").push_bind(v.as_str());
    }
    if let Some(v) = filter.expected_close_from {
        q.push(" and d.expected_close_date >= ").push_bind(v);
    }
    if let Some(v) = filter.expected_close_to {
        q.push(" and d.expected_close_date <= ").push_bind(v);
    }
    if let Some(v) = filter.value_min {
        q.push(" and d.value >= ").push_bind(v);
    }
    if let Some(v) = filter.value_max {
        q.push(" and d.value <= ").push_bind(v);
    }
    if let Some(text) = clean(filter.text.as_deref()) {
        q.push(" and d.title ilike ")
            .push_bind(contains_pattern(&text));
    }
    if let Some(after) = page.after {
        q.push(" and d.id > ").push_bind(after.0);
    }
    q.push(" order by d.id limit ").push_bind(page.sql_limit());
    let rows: Vec<Deal> = q.build_query_as().fetch_all(tx.conn()).await?;
    let mut page = page.finish(rows, |d| d.id.uuid());
    let ids: Vec<Uuid> = page.items.iter().map(|d| d.id.uuid()).collect();
    let owners: Vec<(DealId, UserId, OwnerRole)> = sqlx::query_as(
        "select deal_id, user_id, role from deal_owners where org_id = $1 and deal_id = any($2) \
         order by deal_id, role, user_id",
    )
    .bind(org)
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    for (deal, user_id, role) in owners {
        if let Some(d) = page.items.iter_mut().find(|d| d.id == deal) {
            d.owners.push(Owner { user_id, role });
        }
    }
    Ok(page)
}

/// Streams every deal matching `filter` to `f` in batches of `batch` (1 to 10,000), in
/// list order, holding one batch in memory at a time. Returns how many were passed on.
pub async fn for_each_batch<F>(
    tx: &mut Tx,
    filter: &DealFilter,
    batch: u32,
    mut f: F,
) -> Result<u64>
where
    F: AsyncFnMut(Vec<Deal>) -> Result<()>,
{
    let mut request = PageRequest {
        limit: batch.clamp(1, 10_000),
        after: None,
    };
    let mut total = 0u64;
    loop {
        let page = list(tx, filter, request).await?;
        let next = page.next;
        total += page.items.len() as u64;
        if !page.items.is_empty() {
            f(page.items).await?;
        }
        match next {
            Some(cursor) => request.after = Some(cursor),
            None => return Ok(total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_deal_reads_string_and_number_values() {
        let a: NewDeal = serde_json::from_str(r#"{"title":"A","value":"1.234,50"}"#).unwrap();
        assert_eq!(a.value.as_deref(), Some("1.234,50"));
        let b: NewDeal = serde_json::from_str(r#"{"title":"B","value":1200.5}"#).unwrap();
        assert_eq!(b.value.as_deref(), Some("1200.5"));
        let c: NewDeal = serde_json::from_str(r#"{"title":"C"}"#).unwrap();
        assert_eq!(c.value, None);
        assert!(serde_json::from_str::<NewDeal>(r#"{"title":"D","valeu":1}"#).is_err());
    }

    #[test]
    fn money_checks_report_value_and_currency() {
        let mut e = FieldErrors::new();
        let m = check_money(&mut e, Amount::Text("1.234,50"), None, "EUR").unwrap();
        assert_eq!(m.to_string(), "1234.50 EUR");
        assert!(e.is_empty());
        assert!(check_money(&mut e, Amount::Text("-1"), Some("XXX"), "EUR").is_none());
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["currency", "value"]);
        let mut e = FieldErrors::new();
        let jpy = check_money(
            &mut e,
            Amount::Stored(Decimal::new(1250, 2)),
            Some("JPY"),
            "EUR",
        );
        assert!(jpy.is_none());
        assert_eq!(e.0[0].field, "value");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("50%_off"), "%50\\%\\_off%");
        assert_eq!(contains_pattern("Rahmen"), "%Rahmen%");
    }
}
