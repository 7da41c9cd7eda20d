//! `crm user`: users, roles, passwords, teams and record visibility.
//!
//! Users are named by e-mail address. Passwords are never taken as a flag: they are asked for
//! on a terminal (hidden) or read from the first line of stdin with `--password-stdin`.
//! Changing one's own password also needs the current one: asked for on a terminal, or the
//! second line of stdin.

use std::io::{IsTerminal as _, Read as _};

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use crm_core::auth::user::{self, NewUser, Team, User, Visibility};
use crm_core::domain::UserRole;

use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// List the organization's users.
    List,
    /// Add a user.
    Add(AddArgs),
    /// Change a user's role: owner, admin, manager, user or read_only. Only an owner grants
    /// or removes the owner role; the last active owner keeps it.
    SetRole {
        /// The user's e-mail address.
        email: String,
        /// The new role.
        #[arg(value_parser = parse_role)]
        role: UserRole,
    },
    /// Deactivate a user: they can no longer log in or act (--as), and their sessions end.
    Deactivate {
        /// The user's e-mail address.
        email: String,
    },
    /// Reactivate a user (also lifts a lock after too many failed logins).
    Reactivate {
        /// The user's e-mail address.
        email: String,
    },
    /// Set a user's password (admins set others'; anyone changes their own, giving the
    /// current one).
    Passwd {
        /// The user's e-mail address.
        email: String,
        /// Read the new password from stdin (first line) instead of asking; when changing
        /// your own password, the current one is the second line.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Teams: list, add, and put users in them.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Set which contacts, companies and deals a user sees: all, team (records owned by
    /// their team) or own (records they own, are a member of or watch).
    Visibility {
        /// The user's e-mail address.
        email: String,
        /// all, team or own.
        #[arg(value_parser = parse_visibility)]
        visibility: Visibility,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// E-mail address (unique in the organization, ignoring case).
    #[arg(long)]
    pub email: String,
    /// Role: owner, admin, manager, user or read_only.
    #[arg(long, value_parser = parse_role)]
    pub role: UserRole,
    /// First name.
    #[arg(long, default_value = "")]
    pub first_name: String,
    /// Last name.
    #[arg(long, default_value = "")]
    pub last_name: String,
    /// Team (by name).
    #[arg(long)]
    pub team: Option<String>,
    /// Visibility: all, team or own (default: all).
    #[arg(long, value_parser = parse_visibility)]
    pub visibility: Option<Visibility>,
    /// Read the password from stdin (first line) instead of asking. Without it and without
    /// a terminal, the user gets no password (they act through `--as` only, and cannot log
    /// in to applications until `crm user passwd` sets one).
    #[arg(long)]
    pub password_stdin: bool,
    /// Do not ask for a password on a terminal.
    #[arg(long, conflicts_with = "password_stdin")]
    pub no_password: bool,
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// List teams with their member counts.
    List,
    /// Add a team (`create` is an alias).
    #[command(visible_alias = "create")]
    Add {
        /// Its name (unique in the organization).
        name: String,
    },
    /// Put a user in a team.
    Set {
        /// The user's e-mail address.
        email: String,
        /// The team's name.
        team: String,
    },
    /// Take a user out of their team.
    Unset {
        /// The user's e-mail address.
        email: String,
    },
}

fn parse_role(s: &str) -> std::result::Result<UserRole, String> {
    s.parse()
        .map_err(|e: crm_core::domain::InvalidValue| e.to_string())
}

fn parse_visibility(s: &str) -> std::result::Result<Visibility, String> {
    s.parse()
        .map_err(|e: crm_core::domain::InvalidValue| e.to_string())
}

impl Row for User {
    fn headers() -> Vec<&'static str> {
        vec![
            "email",
            "name",
            "role",
            "team",
            "visibility",
            "active",
            "locked_until",
            "last_login_at",
            "id",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.email.clone(),
            format!("{} {}", self.first_name, self.last_name)
                .trim()
                .to_string(),
            self.role.to_string(),
            output::opt(&self.team),
            self.visibility.to_string(),
            self.active.to_string(),
            self.locked_until
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            self.last_login_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            self.id.to_string(),
        ]
    }
}

impl Row for Team {
    fn headers() -> Vec<&'static str> {
        vec!["name", "members", "id", "created_at"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.members.to_string(),
            self.id.to_string(),
            self.created_at.to_rfc3339(),
        ]
    }
}

/// Reads a new password: the first line of stdin with `--password-stdin`, else a hidden
/// prompt (asked twice) on a terminal; `None` when there is no terminal to ask on.
fn read_password(from_stdin: bool, allow_empty: bool) -> Result<Option<String>> {
    Ok(read_passwords(from_stdin, allow_empty)?.map(|(p, _)| p))
}

/// The new password and, from stdin, the line after it (the current password, when a user
/// changes their own).
fn read_passwords(from_stdin: bool, allow_empty: bool) -> Result<Option<(String, Option<String>)>> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from stdin")?;
        let mut lines = s.lines();
        let new = lines.next().unwrap_or_default().to_string();
        return Ok(Some((new, lines.next().map(str::to_string))));
    }
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let prompt = if allow_empty {
        "Password (empty for none)"
    } else {
        "New password"
    };
    let p = dialoguer::Password::new()
        .with_prompt(prompt)
        .with_confirmation("Repeat it", "the passwords differ")
        .allow_empty_password(allow_empty)
        .interact()
        .context("reading the password")?;
    Ok(Some(p)
        .filter(|p| !(allow_empty && p.is_empty()))
        .map(|p| (p, None)))
}

