//! Read models for interactive front-ends (the `crm-tui` console): a pipeline board with
//! cards, a deal with its stage history and activities, a contact or company with its deals
//! and activity timeline. Each is a fixed number of queries whatever the data size, so a
//! front-end loads a screen once and redraws it from memory.

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::auth::Permission;
use crate::error::Result;
use crate::ids::{CompanyId, ContactId, DealId, PipelineId, StageId, UserId};
use crate::store::activity::{self, Activity, ActivityFilter};
use crate::store::company::{self, Company};
use crate::store::contact::{self, Contact};
use crate::store::deal::{self, Deal, DealFilter, StageChange};
use crate::store::list::{self, ListEntry, ListKind};
use crate::store::{PageRequest, pipeline};
use crate::tenancy::Tx;

/// One open deal on a board.
#[derive(Clone, Serialize, sqlx::FromRow)]
pub struct Card {
    /// The deal.
    pub id: DealId,
    /// Its stage.
    pub stage_id: StageId,
    /// Its title.
    pub title: String,
    /// Its value.
    pub value: Decimal,
    /// The value's currency (ISO 4217).
    pub currency: String,
    /// The company's name.
    pub company: Option<String>,
    /// The contact's display name.
    pub contact: Option<String>,
    /// When it is expected to close.
    pub expected_close_date: Option<NaiveDate>,
    /// Whole days since it last entered its stage.
    pub days_in_stage: i32,
    /// The deal's owners (users in any owner role), owner first.
    pub owner_ids: Vec<UserId>,
    /// Tags of its contact and company.
    pub tags: Vec<String>,
    /// It has an open activity that is overdue.
    pub overdue_activity: bool,
    /// The deal's version (for changes with a version check).
    pub version: i32,
}

impl fmt::Debug for Card {
    /// Leaves out names and titles (personal data).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Card")
            .field("id", &self.id)
            .field("stage_id", &self.stage_id)
            .field("value", &self.value)
            .field("currency", &self.currency)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// One stage of a board.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    /// The stage.
    pub stage_id: StageId,
    /// Its name.
    pub name: String,
    /// Its win probability in percent.
    pub probability: Decimal,
    /// Its open deals, by expected close date (undated last).
    pub cards: Vec<Card>,
}

/// A user as shown on cards: id, name and initials.
#[derive(Clone, Serialize, sqlx::FromRow)]
pub struct Person {
    /// The user.
    pub id: UserId,
    /// First and last name (the e-mail address when both are empty).
    pub name: String,
    /// Initials (`AS` for Anna Schmidt).
    pub initials: String,
}

impl fmt::Debug for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Person")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A pipeline's board: its stages with their open deals, the organization's pipelines (to
/// switch) and users (to show owners and filter by them).
#[derive(Debug, Clone, Serialize)]
pub struct Board {
    /// The pipeline shown.
    pub pipeline_id: PipelineId,
    /// Its name.
    pub pipeline: String,
    /// Every live pipeline: id and name.
    pub pipelines: Vec<(PipelineId, String)>,
    /// The stages by position.
    pub columns: Vec<Column>,
    /// The organization's users.
    pub users: Vec<Person>,
}

/// The board of `pipeline` (the default one when `None`). Four queries, whatever the
/// number of deals.
pub async fn board(tx: &mut Tx, pipeline_id: Option<PipelineId>) -> Result<Board> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let pipelines = pipeline::list(tx).await?;
    let chosen = match pipeline_id {
        Some(id) => pipeline::get(tx, id).await?,
        None => pipeline::default(tx).await?,
    };
    let cards: Vec<Card> = sqlx::query_as(
        "select d.id, d.stage_id, d.title, d.value, d.currency::text as currency, \
                co.name as company, \
                coalesce(nullif(btrim(concat_ws(' ', c.first_name, c.last_name)), ''), c.email) \
                    as contact, \
                d.expected_close_date, \
                greatest(0, floor(extract(epoch from now() - coalesce(h.entered, d.created_at)) \
                                  / 86400))::int as days_in_stage, \
                coalesce(o.ids, '{}') as owner_ids, coalesce(t.names, '{}') as tags, \
                exists(select 1 from activities a where a.org_id = d.org_id \
                       and a.deal_id = d.id and a.done_at is null and a.deleted_at is null \
                       and a.due_at < now()) as overdue_activity, \
                d.version \
         from deals d \
         left join contacts c on c.org_id = d.org_id and c.id = d.contact_id \
         left join companies co on co.org_id = d.org_id and co.id = d.company_id \
         left join lateral ( \
             select max(h.moved_at) as entered from deal_stage_history h \
             where h.org_id = d.org_id and h.deal_id = d.id and h.to_stage_id = d.stage_id \
         ) h on true \
         left join lateral ( \
             select array_agg(o.user_id order by o.role <> 'owner', o.user_id) as ids \
             from deal_owners o where o.org_id = d.org_id and o.deal_id = d.id \
         ) o on true \
         left join lateral ( \
             select array_agg(distinct tg.name order by tg.name) as names from tags tg \
             where tg.org_id = d.org_id and ( \
                 exists(select 1 from contact_tags ct where ct.org_id = d.org_id \
                        and ct.contact_id = d.contact_id and ct.tag_id = tg.id) \
                 or exists(select 1 from company_tags ct where ct.org_id = d.org_id \
                        and ct.company_id = d.company_id and ct.tag_id = tg.id)) \
         ) t on true \
         where d.org_id = $1 and d.pipeline_id = $2 and d.status = 'open' \
           and d.deleted_at is null \
         order by d.expected_close_date nulls last, d.id",
    )
    .bind(org)
    .bind(chosen.id)
    .fetch_all(tx.conn())
    .await?;
    let users = people(tx).await?;
    let mut columns: Vec<Column> = chosen
        .stages
        .iter()
        .map(|s| Column {
            stage_id: s.id,
            name: s.name.clone(),
            probability: s.probability,
            cards: Vec::new(),
        })
        .collect();
    for card in cards {
        if let Some(c) = columns.iter_mut().find(|c| c.stage_id == card.stage_id) {
            c.cards.push(card);
        }
    }
    Ok(Board {
        pipeline_id: chosen.id,
        pipeline: chosen.name,
        pipelines: pipelines.into_iter().map(|p| (p.id, p.name)).collect(),
        columns,
        users,
    })
}

