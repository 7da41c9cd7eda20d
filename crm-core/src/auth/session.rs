//! Sessions for applications that embed the library: log in with e-mail and password, then
//! authenticate requests with a short-lived access token and renew it with a refresh token.
//!
//! - Tokens are opaque: 32 random bytes from the operating system, written as
//!   `<organization id, 32 hex digits>.<secret, 64 hex digits>` so that the organization is
//!   known before the tenant-scoped lookup. Only SHA-256 hashes of the secrets are stored.
//! - An access token lives [`ACCESS_TTL`] (15 minutes), a refresh token [`REFRESH_TTL`]
//!   (7 days). [`Crm::refresh`] rotates: it issues a new pair and retires the old one (its
//!   access token stops working too). Presenting a refresh token that was already rotated
//!   means it was copied: every session of that login (the token *family*) is revoked and
//!   the refresh fails.
//! - An unknown e-mail address, a wrong password and a locked account give the same error,
//!   [`LOGIN_FAILED`] as `PermissionDenied`, after the same work: a password is always
//!   verified, against the user's hash or, for an unknown or locked account, against a
//!   dummy hash made with the same parameters (OWASP's authentication guidance: generic
//!   answers, no timing difference). A password longer than [`password::MAX_LENGTH`] is
//!   refused with that answer before any hashing.
//! - Lockout is atomic: every attempt first claims one of the [`MAX_FAILED_LOGINS`] tries in
//!   a single `update` of the user's row (the statement that counts it also decides the
//!   lock), and only a claimed try is verified. Guesses sent in parallel therefore cannot
//!   test more than [`MAX_FAILED_LOGINS`] passwords; the try that uses up the last one
//!   locks the account for [`LOCK_DURATION`]. While locked, every login fails with the same
//!   answer, also with the correct password (which is not checked against the user's hash,
//!   so a locked account gives an attacker no way to test guesses). A successful login
//!   resets the count and lifts the lock its own try set; an admin lifts a lock with
//!   [`crate::auth::user::reactivate`] or by setting a new password.
//! - A deactivated user cannot log in (with the right password they are told the account is
//!   deactivated; with a wrong one they get the usual error), and their sessions stop
//!   working at once, even those not yet revoked.
//! - Passwords hashed with weaker parameters than today's are rehashed on login.

use std::fmt;
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::password;
use crate::db::Crm;
use crate::domain::UserRole;
use crate::error::{Error, Result};
use crate::ids::{OrgId, UserId};

/// How long an access token is valid.
pub const ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a refresh token is valid (each rotation issues a new one).
pub const REFRESH_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Consecutive failed logins that lock an account.
pub const MAX_FAILED_LOGINS: i32 = 5;
/// How long a locked account refuses logins.
pub const LOCK_DURATION: Duration = Duration::from_secs(15 * 60);

/// Bytes of randomness in a token's secret.
const SECRET_LEN: usize = 32;

