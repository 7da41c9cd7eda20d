//! `crm lexware`: the Lexware Office integration (status, configure, search, link,
//! unlink, import, push, sync and the voucher cache).

use std::io::Read as _;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};
use crm_core::Scope;
use crm_core::lexware::{CachedVoucher, LinkTarget, links, settings, vouchers};
use crm_lexware::sync::{Found, Lexware, SyncOptions};
use crm_lexware::{Client, Config, LexwareError, Limiter};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};

#[derive(Debug, Subcommand)]
pub enum LexwareCommand {
    /// Whether Lexware Office is configured and reachable; links, conflicts, last sync.
    /// Exits 0 when not configured (`configured: false`).
    Status,
    /// Store the organization's API key, read from stdin (owners and admins only).
    /// LEXWARE_API_KEY, when set, takes precedence over the stored key.
    Configure {
        /// Read the key from standard input.
        #[arg(long, required_unless_present = "remove")]
        api_key_stdin: bool,
        /// Remove the stored key instead.
        #[arg(long, conflicts_with = "api_key_stdin")]
        remove: bool,
    },
    /// Search Lexware contacts by name, e-mail (contains `@`) or customer number (digits).
    Search {
        /// At least 3 characters of a name or e-mail, or a customer number.
        query: String,
    },
    /// Link a CRM company or contact to a Lexware contact, then sync it (differences are
    /// reported as conflicts, never decided).
    Link {
        #[command(flatten)]
        target: Target,
        /// The Lexware contact's id.
        lexware_id: Uuid,
    },
    /// Remove the link of a CRM record or of a Lexware contact (nothing is deleted).
    Unlink {
        #[command(flatten)]
        target: OptTarget,
        /// The Lexware contact's id.
        #[arg(long)]
        lexware_id: Option<Uuid>,
    },
    /// Import a Lexware contact as a CRM company (with its contact persons) or contact and
    /// link it; when already linked, update the linked record from Lexware.
    Import {
        /// The Lexware contact's id (`crm lexware search` shows it).
        lexware_id: Uuid,
    },
    /// Push a CRM record: create it in Lexware (and link it), or update the linked contact
    /// with the CRM's values.
    Push {
        #[command(flatten)]
        target: Target,
    },
    /// Sync both ways: push changed ERP-tagged records, pull linked records round robin,
    /// refresh their vouchers. Prints a summary.
    Sync(SyncArgs),
    /// The voucher cache: list, refresh, link to and unlink from deals.
    #[command(subcommand)]
    Vouchers(VouchersCommand),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Keep running: one pass every --interval seconds until interrupted.
    #[arg(long)]
    watch: bool,
    /// Seconds between passes with --watch.
    #[arg(long, default_value_t = 60)]
    interval: u64,
    /// Linked records pulled per pass (round robin; about 1.5 requests per second).
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Do not refresh vouchers.
    #[arg(long)]
    no_vouchers: bool,
}

/// A CRM company or contact (exactly one).
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Target {
    /// The company (id, VAT id, domain or exact name).
    #[arg(long)]
    company: Option<String>,
    /// The contact (id or e-mail).
    #[arg(long)]
    contact: Option<String>,
}

