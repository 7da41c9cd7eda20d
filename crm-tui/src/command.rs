//! Commands: work for crm-core that keys or messages ask for. Each runs in a task of its own
//! and sends one [`Message`] back, so the screen never waits on the database.

use chrono::{DateTime, Utc};
use crm_core::console::{self, Board, CompanyDetail, ContactDetail, DealDetail};
use crm_core::dedupe::{self, DetectOptions, Group, Kind, MergeOutcome, MergeRequest};
use crm_core::search::{self, Hit};
use crm_core::store::activity::{self, Activity, ActivityPatch, NewActivity};
use crm_core::store::contact::{self, Contact, NewContact};
use crm_core::store::deal::{self, Deal, DealPatch};
use crm_core::store::list::ListEntry;
use crm_core::{ActivityId, CompanyId, ContactId, DealId, Error, PipelineId, Scope, StageId};
use tokio::sync::mpsc::UnboundedSender;

use crate::app::Retry;

/// Work for crm-core.
#[derive(Debug, Clone)]
pub enum Command {
    /// Load the board of a pipeline (the default one when `None`).
    LoadBoard(Option<PipelineId>),
    /// Load the organization's lost reasons.
    LoadLostReasons,
    /// Load my due and overdue activities.
    LoadDue,
    /// Load a deal's detail.
    LoadDeal(DealId),
    /// Load a contact's detail.
    LoadContact(ContactId),
    /// Load a company's detail.
    LoadCompany(CompanyId),
    /// Search (`seq` numbers the query so stale answers can be dropped).
    Search {
        /// The query's number.
        seq: u64,
        /// The query.
        query: String,
    },
    /// Move a deal to a stage, checking the version it was read at.
    Move {
        /// The deal.
        id: DealId,
        /// The target stage.
        stage: StageId,
        /// The target stage's name (for messages).
        name: String,
        /// The version the deal was read at.
        version: i32,
    },
    /// Win a deal.
    Win {
        /// The deal.
        id: DealId,
        /// The version it was read at.
        version: i32,
    },
    /// Lose a deal with a reason (key) and optional note.
    Lose {
        /// The deal.
        id: DealId,
        /// The lost reason's key.
        reason: String,
        /// The note.
        note: Option<String>,
        /// The version it was read at.
        version: i32,
    },
    /// Reopen a won or lost deal.
    Reopen(DealId),
    /// Save changes to a deal.
    UpdateDeal(DealId, DealPatch),
    /// Create a contact.
    CreateContact(Box<NewContact>),
    /// Create an activity.
    CreateActivity(Box<NewActivity>),
    /// Mark an activity done.
    Complete(ActivityId),
    /// Move an activity's due time.
    Reschedule(ActivityId, i32, DateTime<Utc>),
    /// Load the candidate duplicate groups of a kind (default threshold, the best 100).
    LoadDuplicates(Kind),
    /// Merge records: the first survives.
    Merge {
        /// Contacts or companies.
        kind: Kind,
        /// The records, the survivor first.
        ids: Vec<uuid::Uuid>,
    },
    /// Mark two records as not duplicates of each other.
    Dismiss {
        /// Contacts or companies.
        kind: Kind,
        /// One record.
        a: uuid::Uuid,
        /// The other.
        b: uuid::Uuid,
    },
}

/// Why a command failed, as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Stale version or refused transition.
    Conflict(String),
    /// Field errors: field and message.
    Invalid(Vec<(String, String)>),
    /// The role does not allow it (not retried).
    Denied(String),
    /// The database cannot be reached.
    Unavailable,
    /// Anything else (the message never quotes personal data).
    Other(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::Conflict(m) => Failure::Conflict(m),
            Error::Validation(errors) => {
                Failure::Invalid(errors.0.into_iter().map(|f| (f.field, f.message)).collect())
            }
            Error::PermissionDenied(m) => Failure::Denied(m),
            Error::Unavailable(_) => Failure::Unavailable,
            other => Failure::Other(other.to_string()),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Conflict(m) => write!(f, "conflict: {m}"),
            Failure::Invalid(errors) => {
                let all: Vec<String> = errors.iter().map(|(k, m)| format!("{k} {m}")).collect();
                write!(f, "invalid: {}", all.join("; "))
            }
            Failure::Denied(m) => write!(f, "permission denied: {m}"),
            Failure::Unavailable => f.write_str("database unreachable"),
            Failure::Other(m) => f.write_str(m),
        }
    }
}

