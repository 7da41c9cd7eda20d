//! `crm activity`: notes, calls, e-mails, meetings, tasks and follow-ups in the timeline of
//! a contact, company or deal, with due times and assignees.
//!
//! Times are read as RFC 3339 (`2026-03-01T09:30:00+01:00`), as local time
//! (`2026-03-01 09:30`), or as a day (`2026-03-01`, `today`, `tomorrow`), which means the
//! end of that day in local time. JSON output is the serde form of crm-core's `Activity`.

use anyhow::Result;
use clap::{Args, Subcommand};
use crm_core::domain::{ActivityType, DayEnd};
use crm_core::store::Cursor;
use crm_core::store::activity::{
    self, Activity, ActivityFilter, ActivityPatch, ActivityState, NewActivity,
};

use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};
use crate::output::{Listed, Pager, local_time, print_json, time};
use crate::resolve::resolve_activity;
use crate::resolve::{resolve_company_opt, resolve_contact_opt};
use crate::resolve::{resolve_deal, resolve_user};

#[derive(Debug, Subcommand)]
pub enum ActivityCommand {
    /// List activities, oldest first, one page at a time (`--all` streams every page).
    List(ListArgs),
    /// Add an activity to the timeline of a contact, company or deal (at least one).
    Add(AddArgs),
    /// Mark an activity done.
    Done {
        /// The activity: its id, or at least 4 digits of it (the last 8 as lists print them).
        #[arg(value_name = "ID")]
        activity: String,
    },
    /// Change an activity read at `--version` (`activity list --format json` shows it; if
    /// someone changed it since, exit 4 and nothing is written).
    #[command(disable_version_flag = true)]
    Edit(EditArgs),
    /// Delete an activity (soft: `activity restore` brings it back).
    Delete {
        /// The activity: its id, or at least 4 digits of it.
        #[arg(value_name = "ID")]
        activity: String,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Show what would be deleted, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Restore a deleted activity.
    Restore {
        /// The activity: its id, or at least 4 digits of it.
        #[arg(value_name = "ID")]
        activity: String,
    },
    /// Open activities due up to a time (default: what is overdue or due today), overdue
    /// ones first.
    Due {
        /// Up to this time (RFC 3339, `YYYY-MM-DD HH:MM` local time, a date, `today`,
        /// `tomorrow` or `now`).
        #[arg(long, value_name = "TIME", value_parser = crate::time::time_arg)]
        until: Option<crate::time::TimeArg>,
        /// Up to this long from now (`30m`, `4h`, `2d`): shorthand for --until now+DURATION.
        #[arg(long, value_name = "DURATION", conflicts_with = "until",
              value_parser = crate::cmd::remind::parse_duration)]
        within: Option<std::time::Duration>,
        /// Only activities assigned to you (the acting user).
        #[arg(long)]
        mine: bool,
    },
}

/// Filters and paging of `activity list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only activities of this contact (id, at least 4 digits of it, or an e-mail address).
    #[arg(long, value_name = "ID|EMAIL")]
    pub contact: Option<String>,
    /// Only activities of this company (id, VAT id, domain or exact name).
    #[arg(long, value_name = "ID|NAME")]
    pub company: Option<String>,
    /// Only activities of this deal (id or at least 4 digits of it).
    #[arg(long, value_name = "ID")]
    pub deal: Option<String>,
    /// Only activities assigned to this user.
    #[arg(long, value_name = "EMAIL")]
    pub assignee: Option<String>,
    /// Only this kind: note, call, email, meeting, task, followup.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<ActivityType>,
    /// Only open activities.
    #[arg(long, conflicts_with = "done")]
    pub open: bool,
    /// Only completed activities.
    #[arg(long)]
    pub done: bool,
    /// Only open activities due in the past.
    #[arg(long)]
    pub overdue: bool,
    /// Activities per page (1 to 10000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    /// Continue after this cursor (printed on stderr under a page that has more).
    #[arg(long, value_name = "CURSOR")]
    pub after: Option<Cursor>,
    /// Every page, streamed with constant memory (one JSON array, one CSV header).
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
}