/// An optional CRM company or contact.
#[derive(Debug, Args)]
#[group(required = false, multiple = false)]
pub struct OptTarget {
    /// The company (id, VAT id, domain or exact name).
    #[arg(long)]
    company: Option<String>,
    /// The contact (id or e-mail).
    #[arg(long)]
    contact: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum VouchersCommand {
    /// Cached vouchers: all, or of a company / contact / deal.
    List {
        #[command(flatten)]
        target: OptTarget,
        /// Only those linked to this deal.
        #[arg(long)]
        deal: Option<String>,
    },
    /// Fetch vouchers changed since the last refresh (of one record, or of every link).
    Refresh {
        #[command(flatten)]
        target: OptTarget,
        /// Fetch everything again, not only what changed.
        #[arg(long)]
        all: bool,
    },
    /// Link a cached voucher (id, Lexware id or number) to a deal.
    Link {
        /// The voucher.
        voucher: String,
        /// The deal.
        #[arg(long)]
        deal: String,
    },
    /// Remove a voucher's link to a deal.
    Unlink {
        /// The voucher.
        voucher: String,
        /// The deal.
        #[arg(long)]
        deal: String,
    },
}

/// Maps integration errors to exit codes and messages (CLI.md).
fn lx(e: LexwareError) -> anyhow::Error {
    let code = match &e {
        LexwareError::Core(inner) => return anyhow::Error::new(clone_core(inner)),
        LexwareError::VersionConflict | LexwareError::NotUpdatable(_) => exit::CONFLICT,
        LexwareError::Api { status: 404, .. } => exit::NOT_FOUND,
        LexwareError::Api {
            status: 401 | 403, ..
        } => exit::PERMISSION,
        e if e.is_validation() => exit::VALIDATION,
        _ => exit::ERROR,
    };
    exit::coded(code, e.to_string())
}

fn clone_core(e: &crm_core::Error) -> crm_core::Error {
    use crm_core::Error as E;
    match e {
        E::NotFound { entity } => E::NotFound { entity },
        E::Validation(f) => E::Validation(f.clone()),
        E::Conflict(m) => E::Conflict(m.clone()),
        E::PermissionDenied(m) => E::PermissionDenied(m.clone()),
        E::Tenancy(m) => E::Tenancy(m.clone()),
        E::Unavailable(m) => E::Unavailable(m.clone()),
        other => E::Io(other.to_string()),
    }
}

/// The integration actor's scope, the API key (environment first) and the client. Not
/// configured is reported before anything is created.
async fn connect(scope: &Scope) -> Result<Lexware> {
    let stored = if Config::env_has_key() {
        None
    } else {
        match scope.run(async |tx| settings::api_key(tx).await).await {
            Ok(key) => key,
            // Not an owner or admin: read through the integration actor (made by configure).
            Err(crm_core::Error::PermissionDenied(_)) => {
                let integration = Lexware::integration_scope(scope).await.map_err(lx)?;
                integration
                    .run(async |tx| settings::api_key(tx).await)
                    .await?
            }
            Err(e) => return Err(e.into()),
        }
    };
    let config = Config::from_env(stored).map_err(lx)?;
    let integration = Lexware::integration_scope(scope).await.map_err(lx)?;
    let client = Client::new(config, Limiter::database(integration.clone())).map_err(lx)?;
    Ok(Lexware::new(client, integration))
}

/// The acting user's handle (explicit commands are audited under the user).
async fn connect_as_user(scope: &Scope) -> Result<Lexware> {
    let lx = connect(scope).await?;
    Ok(Lexware::new(lx.client().clone(), scope.clone()))
}

async fn target(
    scope: &Scope,
    company: &Option<String>,
    contact: &Option<String>,
) -> Result<Option<LinkTarget>> {
    let mut tx = scope.begin().await?;
    let t = match (company, contact) {
        (Some(c), _) => Some(LinkTarget::Company(
            crate::resolve::resolve_company(&mut tx, c).await?,
        )),
        (_, Some(c)) => Some(LinkTarget::Contact(
            crate::resolve::resolve_contact(&mut tx, c).await?,
        )),
        _ => None,
    };
    tx.commit().await?;
    Ok(t)
}

impl Row for Found {
    fn headers() -> Vec<&'static str> {
        vec!["id", "kind", "name", "email", "customer_number", "linked"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.kind.to_string(),
            self.name.clone(),
            output::opt(&self.email),
            output::opt(&self.customer_number),
            self.linked
                .map(|t| format!("{} {}", t.kind(), t.uuid()))
                .unwrap_or_default(),
        ]
    }
}

impl Row for CachedVoucher {
    fn headers() -> Vec<&'static str> {
        vec![
            "id",
            "number",
            "type",
            "status",
            "date",
            "total",
            "open",
            "currency",
            "fetched_at",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            output::opt(&self.voucher_number),
            self.voucher_type.clone(),
            output::opt(&self.voucher_status),
            output::opt(&self.voucher_date),
            output::opt(&self.total_amount),
            output::opt(&self.open_amount),
            output::opt(&self.currency),
            self.fetched_at.to_rfc3339(),
        ]
    }
}

/// Prints a summary object: JSON for scripts, `key: value` lines on a terminal.
fn summary<T: Serialize>(format: Format, value: &T) -> Result<()> {
    match format {
        Format::Table | Format::Csv => {
            let v = serde_json::to_value(value)?;
            let mut lines = Vec::new();
            if let Some(m) = v.as_object() {
                for (k, v) in m {
                    let shown = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    lines.push(format!("{k}: {shown}"));
                }
            }
            output::text(&lines.join("\n"))
        }
        _ => output::json(value),
    }
}

