//! The one error type of the library, and the mapping of database errors onto it.

use std::fmt;

/// Result alias used across crm-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One problem with one input field. Messages never contain the offending value, so a
/// `FieldError` is safe to log even when the field holds personal data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field's name as the API and the CLI call it (`email`, `vat_id`, ...).
    pub field: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl FieldError {
    /// A new field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every field error of one input, collected so that a caller sees all of them at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one problem.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Runs a parse step, recording its error under `field` and returning the value if it
    /// succeeded.
    pub fn check<T, E: fmt::Display>(
        &mut self,
        field: &str,
        result: std::result::Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when empty, otherwise a [`Error::Validation`] carrying every error.
    pub fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self))
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in crm-core. Messages name the problem without quoting
/// personal data, so they are safe to show and to log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The record does not exist in this organization (or is not visible to the actor).
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for (`contact`, `deal`, ...).
        entity: &'static str,
    },
    /// The input broke one or more rules; every problem is listed.
    #[error("invalid input: {0}")]
    Validation(FieldErrors),
    /// The change collides with the stored state: a stale version or a duplicate.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The actor's role does not allow the operation.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The organization or actor is missing, unknown or inactive.
    #[error("tenancy: {0}")]
    Tenancy(String),
    /// The database cannot be reached or started.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other database failure (the text never contains row data).
    #[error("database error: {0}")]
    Database(String),
    /// A file or process could not be read, written or run.
    #[error("{0}")]
    Io(String),
}

impl Error {
    /// A validation error about one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = FieldErrors::new();
        e.add(field, message);
        Error::Validation(e)
    }

    /// A stale-version conflict for an entity.
    pub fn stale(entity: &str) -> Self {
        Error::Conflict(format!(
            "the {entity} was changed by someone else since it was read; reload it and retry"
        ))
    }
}

/// Maps a named constraint to a user-facing error. Constraint names are part of the schema
/// (see `migrations/`); unknown ones fall back to a generic conflict or validation error.
fn constraint_error(code: &str, constraint: &str) -> Error {
    let known: Option<(&str, &str)> = match constraint {
        "contacts_email_unique" => {
            Some(("email", "another contact already has this e-mail address"))
        }
        "companies_vat_unique" => Some(("vat_id", "another company already has this VAT id")),
        "users_email_unique" => Some(("email", "a user with this e-mail already exists")),
        "organizations_slug_key" => Some(("slug", "an organization with this slug already exists")),
        "deals_lost_needs_reason" => Some(("lost_reason", "a lost deal needs a lost reason")),
        "pipelines_one_default" => Some((
            "is_default",
            "the organization already has a default pipeline",
        )),
        "stages_position_unique" => Some(("position", "another stage already has this position")),
        "tags_name_unique" => Some(("name", "a tag with this name already exists")),
        "teams_name_unique" => Some(("name", "a team with this name already exists")),
        "pipelines_name_unique" => Some(("name", "a pipeline with this name already exists")),
        "stages_name_unique" => Some(("name", "the pipeline already has a stage with this name")),
        "deals_reason_only_when_lost" => {
            Some(("lost_reason", "only a lost deal can have a lost reason"))
        }
        "deals_closed_has_time" => Some((
            "closed_at",
            "a won or lost deal has a close time and an open deal has none",
        )),
        "activities_needs_link" => Some(("activity", "link it to a contact, company or deal")),
        _ => None,
    };
    match (code, known) {
        ("23505", Some((_, msg))) => Error::Conflict(msg.to_string()),
        (_, Some((field, msg))) => Error::invalid(field, msg),
        ("23505", None) => Error::Conflict(format!("duplicate value ({constraint})")),
        ("23503", None) => Error::invalid(
            constraint.split('_').next().unwrap_or("reference"),
            format!("refers to a record that does not exist in this organization ({constraint})"),
        ),
        _ => Error::invalid("record", format!("violates rule {constraint}")),
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => Error::NotFound { entity: "record" },
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.to_string()).unwrap_or_default();
                match (code.as_str(), db.constraint()) {
                    ("23505" | "23503" | "23514" | "23502" | "23P01", Some(c)) => {
                        constraint_error(&code, c)
                    }
                    ("40001" | "40P01", _) => Error::Conflict(
                        "the change collided with a concurrent one; retry".to_string(),
                    ),
                    ("42501", _) => Error::PermissionDenied(
                        "the database refused the operation for this organization".to_string(),
                    ),
                    // Only the SQLSTATE: the server's message may quote row values.
                    _ => Error::Database(format!(
                        "the database refused the operation (SQLSTATE {code})"
                    )),
                }
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => Error::Unavailable(e.to_string()),
            sqlx::Error::Migrate(m) => Error::Database(format!("migration failed: {m}")),
            _ => Error::Database(e.to_string()),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}
