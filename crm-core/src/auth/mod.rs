//! Authentication and authorization: password hashing, the permission table, users with
//! their roles, teams and record visibility ([`user`]), the time zone times are read in
//! ([`zone`]), and sessions for embedding applications ([`session`]).

pub mod password;
pub mod session;
pub mod user;
pub mod zone;

pub use session::Session;
pub use user::{NewUser, Team, User, Visibility};

use crate::domain::UserRole;

/// Something an actor can be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Permission {
    /// Read contacts, companies, deals, activities and the organization's lists.
    Read,
    /// Create and change contacts, companies, deals and activities.
    Write,
    /// Soft-delete and restore records.
    Delete,
    /// Change pipelines, stages and admin-configurable lists.
    Configure,
    /// Bulk import.
    Import,
    /// Bulk export and subject export.
    Export,
    /// Read the audit log and verify it.
    ReadAudit,
    /// Add users, change roles, deactivate users.
    ManageUsers,
    /// Erase a person (GDPR Art. 17), purge by retention, delete the organization.
    Erase,
}

impl Permission {
    /// Every permission, for tables and tests.
    pub const ALL: &'static [Permission] = &[
        Permission::Read,
        Permission::Write,
        Permission::Delete,
        Permission::Configure,
        Permission::Import,
        Permission::Export,
        Permission::ReadAudit,
        Permission::ManageUsers,
        Permission::Erase,
    ];
}

/// The permission table: whether `role` may do `permission`.
///
/// | role      | read | write | delete | configure | import | export | audit | users | erase |
/// |-----------|------|-------|--------|-----------|--------|--------|-------|-------|-------|
/// | owner     | ✓    | ✓     | ✓      | ✓         | ✓      | ✓      | ✓     | ✓     | ✓     |
/// | admin     | ✓    | ✓     | ✓      | ✓         | ✓      | ✓      | ✓     | ✓     | ✓     |
/// | manager   | ✓    | ✓     | ✓      | ✓         | ✓      | ✓      | ✓     |       |       |
/// | user      | ✓    | ✓     | ✓      |           |        |        |       |       |       |
/// | read_only | ✓    |       |        |           |        |        |       |       |       |
pub fn allows(role: UserRole, permission: Permission) -> bool {
    use Permission as P;
    match role {
        UserRole::Owner | UserRole::Admin => true,
        UserRole::Manager => !matches!(permission, P::ManageUsers | P::Erase),
        UserRole::User => matches!(permission, P::Read | P::Write | P::Delete),
        UserRole::ReadOnly => matches!(permission, P::Read),
    }
}
