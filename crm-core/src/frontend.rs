//! The set-up every front-end does before its first operation: open the database, check
//! its migrations, choose the organization and the acting user, and hand back a ready
//! [`Scope`]. `crm` and `crm-tui` both start here, so they agree on defaults and errors.
//!
//! ```no_run
//! use crm_core::frontend::{self, ActorChoice, Options};
//!
//! # async fn demo() -> Result<(), frontend::SetupError> {
//! let ready = frontend::start(&Options {
//!     database_url: std::env::var("DATABASE_URL").ok(),
//!     organization: std::env::var("CRM_ORG").ok(),
//!     actor: std::env::var("CRM_USER")
//!         .map(ActorChoice::Email)
//!         .unwrap_or_default(),
//!     ..Options::default()
//! })
//! .await?;
//! let tx = ready.scope.begin().await?;
//! tx.commit().await?;
//! # Ok(()) }
//! ```
//!
//! The steps are public too ([`open_database`], [`choose_organization`],
//! [`choose_actor`]), for a front-end that wants to offer a picker between them: when
//! several organizations exist and none was named, [`SetupError::SeveralOrganizations`]
//! carries the list.

use std::fmt;
use std::path::PathBuf;

use crate::domain::UserRole;
use crate::{Crm, Error, LocalCluster, Organization, Scope, UserId};

/// What a front-end was told about where and as whom to work.
#[derive(Clone, Default)]
pub struct Options {
    /// A PostgreSQL URL (`--database-url` / `DATABASE_URL`). `None` or empty: the local
    /// embedded cluster.
    pub database_url: Option<String>,
    /// The local cluster's data directory; `None`: [`LocalCluster::default_home`]
    /// (`CRM_HOME` or the user's data directory).
    pub home: Option<PathBuf>,
    /// The organization's slug (`--org` / `CRM_ORG`); `None`: the only organization.
    pub organization: Option<String>,
    /// Who acts.
    pub actor: ActorChoice,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: only say whether one was given.
        f.debug_struct("Options")
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field("home", &self.home)
            .field("organization", &self.organization)
            .field("actor", &self.actor)
            .finish()
    }
}

/// How the acting user is chosen.
#[derive(Clone, Default)]
pub enum ActorChoice {
    /// The organization's first active owner (an admin at their own machine).
    #[default]
    FirstOwner,
    /// The active user with this e-mail address (`--as` / `CRM_USER`).
    Email(String),
    /// The user of a logged-in session, named by its access token (see
    /// [`Crm::login`]); the session also names the organization.
    Session(String),
}

impl fmt::Debug for ActorChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Neither the address (personal data) nor the token (a secret) is shown.
        f.write_str(match self {
            Self::FirstOwner => "FirstOwner",
            Self::Email(_) => "Email(<redacted>)",
            Self::Session(_) => "Session(<redacted>)",
        })
    }
}

/// The acting user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActorInfo {
    /// The user's id.
    pub id: UserId,
    /// The user's role when the set-up ran.
    pub role: UserRole,
}

/// A front-end ready to work: the handle, the organization, the actor and their scope.
#[derive(Debug, Clone)]
pub struct Ready {
    /// The database handle.
    pub crm: Crm,
    /// The chosen organization.
    pub organization: Organization,
    /// The acting user.
    pub actor: ActorInfo,
    /// `crm.scope(organization.id, actor.id)`.
    pub scope: Scope,
}

