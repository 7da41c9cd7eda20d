//! Users of an organization: roles, activation, passwords, teams and record visibility.
//!
//! Rules beyond the permission table ([`Permission::ManageUsers`]):
//! - only an owner may make a user an owner, or change, deactivate or set the password of an
//!   owner's account;
//! - the organization's last active owner cannot be demoted or deactivated
//!   ([`Error::Conflict`]);
//! - anyone may change their own password, giving the current one ([`change_own_password`]);
//! - deactivating a user (and changing a password) revokes their sessions.
//!
//! Passwords are hashed with Argon2id off the async runtime's worker threads, at most
//! [`password::MAX_CONCURRENT_HASHES`] at a time. Audit payloads never contain a password or
//! its hash; events carry ids, never e-mail addresses or names.
//!
//! Visibility decides which contacts, companies and deals a user sees; the database enforces
//! it with row-level security (see the migration `add_visibility_and_login_limits`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{Permission, password};
use crate::domain::{Email, InvalidValue, UserRole};
use crate::error::{Error, FieldErrors, Result};
use crate::ids::{TeamId, UserId};
use crate::store::diff;
use crate::tenancy::Tx;

/// The longest first or last name accepted, in characters.
const MAX_NAME_LEN: usize = 200;

/// Which contacts, companies and deals a user sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Every record of the organization.
    All,
    /// Records owned (as owner, member or watcher) by the user or a member of their team.
    Team,
    /// Records the user owns, is a member of or watches.
    Own,
}

impl Visibility {
    /// Every value.
    pub const ALL: &'static [Visibility] = &[Visibility::All, Visibility::Team, Visibility::Own];

    /// The value whose stored key is exactly `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == key)
    }

    /// The stored key: `all`, `team` or `own`.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::All => "all",
            Visibility::Team => "team",
            Visibility::Own => "own",
        }
    }

    /// The visibility a new user of `role` gets: every role starts with `all`; admins
    /// restrict users with [`set_visibility`].
    pub fn default_for(role: UserRole) -> Self {
        match role {
            UserRole::Owner
            | UserRole::Admin
            | UserRole::Manager
            | UserRole::User
            | UserRole::ReadOnly => Visibility::All,
        }
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Visibility {
    type Err = InvalidValue;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "all" => Ok(Visibility::All),
            "team" => Ok(Visibility::Team),
            "own" => Ok(Visibility::Own),
            _ => Err(InvalidValue::new("must be one of: all, team, own")),
        }
    }
}

/// A user as read. `Debug` does not show the e-mail address or the names.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Their id.
    pub id: UserId,
    /// E-mail address as entered (unique per organization, ignoring case).
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Role: decides what they may do (see [`crate::auth::allows`]).
    pub role: UserRole,
    /// Their team, if any.
    pub team_id: Option<TeamId>,
    /// The team's name, if any.
    pub team: Option<String>,
    /// Which records they see.
    pub visibility: Visibility,
    /// Whether they may log in and act.
    pub active: bool,
    /// Until when logins are refused after too many failed attempts (only while in the
    /// future).
    pub locked_until: Option<DateTime<Utc>>,
    /// Their last successful login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// When they were added.
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &"<redacted>")
            .field("name", &"<redacted>")
            .field("role", &self.role)
            .field("team_id", &self.team_id)
            .field("visibility", &self.visibility)
            .field("active", &self.active)
            .field("locked_until", &self.locked_until)
            .field("last_login_at", &self.last_login_at)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// A user to add. `Debug` shows neither the e-mail address, the names nor the password.
#[derive(Clone)]
pub struct NewUser {
    /// E-mail address (required, unique per organization ignoring case).
    pub email: String,
    /// First name (may be empty).
    pub first_name: String,
    /// Last name (may be empty).
    pub last_name: String,
    /// Role.
    pub role: UserRole,
    /// Initial password; `None` creates a user who cannot log in until one is set (the CLI
    /// acts as users without passwords).
    pub password: Option<String>,
    /// Team, if any.
    pub team: Option<TeamId>,
    /// Visibility; `None` takes [`Visibility::default_for`] the role.
    pub visibility: Option<Visibility>,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &"<redacted>")
            .field("name", &"<redacted>")
            .field("role", &self.role)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("team", &self.team)
            .field("visibility", &self.visibility)
            .finish()
    }
}