/// The organization's live users with names and initials, by name.
async fn people(tx: &mut Tx) -> Result<Vec<Person>> {
    Ok(sqlx::query_as(
        "select id, coalesce(nullif(btrim(concat_ws(' ', first_name, last_name)), ''), email) \
                    as name, \
                upper(concat(left(btrim(first_name), 1), left(btrim(last_name), 1))) \
                    as initials \
         from users where org_id = $1 and deleted_at is null order by 2, id",
    )
    .bind(tx.org())
    .fetch_all(tx.conn())
    .await?)
}

/// A deal with what a detail screen shows.
#[derive(Debug, Clone, Serialize)]
pub struct DealDetail {
    /// The deal.
    pub deal: Deal,
    /// Its stage history, oldest first.
    pub history: Vec<StageChange>,
    /// Its activities (at most 200), newest first.
    pub activities: Vec<Activity>,
    /// The stages of its pipeline: id and name, by position.
    pub stages: Vec<(StageId, String)>,
    /// The organization's users (to name owners and history actors).
    pub users: Vec<Person>,
}

/// A deal, its stage history, activities and pipeline stages.
pub async fn deal_detail(tx: &mut Tx, id: DealId) -> Result<DealDetail> {
    let deal = deal::get(tx, id).await?;
    let history = deal::stage_history(tx, id).await?;
    let filter = ActivityFilter {
        deal_id: Some(id),
        ..ActivityFilter::default()
    };
    let activities = newest_activities(tx, &filter).await?;
    let stages = pipeline::get(tx, deal.pipeline_id)
        .await?
        .stages
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let users = people(tx).await?;
    Ok(DealDetail {
        deal,
        history,
        activities,
        stages,
        users,
    })
}

/// Up to 200 activities matching `filter`, newest first.
async fn newest_activities(tx: &mut Tx, filter: &ActivityFilter) -> Result<Vec<Activity>> {
    let mut rows = activity::list(
        tx,
        filter,
        PageRequest {
            limit: 200,
            after: None,
        },
    )
    .await?
    .items;
    rows.sort_by_key(|a| std::cmp::Reverse(a.id.uuid()));
    Ok(rows)
}

/// Up to 200 deals matching `filter`.
async fn some_deals(tx: &mut Tx, filter: &DealFilter) -> Result<Vec<Deal>> {
    Ok(deal::list(
        tx,
        filter,
        PageRequest {
            limit: 200,
            after: None,
        },
    )
    .await?
    .items)
}

/// A contact with its deals and activity timeline.
#[derive(Debug, Clone, Serialize)]
pub struct ContactDetail {
    /// The contact.
    pub contact: Contact,
    /// Its deals (at most 200).
    pub deals: Vec<Deal>,
    /// Its activities (at most 200), newest first.
    pub activities: Vec<Activity>,
}

/// A contact, its deals and activities.
pub async fn contact_detail(tx: &mut Tx, id: ContactId) -> Result<ContactDetail> {
    let contact = contact::get(tx, id).await?;
    let deals = some_deals(
        tx,
        &DealFilter {
            contact_id: Some(id),
            ..DealFilter::default()
        },
    )
    .await?;
    let activities = newest_activities(
        tx,
        &ActivityFilter {
            contact_id: Some(id),
            ..ActivityFilter::default()
        },
    )
    .await?;
    Ok(ContactDetail {
        contact,
        deals,
        activities,
    })
}

/// A company with its deals and activity timeline.
#[derive(Debug, Clone, Serialize)]
pub struct CompanyDetail {
    /// The company.
    pub company: Company,
    /// Its deals (at most 200).
    pub deals: Vec<Deal>,
    /// Its activities (at most 200), newest first.
    pub activities: Vec<Activity>,
}

/// A company, its deals and activities.
pub async fn company_detail(tx: &mut Tx, id: CompanyId) -> Result<CompanyDetail> {
    let company = company::get(tx, id).await?;
    let deals = some_deals(
        tx,
        &DealFilter {
            company_id: Some(id),
            ..DealFilter::default()
        },
    )
    .await?;
    let activities = newest_activities(
        tx,
        &ActivityFilter {
            company_id: Some(id),
            ..ActivityFilter::default()
        },
    )
    .await?;
    Ok(CompanyDetail {
        company,
        deals,
        activities,
    })
}

/// The organization's active lost reasons, in list order.
pub async fn lost_reasons(tx: &mut Tx) -> Result<Vec<ListEntry>> {
    let mut all = list::list(tx, ListKind::LostReason).await?;
    all.retain(|e| e.active);
    Ok(all)
}

/// The sequence number of the organization's newest event (0 when there is none): where a
/// live view starts following the outbox.
pub async fn event_head(tx: &mut Tx) -> Result<i64> {
    tx.require(Permission::Read)?;
    Ok(
        sqlx::query_scalar("select coalesce(max(seq), 0) from events where org_id = $1")
            .bind(tx.org())
            .fetch_one(tx.conn())
            .await?,
    )
}