/// Arguments of `activity add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The contact: id, at least 4 digits of it, or an e-mail address.
    #[arg(long, value_name = "ID|EMAIL")]
    pub contact: Option<String>,
    /// The kind: note, call, email, meeting, task, followup (default: note).
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<ActivityType>,
    /// What it is about, in one line.
    #[arg(long)]
    pub subject: String,
    /// When it is due: 31.12.2026 14:30, 2026-12-31 14:30 (your time zone), RFC 3339, a
    /// date, `today` or `tomorrow` (a day means its end), `now` or a duration (`+2d`, `1h`).
    #[arg(long, value_name = "TIME", value_parser = crate::time::time_arg)]
    pub due: Option<crate::time::TimeArg>,
    /// Longer text.
    #[arg(long, value_name = "TEXT")]
    pub body: Option<String>,
    /// The deal: its id or at least 4 digits of it.
    #[arg(long, value_name = "ID")]
    pub deal: Option<String>,
    /// The company: id, VAT id, domain or exact name.
    #[arg(long, value_name = "ID|NAME")]
    pub company: Option<String>,
    /// Who should do it (default: you, when --due is given).
    #[arg(long, value_name = "EMAIL")]
    pub assignee: Option<String>,
}

/// Arguments of `activity edit`: only what is given changes.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The activity: its id, or at least 4 digits of it.
    #[arg(value_name = "ID")]
    pub activity: String,
    /// The version you read (`activity list --format json`).
    #[arg(long = "version", value_name = "N")]
    pub at_version: i32,
    /// New kind: note, call, email, meeting, task, followup.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<ActivityType>,
    /// New subject.
    #[arg(long)]
    pub subject: Option<String>,
    /// New longer text (empty clears it).
    #[arg(long, value_name = "TEXT")]
    pub body: Option<String>,
    /// New due time (same forms as `activity add --due`).
    #[arg(long, value_name = "TIME", value_parser = crate::time::time_arg,
          conflicts_with = "no_due")]
    pub due: Option<crate::time::TimeArg>,
    /// Clear the due time.
    #[arg(long)]
    pub no_due: bool,
    /// New assignee (e-mail).
    #[arg(long, value_name = "EMAIL")]
    pub assignee: Option<String>,
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

impl Row for Activity {
    fn noun() -> &'static str {
        "activities"
    }
    fn headers() -> Vec<&'static str> {
        vec![
            "id",
            "type",
            "subject",
            "due_at",
            "done_at",
            "overdue",
            "contact",
            "company",
            "deal",
            "assignee",
            "contact_id",
            "company_id",
            "deal_id",
            "assignee_id",
            "created_at",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.kind.to_string(),
            self.subject.clone(),
            self.due_at.as_ref().map(time).unwrap_or_default(),
            self.done_at.as_ref().map(time).unwrap_or_default(),
            self.overdue.to_string(),
            opt(&self.contact),
            opt(&self.company),
            opt(&self.deal),
            opt(&self.assignee),
            output::opt(&self.contact_id),
            output::opt(&self.company_id),
            output::opt(&self.deal_id),
            output::opt(&self.assignee_id),
            time(&self.created_at),
        ]
    }
}

impl Listed for Activity {
    fn table_headers() -> Vec<&'static str> {
        vec![
            "id", "type", "subject", "due", "done", "contact", "company", "deal", "assignee",
        ]
    }
    fn table_cells(&self) -> Vec<String> {
        let due = match &self.due_at {
            Some(t) if self.overdue => format!("{} (overdue)", local_time(t)),
            Some(t) => local_time(t),
            None => String::new(),
        };
        vec![
            self.id.to_string(),
            self.kind.to_string(),
            self.subject.clone(),
            due,
            self.done_at.as_ref().map(local_time).unwrap_or_default(),
            opt(&self.contact),
            opt(&self.company),
            opt(&self.deal),
            opt(&self.assignee),
        ]
    }
}