/// A team of users (for `team` visibility).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Team {
    /// Its id.
    pub id: TeamId,
    /// Its name (unique per organization).
    pub name: String,
    /// Active and inactive users in it.
    pub members: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: UserId,
    email: String,
    first_name: String,
    last_name: String,
    role: UserRole,
    team_id: Option<TeamId>,
    team: Option<String>,
    visibility: Visibility,
    active: bool,
    locked_until: Option<DateTime<Utc>>,
    last_login_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = Error;

    fn try_from(r: UserRow) -> Result<Self> {
        Ok(User {
            id: r.id,
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            role: r.role,
            team_id: r.team_id,
            team: r.team,
            visibility: r.visibility,
            active: r.active,
            locked_until: r.locked_until,
            last_login_at: r.last_login_at,
            created_at: r.created_at,
        })
    }
}

/// The user columns, with the team's name; callers append conditions.
macro_rules! select_users {
    ($rest:literal) => {
        concat!(
            "select u.id, u.email, u.first_name, u.last_name, u.role, u.team_id, t.name as team, \
                    u.visibility, u.active, \
                    case when u.locked_until > now() then u.locked_until end as locked_until, \
                    u.last_login_at, u.created_at \
             from users u left join teams t on t.org_id = u.org_id and t.id = u.team_id \
             where u.org_id = $1 and u.deleted_at is null ",
            $rest
        )
    };
}

/// Every user of the organization, by e-mail address.
pub async fn list(tx: &mut Tx) -> Result<Vec<User>> {
    tx.require(Permission::Read)?;
    let rows: Vec<UserRow> = sqlx::query_as(select_users!("order by u.email_norm, u.id"))
        .bind(tx.org())
        .fetch_all(tx.conn())
        .await?;
    rows.into_iter().map(User::try_from).collect()
}

/// One user.
pub async fn get(tx: &mut Tx, id: UserId) -> Result<User> {
    tx.require(Permission::Read)?;
    let row: Option<UserRow> = sqlx::query_as(select_users!("and u.id = $2"))
        .bind(tx.org())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    row.ok_or(Error::NotFound { entity: "user" })?.try_into()
}

/// The user with this e-mail address (ignoring case and surrounding spaces).
pub async fn by_email(tx: &mut Tx, email: &str) -> Result<User> {
    tx.require(Permission::Read)?;
    let row: Option<UserRow> = sqlx::query_as(select_users!("and u.email_norm = $2"))
        .bind(tx.org())
        .bind(email.trim().to_lowercase())
        .fetch_optional(tx.conn())
        .await?;
    row.ok_or(Error::NotFound { entity: "user" })?.try_into()
}

/// Reads a user and locks their row for a change.
async fn lock(tx: &mut Tx, id: UserId) -> Result<User> {
    let row: Option<UserRow> = sqlx::query_as(select_users!("and u.id = $2 for update of u"))
        .bind(tx.org())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    row.ok_or(Error::NotFound { entity: "user" })?.try_into()
}

/// Only an owner may change an owner's account.
fn guard_owner_account(tx: &Tx, target: &User) -> Result<()> {
    if target.role == UserRole::Owner && tx.actor().role != UserRole::Owner {
        return Err(Error::PermissionDenied(
            "only an owner may change an owner's account".into(),
        ));
    }
    Ok(())
}

/// Fails with [`Error::Conflict`] unless another active owner than `id` exists. Locks the
/// owners' rows, so two owners demoting each other at once cannot both succeed.
async fn ensure_another_owner(tx: &mut Tx, id: UserId) -> Result<()> {
    let others: i64 = sqlx::query_scalar(
        "select count(*) from ( \
             select id from users \
             where org_id = $1 and role = 'owner' and active and deleted_at is null \
             for update) o \
         where o.id <> $2",
    )
    .bind(tx.org())
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    if others == 0 {
        return Err(Error::Conflict(
            "the organization's last active owner cannot be demoted or deactivated; \
             make another user an owner first"
                .into(),
        ));
    }
    Ok(())
}

async fn team_exists(tx: &mut Tx, team: TeamId) -> Result<bool> {
    Ok(
        sqlx::query_scalar("select exists(select 1 from teams where org_id = $1 and id = $2)")
            .bind(tx.org())
            .bind(team)
            .fetch_one(tx.conn())
            .await?,
    )
}

