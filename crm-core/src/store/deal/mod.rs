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
use crate::store::pattern::contains_pattern;
use crate::store::{Page, PageRequest, changed_fields, clean, diff, double_option, pages};
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

mod read;
mod validate;
mod write;

pub use read::{for_each_batch, get, list, resolve, stage_history};
pub use write::{create, delete, lose, move_to_stage, reopen, restore, update, win};