pub async fn run(cmd: LexwareCommand, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    match cmd {
        LexwareCommand::Status => status(ctx, &scope).await,
        LexwareCommand::Configure {
            api_key_stdin,
            remove,
        } => configure(ctx, &scope, api_key_stdin, remove).await,
        LexwareCommand::Search { query } => {
            let lx = connect(&scope).await?;
            let found = lx.search(&query).await.map_err(self::lx)?;
            output::list(ctx.format(), &found)?;
            Ok(exit::OK)
        }
        LexwareCommand::Link {
            target: t,
            lexware_id,
        } => {
            let Some(t) = target(&scope, &t.company, &t.contact).await? else {
                return Err(exit::usage(
                    "name the CRM record with --company or --contact",
                ));
            };
            let lx = connect_as_user(&scope).await?;
            let report = lx.link(t, lexware_id).await.map_err(self::lx)?;
            summary(ctx.format(), &report)?;
            Ok(if report.conflicts.is_empty() {
                exit::OK
            } else {
                exit::CONFLICT
            })
        }
        LexwareCommand::Unlink {
            target: t,
            lexware_id,
        } => {
            let t = target(&scope, &t.company, &t.contact).await?;
            let link = scope
                .run(async |tx| match (t, lexware_id) {
                    (Some(t), _) => links::find_by_target(tx, t).await,
                    (None, Some(l)) => links::find_by_lexware(tx, l).await,
                    (None, None) => Err(crm_core::Error::invalid(
                        "link",
                        "name it with --company, --contact or --lexware-id",
                    )),
                })
                .await?
                .ok_or_else(|| exit::coded(exit::NOT_FOUND, "no such Lexware link"))?;
            let id = link.id;
            scope.run(async |tx| links::delete(tx, id).await).await?;
            ctx.note("unlinked (nothing was deleted in Lexware Office or in the CRM)");
            Ok(exit::OK)
        }
        LexwareCommand::Import { lexware_id } => {
            let lx = connect_as_user(&scope).await?;
            let report = lx.import(lexware_id).await.map_err(self::lx)?;
            summary(ctx.format(), &report)?;
            Ok(exit::OK)
        }
        LexwareCommand::Push { target: t } => {
            let Some(t) = target(&scope, &t.company, &t.contact).await? else {
                return Err(exit::usage(
                    "name the CRM record with --company or --contact",
                ));
            };
            let lx = connect_as_user(&scope).await?;
            let report = lx.push(t).await.map_err(self::lx)?;
            summary(ctx.format(), &report)?;
            Ok(if report.not_updatable.is_some() {
                exit::CONFLICT
            } else {
                exit::OK
            })
        }
        LexwareCommand::Sync(args) => sync(ctx, &scope, args).await,
        LexwareCommand::Vouchers(cmd) => vouchers_cmd(ctx, &scope, cmd).await,
    }
}

async fn status(ctx: &Ctx, scope: &Scope) -> Result<u8> {
    let env_key = Config::env_has_key();
    let stored = if env_key {
        None
    } else {
        // Reading the stored key needs an owner or admin; others see it as unknown.
        scope
            .run(async |tx| settings::api_key(tx).await)
            .await
            .ok()
            .flatten()
    };
    let all = scope.run(async |tx| links::list(tx).await).await?;
    let conflicts = all
        .iter()
        .filter(|l| l.conflicts.as_array().is_some_and(|a| !a.is_empty()))
        .count();
    let not_updatable = all.iter().filter(|l| !l.updatable).count();
    let failing = all.iter().filter(|l| l.last_error.is_some()).count();
    let last_sync = all.iter().filter_map(|l| l.synced_at).max();
    let mut out = json!({
        "configured": env_key || stored.is_some(),
        "base_url": crm_lexware::config::base_url_from_env(),
        "key_source": if env_key { Some("LEXWARE_API_KEY") } else if stored.is_some() { Some("stored") } else { None },
        "links": all.len(),
        "conflicts": conflicts,
        "not_updatable": not_updatable,
        "failing": failing,
        "last_sync": last_sync,
    });
    if env_key || stored.is_some() {
        let config = Config::from_env(stored).map_err(lx)?;
        let mut config = config;
        config.timeout = Duration::from_secs(10);
        config.retry.max_tries = 2;
        let client = Client::new(config, Limiter::database(scope.clone())).map_err(lx)?;
        match client.ping().await {
            Ok(()) => out["reachable"] = json!(true),
            Err(e) => {
                out["reachable"] = json!(false);
                out["error"] = json!(e.to_string());
            }
        }
    }
    summary(ctx.format(), &out)?;
    Ok(exit::OK)
}

async fn configure(ctx: &Ctx, scope: &Scope, stdin: bool, remove: bool) -> Result<u8> {
    if remove {
        let removed = scope
            .run(async |tx| settings::clear_api_key(tx).await)
            .await?;
        ctx.note(if removed {
            "the stored API key was removed"
        } else {
            "no API key was stored"
        });
        return Ok(exit::OK);
    }
    if !stdin {
        return Err(exit::usage(
            "pass the key on standard input with --api-key-stdin",
        ));
    }
    let mut key = String::new();
    std::io::stdin().read_to_string(&mut key)?;
    let key = key.trim().to_string();
    scope
        .run(async |tx| settings::set_api_key(tx, &key).await)
        .await?;
    // Make the integration actor now, while an owner or admin is acting.
    Lexware::integration_scope(scope).await.map_err(lx)?;
    ctx.note("API key stored; `crm lexware status` checks that Lexware Office accepts it");
    Ok(exit::OK)
}