/// A result as sent back.
pub type Outcome<T> = Result<T, Failure>;

/// A task's answer.
#[derive(Debug)]
pub enum Message {
    /// The board.
    Board(Outcome<Board>),
    /// Lost reasons.
    LostReasons(Outcome<Vec<ListEntry>>),
    /// Due activities.
    Due(Outcome<Vec<Activity>>),
    /// A deal's detail.
    Deal(Outcome<Box<DealDetail>>),
    /// A contact's detail.
    Contact(Outcome<Box<ContactDetail>>),
    /// A company's detail.
    Company(Outcome<Box<CompanyDetail>>),
    /// Search hits for query `seq`.
    Hits(u64, Outcome<Vec<Hit>>),
    /// A deal changed as asked (moved, won, lost, reopened, saved).
    DealChanged(&'static str, Box<Deal>),
    /// A change was refused as stale: what was tried, the deal now, and the retry.
    Stale {
        /// What was tried.
        attempted: String,
        /// The deal as it is now.
        now: Box<Outcome<Deal>>,
        /// The deal's id.
        id: DealId,
        /// The retry offered.
        retry: Option<Retry>,
    },
    /// A deal change failed otherwise.
    DealFailed(DealId, Failure),
    /// A form's save failed.
    FormFailed(Failure),
    /// A contact was created.
    ContactCreated(Box<Contact>),
    /// An activity was created, completed or rescheduled.
    ActivityChanged(&'static str, Box<Activity>),
    /// An activity change failed.
    ActivityFailed(Failure),
    /// Records changed elsewhere (from the event outbox): entity types.
    Changed(Vec<String>),
    /// The live link is up (true) or lost (false).
    Live(bool),
    /// Duplicate groups of a kind.
    Duplicates(Kind, Outcome<Vec<Group>>),
    /// A merge finished (or failed).
    Merged(Box<Outcome<MergeOutcome>>),
    /// A "not a duplicate" mark was saved (or failed).
    Dismissed(Outcome<bool>),
}

/// Runs `cmd` in a task of its own; its answer goes to `tx`.
pub fn spawn(scope: &Scope, cmd: Command, tx: &UnboundedSender<Message>) {
    let scope = scope.clone();
    let tx = tx.clone();
    tokio::spawn(async move {
        let msg = execute(&scope, cmd).await;
        // The receiver is gone only when the console is closing.
        let _ = tx.send(msg);
    });
}

fn out<T>(r: crm_core::Result<T>) -> Outcome<T> {
    r.map_err(Failure::from)
}

/// Runs one command against crm-core and makes its message.
pub async fn execute(scope: &Scope, cmd: Command) -> Message {
    match cmd {
        Command::LoadBoard(p) => {
            Message::Board(out(scope.run(async |tx| console::board(tx, p).await).await))
        }
        Command::LoadLostReasons => Message::LostReasons(out(scope
            .run(async |tx| console::lost_reasons(tx).await)
            .await)),
        Command::LoadDue => Message::Due(out(due_today(scope).await)),
        Command::LoadDeal(id) => Message::Deal(out(scope
            .run(async |tx| console::deal_detail(tx, id).await)
            .await
            .map(Box::new))),
        Command::LoadContact(id) => Message::Contact(out(scope
            .run(async |tx| console::contact_detail(tx, id).await)
            .await
            .map(Box::new))),
        Command::LoadCompany(id) => Message::Company(out(scope
            .run(async |tx| console::company_detail(tx, id).await)
            .await
            .map(Box::new))),
        Command::Search { seq, query } => Message::Hits(
            seq,
            out(scope
                .run(async |tx| search::search(tx, &query, 50).await)
                .await),
        ),
        Command::Move {
            id,
            stage,
            name,
            version,
        } => move_deal(scope, id, stage, name, version).await,
        Command::Win { id, version } => {
            let r = scope
                .run(async |tx| deal::win(tx, id, Some(version)).await)
                .await;
            deal_result(scope, id, "won", "Win".into(), Some(Retry::Win), r).await
        }
        Command::Lose {
            id,
            reason,
            note,
            version,
        } => {
            let r = scope
                .run(async |tx| deal::lose(tx, id, &reason, note, Some(version)).await)
                .await;
            deal_result(scope, id, "lost", "Lose".into(), None, r).await
        }
        Command::Reopen(id) => {
            let r = scope.run(async |tx| deal::reopen(tx, id).await).await;
            deal_result(scope, id, "reopened", "Reopen".into(), None, r).await
        }
        Command::UpdateDeal(id, patch) => {
            match scope
                .run(async |tx| deal::update(tx, id, patch).await)
                .await
            {
                Ok(d) => Message::DealChanged("saved", Box::new(d)),
                Err(e) => Message::FormFailed(e.into()),
            }
        }
        Command::CreateContact(new) => {
            match scope.run(async |tx| contact::create(tx, *new).await).await {
                Ok(c) => Message::ContactCreated(Box::new(c)),
                Err(e) => Message::FormFailed(e.into()),
            }
        }
        Command::CreateActivity(new) => {
            match scope.run(async |tx| activity::create(tx, *new).await).await {
                Ok(a) => Message::ActivityChanged("added", Box::new(a)),
                Err(e) => Message::FormFailed(e.into()),
            }
        }
        Command::Complete(id) => {
            match scope.run(async |tx| activity::complete(tx, id).await).await {
                Ok(a) => Message::ActivityChanged("done", Box::new(a)),
                Err(e) => Message::ActivityFailed(e.into()),
            }
        }
        Command::Reschedule(id, version, due) => reschedule(scope, id, version, due).await,
        Command::LoadDuplicates(kind) => load_duplicates(scope, kind).await,
        Command::Merge { kind, ids } => merge(scope, kind, ids).await,
        Command::Dismiss { kind, a, b } => Message::Dismissed(out(scope
            .run(async |tx| dedupe::dismiss(tx, kind, a, b).await)
            .await)),
    }
}

/// Candidate groups of `kind` with the default options.
async fn load_duplicates(scope: &Scope, kind: Kind) -> Message {
    let opts = DetectOptions::default();
    Message::Duplicates(kind, out(dedupe::detect(scope, kind, &opts).await))
}

/// Merges `ids` (the survivor first) by the default field rules.
async fn merge(scope: &Scope, kind: Kind, ids: Vec<uuid::Uuid>) -> Message {
    let req = MergeRequest {
        ids,
        ..MergeRequest::default()
    };
    Message::Merged(Box::new(out(scope
        .run(async |tx| dedupe::merge(tx, kind, &req).await)
        .await)))
}

/// The acting user's activities due up to the end of today in their time zone.
async fn due_today(scope: &Scope) -> crm_core::Result<Vec<Activity>> {
    let me = scope.actor();
    scope
        .run(async |tx| {
            let zone = crm_core::auth::zone::acting(tx).await?;
            let until = zone
                .end_of(zone.date_of(Utc::now()))
                .unwrap_or_else(Utc::now);
            activity::due(tx, until, Some(me)).await
        })
        .await
}

/// Moves a deal to `stage` (named `name`), offering the same move again on a conflict.
async fn move_deal(
    scope: &Scope,
    id: DealId,
    stage: StageId,
    name: String,
    version: i32,
) -> Message {
    let r = scope
        .run(async |tx| deal::move_to_stage(tx, id, &stage.to_string(), Some(version)).await)
        .await;
    let attempted = format!("Move to \"{name}\"");
    let retry = Retry::Move { stage, name };
    deal_result(scope, id, "moved", attempted, Some(retry), r).await
}

/// Moves an activity's due time to `due`.
async fn reschedule(scope: &Scope, id: ActivityId, version: i32, due: DateTime<Utc>) -> Message {
    let patch = ActivityPatch {
        version,
        due_at: Some(Some(due)),
        ..ActivityPatch::default()
    };
    match scope
        .run(async |tx| activity::update(tx, id, patch).await)
        .await
    {
        Ok(a) => Message::ActivityChanged("rescheduled", Box::new(a)),
        Err(e) => Message::ActivityFailed(e.into()),
    }
}

/// The message for a deal change: done, stale (with the deal re-read so the conflict
/// dialog can show what changed), or failed.
async fn deal_result(
    scope: &Scope,
    id: DealId,
    done: &'static str,
    attempted: String,
    retry: Option<Retry>,
    r: crm_core::Result<Deal>,
) -> Message {
    match r {
        Ok(d) => Message::DealChanged(done, Box::new(d)),
        Err(Error::Conflict(m)) if m.contains("changed") || m.contains("version") => {
            let now = out(scope.run(async |tx| deal::get(tx, id).await).await);
            Message::Stale {
                attempted,
                now: Box::new(now),
                id,
                retry,
            }
        }
        Err(e) => Message::DealFailed(id, e.into()),
    }
}