async fn revoke_sessions(tx: &mut Tx, id: UserId) -> Result<u64> {
    Ok(sqlx::query(
        "update sessions set revoked_at = now() \
         where org_id = $1 and user_id = $2 and revoked_at is null",
    )
    .bind(tx.org())
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// Writes the audit entry (a field-level diff) and the event of a change to a user.
async fn record_change(
    tx: &mut Tx,
    before: Option<&User>,
    after: &User,
    action: &str,
    topic: &str,
    event: serde_json::Value,
) -> Result<()> {
    let audit = diff(before, Some(after));
    tx.record(
        "user",
        Some(after.id.uuid()),
        action,
        &audit,
        Some(topic),
        &event,
    )
    .await
}

/// Adds a user. Needs [`Permission::ManageUsers`]; only an owner may add an owner. Every
/// invalid field is reported at once; an e-mail address already taken in the organization
/// (ignoring case) is a [`Error::Conflict`].
pub async fn add(tx: &mut Tx, new: NewUser) -> Result<User> {
    tx.require(Permission::ManageUsers)?;
    if new.role == UserRole::Owner && tx.actor().role != UserRole::Owner {
        return Err(Error::PermissionDenied(
            "only an owner may make a user an owner".into(),
        ));
    }
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(&new.email));
    let first_name = new.first_name.trim().to_string();
    let last_name = new.last_name.trim().to_string();
    if first_name.chars().count() > MAX_NAME_LEN {
        errors.add("first_name", "must be at most 200 characters");
    }
    if last_name.chars().count() > MAX_NAME_LEN {
        errors.add("last_name", "must be at most 200 characters");
    }
    errors.check(
        "first_name",
        crate::domain::text::check_single_line(&first_name),
    );
    errors.check(
        "last_name",
        crate::domain::text::check_single_line(&last_name),
    );
    if let Some(p) = &new.password
        && let Err(Error::Validation(e)) = password::check_strength(p)
    {
        errors.0.extend(e.0);
    }
    if let Some(team) = new.team
        && !team_exists(tx, team).await?
    {
        errors.add("team", "does not exist in this organization");
    }
    errors.into_result()?;
    let Some(email) = email else {
        return Err(Error::invalid("email", "is required"));
    };
    let hash = match new.password {
        Some(p) => Some(password::hash_async(p).await?),
        None => None,
    };
    let id = UserId::new();
    let visibility = new
        .visibility
        .unwrap_or_else(|| Visibility::default_for(new.role));
    sqlx::query(
        "insert into users (org_id, id, email, email_norm, first_name, last_name, role, team_id, \
                            visibility, password_hash) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tx.org())
    .bind(id)
    .bind(email.as_str())
    .bind(email.normalized())
    .bind(&first_name)
    .bind(&last_name)
    .bind(new.role)
    .bind(new.team)
    .bind(visibility)
    .bind(hash)
    .execute(tx.conn())
    .await?;
    let user = lock(tx, id).await?;
    record_change(
        tx,
        None,
        &user,
        "create",
        "user.created",
        json!({ "id": id, "role": user.role }),
    )
    .await?;
    Ok(user)
}

/// Changes a user's role. Needs [`Permission::ManageUsers`]; granting or removing the owner
/// role needs an owner; the last active owner cannot be demoted ([`Error::Conflict`]).
/// Setting the role a user already has changes nothing.
pub async fn set_role(tx: &mut Tx, id: UserId, role: UserRole) -> Result<User> {
    tx.require(Permission::ManageUsers)?;
    if role == UserRole::Owner && tx.actor().role != UserRole::Owner {
        return Err(Error::PermissionDenied(
            "only an owner may make a user an owner".into(),
        ));
    }
    let before = lock(tx, id).await?;
    guard_owner_account(tx, &before)?;
    if before.role == role {
        return Ok(before);
    }
    if before.role == UserRole::Owner && before.active {
        ensure_another_owner(tx, id).await?;
    }
    sqlx::query("update users set role = $3 where org_id = $1 and id = $2")
        .bind(tx.org())
        .bind(id)
        .bind(role)
        .execute(tx.conn())
        .await?;
    let after = lock(tx, id).await?;
    record_change(
        tx,
        Some(&before),
        &after,
        "set_role",
        "user.role_changed",
        json!({ "id": id, "role": role, "previous_role": before.role }),
    )
    .await?;
    Ok(after)
}

/// Deactivates a user: they can no longer log in or act, and their sessions are revoked.
/// Needs [`Permission::ManageUsers`] (and an owner for an owner's account); the last active
/// owner cannot be deactivated ([`Error::Conflict`]). Deactivating an inactive user changes
/// nothing.
pub async fn deactivate(tx: &mut Tx, id: UserId) -> Result<User> {
    tx.require(Permission::ManageUsers)?;
    let before = lock(tx, id).await?;
    guard_owner_account(tx, &before)?;
    if !before.active {
        return Ok(before);
    }
    if before.role == UserRole::Owner {
        ensure_another_owner(tx, id).await?;
    }
    sqlx::query("update users set active = false where org_id = $1 and id = $2")
        .bind(tx.org())
        .bind(id)
        .execute(tx.conn())
        .await?;
    let revoked = revoke_sessions(tx, id).await?;
    let after = lock(tx, id).await?;
    record_change(
        tx,
        Some(&before),
        &after,
        "deactivate",
        "user.deactivated",
        json!({ "id": id, "sessions_revoked": revoked }),
    )
    .await?;
    Ok(after)
}

/// Reactivates a user and lifts a login lock. Needs [`Permission::ManageUsers`] (and an
/// owner for an owner's account). An active, unlocked user is returned unchanged.
pub async fn reactivate(tx: &mut Tx, id: UserId) -> Result<User> {
    tx.require(Permission::ManageUsers)?;
    let before = lock(tx, id).await?;
    guard_owner_account(tx, &before)?;
    if before.active && before.locked_until.is_none() {
        return Ok(before);
    }
    sqlx::query(
        "update users set active = true, failed_logins = 0, locked_until = null \
         where org_id = $1 and id = $2",
    )
    .bind(tx.org())
    .bind(id)
    .execute(tx.conn())
    .await?;
    let after = lock(tx, id).await?;
    record_change(
        tx,
        Some(&before),
        &after,
        "reactivate",
        "user.reactivated",
        json!({ "id": id }),
    )
    .await?;
    Ok(after)
}

/// Sets a user's password (checked against the strength rules, stored as an Argon2id hash),
/// lifts a login lock and revokes the user's sessions. Another user's needs
/// [`Permission::ManageUsers`] (and an owner for an owner's account). One's own password is
/// changed with [`change_own_password`], which asks for the current one; here only while
/// one's account has none yet (nothing to prove).
pub async fn set_password(tx: &mut Tx, id: UserId, new_password: &str) -> Result<()> {
    if id == tx.actor().id {
        if stored_hash(tx, id).await?.is_some() {
            return Err(Error::PermissionDenied(
                "changing your own password needs the current one".into(),
            ));
        }
    } else {
        tx.require(Permission::ManageUsers)?;
    }
    let target = lock(tx, id).await?;
    if id != tx.actor().id {
        guard_owner_account(tx, &target)?;
    }
    store_password(tx, id, new_password).await
}

/// Changes the acting user's own password after checking the current one (OWASP: a
/// password change re-authenticates). A wrong current password is `PermissionDenied`; an
/// account without a password yet takes any `current`. Like [`set_password`], it lifts a
/// login lock and revokes the user's sessions (the caller logs in again).
pub async fn change_own_password(tx: &mut Tx, current: &str, new_password: &str) -> Result<()> {
    let id = tx.actor().id;
    lock(tx, id).await?;
    if let Some(stored) = stored_hash(tx, id).await? {
        let too_long = current.chars().count() > password::MAX_LENGTH;
        // Verified even when too long (against the dummy), so the answer takes as long.
        let hash = if too_long {
            password::DUMMY_HASH.to_string()
        } else {
            stored
        };
        if !password::verify_async(current.to_string(), hash).await? || too_long {
            return Err(Error::PermissionDenied(
                "the current password is wrong".into(),
            ));
        }
    }
    store_password(tx, id, new_password).await
}

async fn stored_hash(tx: &mut Tx, id: UserId) -> Result<Option<String>> {
    let hash: Option<Option<String>> =
        sqlx::query_scalar("select password_hash from users where org_id = $1 and id = $2")
            .bind(tx.org())
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    Ok(hash.flatten())
}

async fn store_password(tx: &mut Tx, id: UserId, new_password: &str) -> Result<()> {
    let hash = password::hash_async(new_password.to_string()).await?;
    sqlx::query(
        "update users set password_hash = $3, failed_logins = 0, locked_until = null \
         where org_id = $1 and id = $2",
    )
    .bind(tx.org())
    .bind(id)
    .bind(hash)
    .execute(tx.conn())
    .await?;
    let revoked = revoke_sessions(tx, id).await?;
    // The audit entry says that the password changed, never what to.
    tx.record(
        "user",
        Some(id.uuid()),
        "set_password",
        &json!({ "password": "changed", "sessions_revoked": revoked }),
        Some("user.password_changed"),
        &json!({ "id": id }),
    )
    .await
}

/// Creates a team. Needs [`Permission::ManageUsers`]; names are unique per organization
/// ([`Error::Conflict`]).
pub async fn create_team(tx: &mut Tx, name: &str) -> Result<Team> {
    tx.require(Permission::ManageUsers)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    if name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be at most 200 characters"));
    }
    let team: Team = sqlx::query_as(
        "insert into teams (org_id, id, name) values ($1, $2, $3) \
         returning id, name, 0::bigint as members, created_at",
    )
    .bind(tx.org())
    .bind(TeamId::new())
    .bind(name)
    .fetch_one(tx.conn())
    .await?;
    tx.record(
        "team",
        Some(team.id.uuid()),
        "create",
        &json!({ "name": { "before": null, "after": team.name } }),
        Some("team.created"),
        &json!({ "id": team.id }),
    )
    .await?;
    Ok(team)
}

/// Every team with its member count, by name.
pub async fn list_teams(tx: &mut Tx) -> Result<Vec<Team>> {
    tx.require(Permission::Read)?;
    Ok(sqlx::query_as(
        "select t.id, t.name, count(u.id) as members, t.created_at \
         from teams t \
         left join users u on u.org_id = t.org_id and u.team_id = t.id and u.deleted_at is null \
         where t.org_id = $1 group by t.org_id, t.id order by t.name",
    )
    .bind(tx.org())
    .fetch_all(tx.conn())
    .await?)
}

/// The team with this name (exact, after trimming).
pub async fn team_by_name(tx: &mut Tx, name: &str) -> Result<Team> {
    tx.require(Permission::Read)?;
    sqlx::query_as(
        "select t.id, t.name, \
                (select count(*) from users u \
                 where u.org_id = t.org_id and u.team_id = t.id and u.deleted_at is null) as members, \
                t.created_at \
         from teams t where t.org_id = $1 and t.name = $2",
    )
    .bind(tx.org())
    .bind(name.trim())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(Error::NotFound { entity: "team" })
}

/// Puts a user in a team (`None`: in none). Needs [`Permission::ManageUsers`] (and an
/// owner for an owner's account).
pub async fn set_team(tx: &mut Tx, id: UserId, team: Option<TeamId>) -> Result<User> {
    tx.require(Permission::ManageUsers)?;
    let before = lock(tx, id).await?;
    guard_owner_account(tx, &before)?;
    if before.team_id == team {
        return Ok(before);
    }
    if let Some(team) = team
        && !team_exists(tx, team).await?
    {
        return Err(Error::invalid(
            "team",
            "does not exist in this organization",
        ));
    }
    sqlx::query("update users set team_id = $3 where org_id = $1 and id = $2")
        .bind(tx.org())
        .bind(id)
        .bind(team)
        .execute(tx.conn())
        .await?;
    let after = lock(tx, id).await?;
    record_change(
        tx,
        Some(&before),
        &after,
        "set_team",
        "user.team_changed",
        json!({ "id": id, "team_id": team }),
    )
    .await?;
    Ok(after)
}

/// Sets which records a user sees (from their next transaction on). Needs
/// [`Permission::ManageUsers`] (and an owner for an owner's account).
pub async fn set_visibility(tx: &mut Tx, id: UserId, visibility: Visibility) -> Result<User> {
    tx.require(Permission::ManageUsers)?;
    let before = lock(tx, id).await?;
    guard_owner_account(tx, &before)?;
    if before.visibility == visibility {
        return Ok(before);
    }
    sqlx::query("update users set visibility = $3 where org_id = $1 and id = $2")
        .bind(tx.org())
        .bind(id)
        .bind(visibility)
        .execute(tx.conn())
        .await?;
    let after = lock(tx, id).await?;
    record_change(
        tx,
        Some(&before),
        &after,
        "set_visibility",
        "user.visibility_changed",
        json!({ "id": id, "visibility": visibility }),
    )
    .await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_parses_its_keys_only() {
        for v in Visibility::ALL {
            assert_eq!(v.as_str().parse::<Visibility>().unwrap(), *v);
            assert_eq!(
                serde_json::to_value(v).unwrap(),
                serde_json::json!(v.as_str())
            );
        }
        assert_eq!(" TEAM ".parse::<Visibility>().unwrap(), Visibility::Team);
        assert!("everyone".parse::<Visibility>().is_err());
    }

    #[test]
    fn every_role_starts_with_all() {
        for role in UserRole::ALL {
            assert_eq!(Visibility::default_for(*role), Visibility::All);
        }
    }

    #[test]
    fn debug_redacts_personal_data_and_passwords() {
        let new = NewUser {
            email: "anna@example.de".into(),
            first_name: "Anna".into(),
            last_name: "Adler".into(),
            role: UserRole::User,
            password: Some("sehr geheimes passwort".into()),
            team: None,
            visibility: None,
        };
        let shown = format!("{new:?}");
        for secret in ["anna@example.de", "Anna", "Adler", "sehr geheimes"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