/// Runs one `crm user` subcommand. A password is asked for before connecting: a prompt
/// should not hold a transaction open.
pub async fn run(cmd: UserCommand, ctx: &Ctx) -> Result<u8> {
    let (password, current) = ask_password(&cmd, ctx)?;
    let (_, _, scope) = ctx.scope().await?;
    let format = ctx.format();
    let changed = match cmd {
        UserCommand::List => {
            let users = scope.run(async |tx| user::list(tx).await).await?;
            output::list(format, &users)?;
            return Ok(exit::OK);
        }
        UserCommand::Add(a) => add(&scope, a, password).await?,
        UserCommand::SetRole { email, role } => {
            change(&scope, &email, async |tx, id| {
                user::set_role(tx, id, role).await
            })
            .await?
        }
        UserCommand::Deactivate { email } => {
            change(&scope, &email, async |tx, id| {
                user::deactivate(tx, id).await
            })
            .await?
        }
        UserCommand::Reactivate { email } => {
            change(&scope, &email, async |tx, id| {
                user::reactivate(tx, id).await
            })
            .await?
        }
        UserCommand::Passwd {
            email,
            password_stdin,
        } => {
            let password = password.unwrap_or_default();
            let changed = passwd(&scope, &email, &password, current, password_stdin).await?;
            ctx.note("password changed; the user's sessions were ended");
            changed
        }
        UserCommand::Team(TeamCommand::List) => {
            let teams = scope.run(async |tx| user::list_teams(tx).await).await?;
            output::list(format, &teams)?;
            return Ok(exit::OK);
        }
        UserCommand::Team(TeamCommand::Add { name }) => {
            let team = scope
                .run(async |tx| user::create_team(tx, &name).await)
                .await?;
            output::one(format, &team)?;
            return Ok(exit::OK);
        }
        UserCommand::Team(TeamCommand::Set { email, team }) => {
            change(&scope, &email, async |tx, id| {
                let t = user::team_by_name(tx, &team).await?;
                user::set_team(tx, id, Some(t.id)).await
            })
            .await?
        }
        UserCommand::Team(TeamCommand::Unset { email }) => {
            change(&scope, &email, async |tx, id| {
                user::set_team(tx, id, None).await
            })
            .await?
        }
        UserCommand::Visibility { email, visibility } => {
            change(&scope, &email, async |tx, id| {
                user::set_visibility(tx, id, visibility).await
            })
            .await?
        }
    };
    output::one(format, &changed)?;
    Ok(exit::OK)
}

/// The password `user add` and `user passwd` set (asked for, or read from stdin), and the
/// current one `passwd` may need; `None` for the other commands.
fn ask_password(cmd: &UserCommand, ctx: &Ctx) -> Result<(Option<String>, Option<String>)> {
    match cmd {
        UserCommand::Add(a) if !a.no_password => {
            let p = read_password(a.password_stdin, true)?;
            if p.is_none() && !a.password_stdin {
                ctx.note("no terminal to ask for a password: adding the user without one");
            }
            Ok((p, None))
        }
        UserCommand::Passwd { password_stdin, .. } => match read_passwords(*password_stdin, false)?
        {
            Some((p, c)) => Ok((Some(p), c)),
            None => Err(exit::usage(
                "no terminal to ask for the password: use --password-stdin",
            )),
        },
        _ => Ok((None, None)),
    }
}

/// Changes the user with this e-mail address with `op`, in one transaction.
async fn change(
    scope: &crm_core::Scope,
    email: &str,
    op: impl AsyncFnOnce(&mut crm_core::Tx, crm_core::UserId) -> crm_core::Result<User>,
) -> Result<User> {
    Ok(scope
        .run(async |tx| {
            let u = user::by_email(tx, email).await?;
            op(tx, u.id).await
        })
        .await?)
}

/// `user add`: with the team named, if any.
async fn add(scope: &crm_core::Scope, a: AddArgs, password: Option<String>) -> Result<User> {
    Ok(scope
        .run(async |tx| {
            let team = match &a.team {
                Some(name) => Some(user::team_by_name(tx, name).await?.id),
                None => None,
            };
            let new = NewUser {
                email: a.email,
                first_name: a.first_name,
                last_name: a.last_name,
                role: a.role,
                password,
                team,
                visibility: a.visibility,
            };
            user::add(tx, new).await
        })
        .await?)
}

/// `user passwd`: one's own password needs the current one (asked for between
/// transactions; ignored while the account has none); an admin sets another's.
async fn passwd(
    scope: &crm_core::Scope,
    email: &str,
    password: &str,
    current: Option<String>,
    password_stdin: bool,
) -> Result<User> {
    let target = scope
        .run(async |tx| user::by_email(tx, email).await)
        .await?;
    if target.id != scope.actor() {
        return Ok(scope
            .run(async |tx| {
                user::set_password(tx, target.id, password).await?;
                user::get(tx, target.id).await
            })
            .await?);
    }
    let current = match current {
        Some(c) => c,
        None if !password_stdin && std::io::stdin().is_terminal() => dialoguer::Password::new()
            .with_prompt("Current password (empty if none)")
            .allow_empty_password(true)
            .interact()
            .context("reading the current password")?,
        None => String::new(),
    };
    Ok(scope
        .run(async |tx| {
            user::change_own_password(tx, &current, password).await?;
            user::get(tx, target.id).await
        })
        .await?)
}