/// Why the set-up failed. Messages name the problem and the command that fixes it; they
/// never quote an e-mail address or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The database at the URL has migrations that are not applied yet.
    #[error("the database has {count} pending migration(s); run `crm db migrate` first")]
    PendingMigrations {
        /// How many migrations are pending.
        count: usize,
    },
    /// The local cluster could not be created, started or migrated.
    #[error("local cluster in {}: {source}", home.display())]
    LocalCluster {
        /// Its data directory.
        home: PathBuf,
        /// What went wrong.
        #[source]
        source: Error,
    },
    /// No organization exists yet.
    #[error(
        "there is no organization yet; create one with `crm init --org NAME --admin-email EMAIL` or `crm demo`"
    )]
    NoOrganization,
    /// No organization has the slug that was given.
    #[error("no organization with slug '{slug}'; `crm org list` shows them")]
    UnknownOrganization {
        /// The slug that was given.
        slug: String,
    },
    /// Several organizations exist and none was named: offer these to choose from.
    #[error(
        "there are {} organizations; choose one by its slug (`crm org list` shows them)",
        organizations.len()
    )]
    SeveralOrganizations {
        /// Every organization, by name.
        organizations: Vec<Organization>,
    },
    /// No active user of the organization has the e-mail address that was given.
    #[error("no user with that e-mail in organization '{org_slug}'")]
    UnknownUser {
        /// The organization's slug.
        org_slug: String,
    },
    /// The session's organization is not the one that was named.
    #[error("the session belongs to another organization than '{org_slug}'")]
    SessionElsewhere {
        /// The organization that was named.
        org_slug: String,
    },
    /// Any other failure of the library (unreachable database, invalid session token,
    /// deactivated user, organization without an owner, ...).
    #[error(transparent)]
    Core(#[from] Error),
}

/// Opens the database: the URL of `options` (which must be fully migrated), else the
/// local cluster in `options.home`, created, started and migrated as needed.
pub async fn open_database(options: &Options) -> Result<Crm, SetupError> {
    match options.database_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => {
            let crm = Crm::connect(url).await?;
            let count = crm
                .migration_status()
                .await?
                .iter()
                .filter(|m| m.applied_at.is_none())
                .count();
            if count > 0 {
                return Err(SetupError::PendingMigrations { count });
            }
            Ok(crm)
        }
        None => {
            let home = options
                .home
                .clone()
                .unwrap_or_else(LocalCluster::default_home);
            Crm::open_local(&home)
                .await
                .map_err(|source| SetupError::LocalCluster { home, source })
        }
    }
}

/// The organization with `slug`, else the only one.
pub async fn choose_organization(
    crm: &Crm,
    slug: Option<&str>,
) -> Result<Organization, SetupError> {
    if let Some(slug) = slug {
        return crm.organization_by_slug(slug).await.map_err(|e| match e {
            Error::NotFound { .. } => SetupError::UnknownOrganization { slug: slug.into() },
            e => e.into(),
        });
    }
    let mut organizations = crm.organizations().await?;
    match organizations.len() {
        0 => Err(SetupError::NoOrganization),
        1 => Ok(organizations.remove(0)),
        _ => Err(SetupError::SeveralOrganizations { organizations }),
    }
}

/// The acting user of `org` as `choice` names them. A session must belong to `org`.
pub async fn choose_actor(
    crm: &Crm,
    org: &Organization,
    choice: &ActorChoice,
) -> Result<ActorInfo, SetupError> {
    match choice {
        ActorChoice::FirstOwner => Ok(ActorInfo {
            id: crm.first_owner(org.id).await?,
            role: UserRole::Owner,
        }),
        ActorChoice::Email(email) => match crm.user_by_email(org.id, email).await {
            Ok((id, role)) => Ok(ActorInfo { id, role }),
            Err(Error::NotFound { .. }) => Err(SetupError::UnknownUser {
                org_slug: org.slug.clone(),
            }),
            Err(e) => Err(e.into()),
        },
        ActorChoice::Session(token) => {
            let (session_org, id, role) = crm.authenticate(token).await?;
            if session_org != org.id {
                return Err(SetupError::SessionElsewhere {
                    org_slug: org.slug.clone(),
                });
            }
            Ok(ActorInfo { id, role })
        }
    }
}

/// Runs every step: opens the database, chooses the organization (for a session: the
/// session's, which must match a slug given too) and the actor, and returns their scope.
pub async fn start(options: &Options) -> Result<Ready, SetupError> {
    let crm = open_database(options).await?;
    let organization = match (&options.actor, options.organization.as_deref()) {
        (ActorChoice::Session(token), None) => {
            let (org_id, _, _) = crm.authenticate(token).await?;
            crm.organizations()
                .await?
                .into_iter()
                .find(|o| o.id == org_id)
                .ok_or(Error::NotFound {
                    entity: "organization",
                })?
        }
        (_, slug) => choose_organization(&crm, slug).await?,
    };
    let actor = choose_actor(&crm, &organization, &options.actor).await?;
    let scope = crm.scope(organization.id, actor.id);
    Ok(Ready {
        crm,
        organization,
        actor,
        scope,
    })
}