/// Prints one activity: JSON, field / value pairs, or one CSV row.
fn print_activity(format: Format, a: &Activity) -> Result<()> {
    match format {
        Format::Json | Format::Ndjson => print_json(format, a),
        Format::Csv => output::list(Format::Csv, std::slice::from_ref(a)),
        Format::Table => {
            let stdout = crate::pipe::stdout();
            let mut out = stdout.lock();
            let rows = Activity::table_headers()
                .into_iter()
                .zip(a.table_cells())
                .map(|(h, c)| vec![h.to_string(), c]);
            crate::output::write_table(&mut out, &["field", "value"], rows)?;
            Ok(())
        }
    }
}

/// Prints a list of activities.
fn print_activities(format: Format, list: &[Activity]) -> Result<()> {
    match format {
        Format::Table => {
            let stdout = crate::pipe::stdout();
            let mut out = stdout.lock();
            crate::output::write_table(
                &mut out,
                &Activity::table_headers(),
                list.iter().map(Listed::table_cells),
            )?;
            if list.is_empty() {
                crate::output::write_none(&mut out, Activity::noun())?;
            }
            Ok(())
        }
        Format::Ndjson => {
            for a in list {
                print_json(format, a)?;
            }
            Ok(())
        }
        other => output::list(other, list),
    }
}

/// Runs one `crm activity` subcommand.
pub async fn run(cmd: ActivityCommand, ctx: &Ctx) -> Result<u8> {
    match cmd {
        ActivityCommand::List(args) => list(args, ctx).await,
        ActivityCommand::Add(args) => add(args, ctx).await,
        ActivityCommand::Done {
            activity: reference,
        } => {
            change(&reference, ctx, async |tx, id| {
                activity::complete(tx, id).await
            })
            .await
        }
        ActivityCommand::Edit(args) => edit(args, ctx).await,
        ActivityCommand::Delete {
            activity: reference,
            yes,
            dry_run,
        } => delete(reference, yes, dry_run, ctx).await,
        ActivityCommand::Restore {
            activity: reference,
        } => {
            change(&reference, ctx, async |tx, id| {
                activity::restore(tx, id).await
            })
            .await
        }
        ActivityCommand::Due {
            until,
            within,
            mine,
        } => due(until, within, mine, ctx).await,
    }
}

/// Resolves the activity, changes it with `op` in one transaction and prints the result.
async fn change(
    reference: &str,
    ctx: &Ctx,
    op: impl AsyncFnOnce(&mut crm_core::Tx, crm_core::ActivityId) -> crm_core::Result<Activity>,
) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let id = resolve_activity(&mut tx, reference).await?;
    let a = op(&mut tx, id).await?;
    tx.commit().await?;
    print_activity(ctx.format(), &a)?;
    Ok(exit::OK)
}

/// `activity add`: a task, call, meeting or note, linked to what it is about.
async fn add(args: AddArgs, ctx: &Ctx) -> Result<u8> {
    let (crm, org, scope) = ctx.scope().await?;
    let assignee_id = match &args.assignee {
        Some(email) => Some(resolve_user(&crm, org.id, email, "--assignee").await?),
        None if args.due.is_some() => Some(scope.actor()),
        None => None,
    };
    let mut tx = scope.begin().await?;
    let zone = crm_core::auth::zone::acting(&mut tx).await?;
    let due_at = crate::time::opt_time(&args.due, zone, DayEnd::End)?;
    let contact_id = resolve_contact_opt(&mut tx, args.contact.as_deref()).await?;
    let company_id = resolve_company_opt(&mut tx, args.company.as_deref()).await?;
    let deal_id = match &args.deal {
        Some(d) => Some(resolve_deal(&mut tx, d).await?),
        None => None,
    };
    let new = NewActivity {
        kind: args.kind.unwrap_or_default(),
        subject: args.subject,
        body: args.body,
        due_at,
        assignee_id,
        contact_id,
        company_id,
        deal_id,
    };
    let a = activity::create(&mut tx, new).await?;
    tx.commit().await?;
    print_activity(ctx.format(), &a)?;
    Ok(exit::OK)
}