/// A logged-in session: the tokens to hand to the client and who they stand for. `Debug`
/// does not show the tokens.
#[derive(Clone, Serialize)]
pub struct Session {
    /// The organization.
    pub org_id: OrgId,
    /// The user.
    pub user_id: UserId,
    /// The user's role at login.
    pub role: UserRole,
    /// Sent with every request; valid until `access_expires_at`.
    pub access_token: String,
    /// When the access token stops working.
    pub access_expires_at: DateTime<Utc>,
    /// Exchanged once for a new pair with [`Crm::refresh`].
    pub refresh_token: String,
    /// When the refresh token stops working.
    pub refresh_expires_at: DateTime<Utc>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("org_id", &self.org_id)
            .field("user_id", &self.user_id)
            .field("role", &self.role)
            .field("access_token", &"<redacted>")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_token", &"<redacted>")
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

/// The one answer to a failed login, whatever the reason (unknown address, wrong password,
/// locked account, a password over the maximum length).
pub const LOGIN_FAILED: &str =
    "invalid e-mail or password, or too many failed attempts (try again later)";

fn invalid_credentials() -> Error {
    Error::PermissionDenied(LOGIN_FAILED.into())
}

fn invalid_token() -> Error {
    Error::PermissionDenied("the session is invalid or has expired; log in again".into())
}

/// 32 random bytes from the operating system.
fn new_secret() -> Result<[u8; SECRET_LEN]> {
    let mut secret = [0u8; SECRET_LEN];
    OsRng
        .try_fill_bytes(&mut secret)
        .map_err(|_| Error::Io("the system's random number generator failed".into()))?;
    Ok(secret)
}

fn encode_token(org: OrgId, secret: &[u8; SECRET_LEN]) -> String {
    use fmt::Write as _;
    let mut s = org.uuid().simple().to_string();
    s.push('.');
    for b in secret {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Splits a token into its organization and secret; `None` when it is malformed.
fn decode_token(token: &str) -> Option<(OrgId, [u8; SECRET_LEN])> {
    let (org, hex) = token.trim().split_once('.')?;
    if org.len() != 32 || hex.len() != 2 * SECRET_LEN || !hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    let org = Uuid::try_parse(org).ok()?;
    let mut secret = [0u8; SECRET_LEN];
    for (i, byte) in secret.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some((OrgId(org), secret))
}

/// Names the organization (and actor, for the audit log) of a transaction without a scope.
async fn enter(conn: &mut PgConnection, org: OrgId, actor: Option<UserId>) -> Result<()> {
    sqlx::query("select crm_set_tenant($1, $2)")
        .bind(org)
        .bind(actor)
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes an audit entry and an event about a user's sessions (no personal data).
async fn record(
    conn: &mut PgConnection,
    user: UserId,
    action: &str,
    topic: &str,
    payload: serde_json::Value,
) -> Result<()> {
    sqlx::query("select crm_audit('user', $1, $2, $4), crm_emit($3, 'user', $1, $4)")
        .bind(user.uuid())
        .bind(action)
        .bind(topic)
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts a session of `family` and returns its tokens.
async fn issue(
    conn: &mut PgConnection,
    org: OrgId,
    user: UserId,
    role: UserRole,
    family: Uuid,
) -> Result<Session> {
    let access = new_secret()?;
    let refresh = new_secret()?;
    let (access_expires_at, refresh_expires_at): (DateTime<Utc>, DateTime<Utc>) = sqlx::query_as(
        "insert into sessions (org_id, id, user_id, family_id, access_hash, refresh_hash, \
                                   access_expires_at, refresh_expires_at) \
             values ($1, $2, $3, $4, sha256($5), sha256($6), \
                     now() + make_interval(secs => $7), now() + make_interval(secs => $8)) \
             returning access_expires_at, refresh_expires_at",
    )
    .bind(org)
    .bind(Uuid::now_v7())
    .bind(user)
    .bind(family)
    .bind(&access[..])
    .bind(&refresh[..])
    .bind(ACCESS_TTL.as_secs_f64())
    .bind(REFRESH_TTL.as_secs_f64())
    .fetch_one(&mut *conn)
    .await?;
    Ok(Session {
        org_id: org,
        user_id: user,
        role,
        access_token: encode_token(org, &access),
        access_expires_at,
        refresh_token: encode_token(org, &refresh),
        refresh_expires_at,
    })
}

/// A claimed login try (see the module documentation).
#[derive(sqlx::FromRow)]
struct LoginRow {
    id: UserId,
    active: bool,
    password_hash: Option<String>,
    /// This try used up the last one and locked the account.
    locking: bool,
}

impl Crm {
    /// Logs a user of `org` in with e-mail address and password and starts a session.
    ///
    /// Fails with `PermissionDenied(`[`LOGIN_FAILED`]`)` for an unknown address, a wrong
    /// password and a locked account alike (see the module documentation), and with
    /// `PermissionDenied` naming the deactivation when the password is right but the account
    /// is deactivated.
    pub async fn login(&self, org: OrgId, email: &str, password: &str) -> Result<Session> {
        // Longer than any password we accept: refused before hashing, with the same answer.
        if password.len() > 4 * password::MAX_LENGTH
            || password.chars().count() > password::MAX_LENGTH
        {
            return Err(invalid_credentials());
        }
        let email_norm = email.trim().to_lowercase();
        let claimed = self.claim_try(org, &email_norm).await?;

        // Unknown, locked, or without a password: the same work as a wrong password, so
        // neither the answer nor its timing tells these apart.
        let stored = claimed.as_ref().and_then(|c| c.password_hash.clone());
        let matches = password::verify_async(
            password.to_string(),
            stored
                .clone()
                .unwrap_or_else(|| password::DUMMY_HASH.to_string()),
        )
        .await?
            && stored.is_some();
        let Some(user) = claimed else {
            return Err(invalid_credentials());
        };
        if !matches {
            if user.locking {
                self.record_lock(org, user.id).await;
            }
            return Err(invalid_credentials());
        }
        if !user.active {
            return Err(Error::PermissionDenied(
                "this account is deactivated".into(),
            ));
        }
        let stored = stored.unwrap_or_default();
        let rehashed = if password::needs_rehash(&stored) {
            Some(password::rehash_async(password.to_string()).await?)
        } else {
            None
        };

        self.start_session(org, user.id, &stored, rehashed).await
    }

    /// Claims a login try for the address: counts it as failed until the password proves
    /// right, and locks the account when it is the last one, in one statement. The row lock
    /// the update takes serialises parallel attempts, so no more than MAX_FAILED_LOGINS get
    /// through. `None` when no unlocked account has the address.
    async fn claim_try(&self, org: OrgId, email_norm: &str) -> Result<Option<LoginRow>> {
        let mut tx = self.pool().begin().await?;
        enter(&mut tx, org, None).await?;
        let claimed: Option<LoginRow> = sqlx::query_as(
            "update users set \
                 failed_logins = case when failed_logins + 1 >= $3 then 0 \
                                      else failed_logins + 1 end, \
                 locked_until = case when failed_logins + 1 >= $3 \
                                     then now() + make_interval(secs => $4) end \
             where org_id = $1 and email_norm = $2 \
               and (locked_until is null or locked_until <= now()) \
             returning id, active and deleted_at is null as active, password_hash, \
                       locked_until is not null as locking",
        )
        .bind(org)
        .bind(email_norm)
        .bind(MAX_FAILED_LOGINS)
        .bind(LOCK_DURATION.as_secs_f64())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Starts the session of a user whose password (`stored`, to be replaced by `rehashed`)
    /// proved right, and records the login.
    async fn start_session(
        &self,
        org: OrgId,
        user: UserId,
        stored: &str,
        rehashed: Option<String>,
    ) -> Result<Session> {
        let mut tx = self.pool().begin().await?;
        enter(&mut tx, org, Some(user)).await?;
        // Checked again under the row lock: the account may have been deactivated or given a
        // new password while the password was being verified. The lock is lifted: this try
        // was a claimed one and proved the password.
        let role: Option<UserRole> = sqlx::query_scalar(
            "update users set failed_logins = 0, locked_until = null, last_login_at = now(), \
                              password_hash = coalesce($4, password_hash) \
             where org_id = $1 and id = $2 and active and deleted_at is null \
               and password_hash = $3 \
             returning role",
        )
        .bind(org)
        .bind(user)
        .bind(stored)
        .bind(rehashed)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(role) = role else {
            return Err(invalid_credentials());
        };
        // Housekeeping: sessions whose refresh token expired a day ago are of no use, not
        // even for reuse detection.
        sqlx::query(
            "delete from sessions where org_id = $1 and user_id = $2 \
             and refresh_expires_at < now() - interval '1 day'",
        )
        .bind(org)
        .bind(user)
        .execute(&mut *tx)
        .await?;
        let family = Uuid::now_v7();
        let session = issue(&mut tx, org, user, role, family).await?;
        record(
            &mut tx,
            user,
            "login",
            "user.logged_in",
            serde_json::json!({ "id": user, "family_id": family }),
        )
        .await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Audits that a failed try locked an account (no personal data). Best effort: the
    /// lock itself is already in place, and the answer to the login stays the same.
    async fn record_lock(&self, org: OrgId, user: UserId) {
        let result: Result<()> = async {
            let mut tx = self.pool().begin().await?;
            enter(&mut tx, org, None).await?;
            record(
                &mut tx,
                user,
                "lock",
                "user.locked",
                serde_json::json!({ "id": user }),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        // A failure here must not change the answer (nor reveal that this try locked).
        drop(result);
    }

    /// Checks an access token and returns who it stands for. Fails with
    /// [`Error::PermissionDenied`] when the token is malformed, unknown, expired, revoked,
    /// superseded by a refresh, or its user is deactivated.
    ///
    /// The role is the user's current one; act with `crm.scope(org, user)`.
    pub async fn authenticate(&self, access_token: &str) -> Result<(OrgId, UserId, UserRole)> {
        let (org, secret) = decode_token(access_token).ok_or_else(invalid_token)?;
        let mut tx = self.pool().begin().await?;
        enter(&mut tx, org, None).await?;
        let row: Option<(UserId, UserRole)> = sqlx::query_as(
            "select s.user_id, u.role from sessions s \
             join users u on u.org_id = s.org_id and u.id = s.user_id \
             where s.org_id = $1 and s.access_hash = sha256($2) \
               and s.revoked_at is null and s.rotated_at is null \
               and s.access_expires_at > now() \
               and u.active and u.deleted_at is null",
        )
        .bind(org)
        .bind(&secret[..])
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let (user, role) = row.ok_or_else(invalid_token)?;
        Ok((org, user, role))
    }

    /// Exchanges a refresh token for a new session (new access and refresh tokens); the old
    /// pair stops working. A refresh token that was already exchanged revokes every session
    /// of its login and fails: it was copied, and either copy may be the thief's.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Session> {
        let (org, secret) = decode_token(refresh_token).ok_or_else(invalid_token)?;
        let mut tx = self.pool().begin().await?;
        enter(&mut tx, org, None).await?;
        #[derive(sqlx::FromRow)]
        struct Row {
            id: Uuid,
            user_id: UserId,
            family_id: Uuid,
            rotated: bool,
            usable: bool,
            role: UserRole,
        }
        let row: Option<Row> = sqlx::query_as(
            "select s.id, s.user_id, s.family_id, s.rotated_at is not null as rotated, \
                    (s.revoked_at is null and s.refresh_expires_at > now() \
                     and u.active and u.deleted_at is null) as usable, \
                    u.role \
             from sessions s join users u on u.org_id = s.org_id and u.id = s.user_id \
             where s.org_id = $1 and s.refresh_hash = sha256($2) \
             for update of s",
        )
        .bind(org)
        .bind(&secret[..])
        .fetch_optional(&mut *tx)
        .await?;
        let row = row.ok_or_else(invalid_token)?;
        if row.rotated {
            let revoked = sqlx::query(
                "update sessions set revoked_at = now() \
                 where org_id = $1 and family_id = $2 and revoked_at is null",
            )
            .bind(org)
            .bind(row.family_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            record(
                &mut tx,
                row.user_id,
                "session_reuse_detected",
                "user.session_reuse_detected",
                serde_json::json!({
                    "id": row.user_id,
                    "family_id": row.family_id,
                    "sessions_revoked": revoked,
                }),
            )
            .await?;
            tx.commit().await?;
            return Err(Error::PermissionDenied(
                "this refresh token was already used; every session of this login was revoked, \
                 log in again"
                    .into(),
            ));
        }
        if !row.usable {
            return Err(invalid_token());
        }
        sqlx::query("update sessions set rotated_at = now() where org_id = $1 and id = $2")
            .bind(org)
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        let session = issue(&mut tx, org, row.user_id, row.role, row.family_id).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Ends the login an access token belongs to: its session and every session refreshed
    /// from the same login are revoked. A malformed, unknown or already revoked token is
    /// not an error (there is nothing left to end).
    pub async fn logout(&self, access_token: &str) -> Result<()> {
        let Some((org, secret)) = decode_token(access_token) else {
            return Ok(());
        };
        let mut tx = self.pool().begin().await?;
        enter(&mut tx, org, None).await?;
        let ended: Option<(UserId, Uuid)> = sqlx::query_as(
            "select user_id, family_id from sessions \
             where org_id = $1 and access_hash = sha256($2) and revoked_at is null",
        )
        .bind(org)
        .bind(&secret[..])
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((user, family)) = ended {
            enter(&mut tx, org, Some(user)).await?;
            sqlx::query(
                "update sessions set revoked_at = now() \
                 where org_id = $1 and family_id = $2 and revoked_at is null",
            )
            .bind(org)
            .bind(family)
            .execute(&mut *tx)
            .await?;
            record(
                &mut tx,
                user,
                "logout",
                "user.logged_out",
                serde_json::json!({ "id": user, "family_id": family }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Revokes every session of a user ("log out everywhere"); returns how many were still
    /// live. Fails with [`Error::NotFound`] when the user is not in the organization.
    pub async fn logout_everywhere(&self, org: OrgId, user: UserId) -> Result<u64> {
        let mut tx = self.pool().begin().await?;
        enter(&mut tx, org, Some(user)).await?;
        let exists: bool =
            sqlx::query_scalar("select exists(select 1 from users where org_id = $1 and id = $2)")
                .bind(org)
                .bind(user)
                .fetch_one(&mut *tx)
                .await?;
        if !exists {
            return Err(Error::NotFound { entity: "user" });
        }
        let revoked = sqlx::query(
            "update sessions set revoked_at = now() \
             where org_id = $1 and user_id = $2 and revoked_at is null",
        )
        .bind(org)
        .bind(user)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        record(
            &mut tx,
            user,
            "logout_everywhere",
            "user.logged_out_everywhere",
            serde_json::json!({ "id": user, "sessions_revoked": revoked }),
        )
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_malformed_ones_are_refused() {
        let org = OrgId::new();
        let secret = new_secret().unwrap();
        let token = encode_token(org, &secret);
        assert_eq!(token.len(), 32 + 1 + 64);
        assert_eq!(decode_token(&token), Some((org, secret)));
        assert_ne!(new_secret().unwrap(), secret, "secrets are random");
        for bad in [
            "",
            ".",
            "abc.def",
            &token[..token.len() - 1],
            &format!("{token}0"),
            &token.replace('.', ":"),
            &format!("{}.{}", &token[..32], "zz".repeat(32)),
            &format!("{}.{}", "g".repeat(32), &token[33..]),
        ] {
            assert_eq!(decode_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_tokens() {
        let s = Session {
            org_id: OrgId::new(),
            user_id: UserId::new(),
            role: UserRole::User,
            access_token: "secret-access".into(),
            access_expires_at: Utc::now(),
            refresh_token: "secret-refresh".into(),
            refresh_expires_at: Utc::now(),
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("secret-"), "{shown}");
    }
}