async fn sync(ctx: &Ctx, scope: &Scope, args: SyncArgs) -> Result<u8> {
    let lx = connect(scope).await?;
    let opts = SyncOptions {
        pull_limit: args.limit,
        vouchers: !args.no_vouchers,
        ..SyncOptions::default()
    };
    loop {
        let s = lx.sync(&opts).await.map_err(self::lx)?;
        summary(ctx.format(), &s)?;
        if !args.watch {
            return Ok(if s.failed > 0 {
                exit::ERROR
            } else if s.conflicts > 0 {
                exit::CONFLICT
            } else {
                exit::OK
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(args.interval.max(1))) => {}
            _ = tokio::signal::ctrl_c() => return Ok(exit::OK),
        }
    }
}

async fn vouchers_cmd(ctx: &Ctx, scope: &Scope, cmd: VouchersCommand) -> Result<u8> {
    match cmd {
        VouchersCommand::List { target: t, deal } => {
            let t = target(scope, &t.company, &t.contact).await?;
            let mut tx = scope.begin().await?;
            let list = match (t, deal) {
                (_, Some(d)) => {
                    let d = crate::resolve::resolve_deal(&mut tx, &d).await?;
                    vouchers::for_deal(&mut tx, d).await?
                }
                (Some(t), None) => match links::find_by_target(&mut tx, t).await? {
                    Some(l) => vouchers::for_contact(&mut tx, l.lexware_id).await?,
                    None => {
                        return Err(exit::coded(
                            exit::NOT_FOUND,
                            format!("the {} is not linked to Lexware", t.kind()),
                        ));
                    }
                },
                (None, None) => vouchers::list(&mut tx).await?,
            };
            tx.commit().await?;
            output::list(ctx.format(), &list)?;
            Ok(exit::OK)
        }
        VouchersCommand::Refresh { target: t, all } => {
            let t = target(scope, &t.company, &t.contact).await?;
            let lx = connect(scope).await?;
            let (stored, failed) = match t {
                Some(t) => {
                    let link = scope
                        .run(async |tx| links::find_by_target(tx, t).await)
                        .await?
                        .ok_or_else(|| {
                            exit::coded(
                                exit::NOT_FOUND,
                                format!("the {} is not linked to Lexware", t.kind()),
                            )
                        })?;
                    (lx.refresh_vouchers(&link, all).await.map_err(self::lx)?, 0)
                }
                None => lx.refresh_all_vouchers(all).await.map_err(self::lx)?,
            };
            summary(
                ctx.format(),
                &json!({ "vouchers": stored, "failed_links": failed }),
            )?;
            Ok(if failed > 0 { exit::ERROR } else { exit::OK })
        }
        VouchersCommand::Link { voucher, deal } => {
            link_voucher(scope, &voucher, &deal, true).await?;
            ctx.note("voucher linked to the deal");
            Ok(exit::OK)
        }
        VouchersCommand::Unlink { voucher, deal } => {
            link_voucher(scope, &voucher, &deal, false).await?;
            ctx.note("voucher unlinked from the deal");
            Ok(exit::OK)
        }
    }
}

async fn link_voucher(scope: &Scope, voucher: &str, deal: &str, link: bool) -> Result<()> {
    let mut tx = scope.begin().await?;
    let d = crate::resolve::resolve_deal(&mut tx, deal).await?;
    let v = vouchers::resolve(&mut tx, voucher).await?;
    if link {
        vouchers::link_deal(&mut tx, d, v.id).await?;
    } else {
        vouchers::unlink_deal(&mut tx, d, v.id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One line about open amounts for `company show` / `deal show` tables.
pub fn open_line(o: &vouchers::OpenAmounts) -> String {
    let amounts: Vec<String> = o
        .by_currency
        .iter()
        .map(|(c, a)| format!("{a} {c}"))
        .collect();
    format!(
        "Open in Lexware Office: {} ({} voucher(s){})",
        if amounts.is_empty() {
            "0".to_string()
        } else {
            amounts.join(", ")
        },
        o.vouchers,
        o.fetched_at
            .map(|t| format!(", fetched {}", t.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default()
    )
}

/// Prints `value` as JSON with the open amounts added under `lexware_open_amounts`
/// (`null` for a company not linked to Lexware).
pub fn print_with_open<T: Serialize>(
    format: Format,
    value: &T,
    open: &Option<vouchers::OpenAmounts>,
) -> Result<()> {
    let mut v = serde_json::to_value(value)?;
    if let Some(m) = v.as_object_mut() {
        m.insert("lexware_open_amounts".into(), serde_json::to_value(open)?);
    }
    if format == Format::Ndjson {
        output::text(&serde_json::to_string(&v)?)
    } else {
        output::json(&v)
    }
}