/// `activity delete`: soft, after asking.
async fn delete(reference: String, yes: bool, dry_run: bool, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let id = resolve_activity(&mut tx, &reference).await?;
    let a = activity::get(&mut tx, id).await?;
    tx.commit().await?;
    let what = format!("activity '{}' ({})", a.subject, output::short_id(id));
    let nothing = crm_core::store::dependents::Dependents::default();
    crate::confirm::needs_terminal_or_yes(yes || dry_run)?;
    if !crate::confirm::before_destroying(ctx, yes, dry_run, "delete", &what, &nothing)? {
        return Ok(exit::OK);
    }
    scope.run(async |tx| activity::delete(tx, id).await).await?;
    if matches!(ctx.format(), Format::Json | Format::Ndjson) {
        print_json(
            ctx.format(),
            &serde_json::json!({ "id": id, "deleted": true }),
        )?;
    } else {
        ctx.note(format!(
            "deleted {what}; `crm activity restore` brings it back"
        ));
    }
    Ok(exit::OK)
}

/// `activity due`: open activities due until a time (default: the end of today).
async fn due(
    until: Option<crate::time::TimeArg>,
    within: Option<std::time::Duration>,
    mine: bool,
    ctx: &Ctx,
) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let zone = crate::time::zone_of(&scope).await?;
    let until = match (until, within) {
        (Some(t), _) => t.at(zone, DayEnd::End)?,
        (None, Some(d)) => chrono::TimeDelta::from_std(d)
            .ok()
            .and_then(|d| chrono::Utc::now().checked_add_signed(d))
            .ok_or_else(|| exit::usage("--within is too long"))?,
        (None, None) => crate::time::TimeArg::today().at(zone, DayEnd::End)?,
    };
    let assignee = mine.then(|| scope.actor());
    let due = scope
        .run(async |tx| activity::due(tx, until, assignee).await)
        .await?;
    print_activities(ctx.format(), &due)?;
    Ok(exit::OK)
}

async fn list(args: ListArgs, ctx: &Ctx) -> Result<u8> {
    let (crm, org, scope) = ctx.scope().await?;
    let assignee_id = match &args.assignee {
        Some(email) => Some(resolve_user(&crm, org.id, email, "--assignee").await?),
        None => None,
    };
    let mut tx = scope.begin().await?;
    let contact_id = resolve_contact_opt(&mut tx, args.contact.as_deref()).await?;
    let company_id = resolve_company_opt(&mut tx, args.company.as_deref()).await?;
    let deal_id = match &args.deal {
        Some(d) => Some(resolve_deal(&mut tx, d).await?),
        None => None,
    };
    let filter = ActivityFilter {
        contact_id,
        company_id,
        deal_id,
        assignee_id,
        kind: args.kind,
        state: if args.open {
            Some(ActivityState::Open)
        } else if args.done {
            Some(ActivityState::Done)
        } else {
            None
        },
        overdue: args.overdue,
        ..ActivityFilter::default()
    };
    let more = Pager::new(args.limit, args.after, args.all)
        .print(ctx.format(), async |request| {
            activity::list(&mut tx, &filter, request).await
        })
        .await?;
    tx.commit().await?;
    output::note_more(ctx, "activities", more);
    Ok(exit::OK)
}

async fn edit(args: EditArgs, ctx: &Ctx) -> Result<u8> {
    let (crm, org, scope) = ctx.scope().await?;
    let assignee_id = match &args.assignee {
        Some(email) => Some(Some(resolve_user(&crm, org.id, email, "--assignee").await?)),
        None => None,
    };
    let mut tx = scope.begin().await?;
    let zone = crm_core::auth::zone::acting(&mut tx).await?;
    let id = resolve_activity(&mut tx, &args.activity).await?;
    let due_at = if args.no_due {
        Some(None)
    } else {
        crate::time::opt_time(&args.due, zone, DayEnd::End)?.map(Some)
    };
    let patch = ActivityPatch {
        version: args.at_version,
        kind: args.kind,
        subject: args.subject,
        body: args
            .body
            .map(|b| if b.trim().is_empty() { None } else { Some(b) }),
        due_at,
        assignee_id,
        ..ActivityPatch::default()
    };
    let a = activity::update(&mut tx, id, patch).await?;
    tx.commit().await?;
    print_activity(ctx.format(), &a)?;
    Ok(exit::OK)
}
