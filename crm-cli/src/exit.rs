//! Exit codes (a contract: scripts rely on them) and error messages.

/// Success.
pub const OK: u8 = 0;
/// Any other error.
pub const ERROR: u8 = 1;
/// Bad command-line usage.
pub const USAGE: u8 = 2;
/// The record does not exist.
pub const NOT_FOUND: u8 = 3;
/// Stale version or duplicate.
pub const CONFLICT: u8 = 4;
/// Input failed validation.
pub const VALIDATION: u8 = 5;
/// The role may not do this.
pub const PERMISSION: u8 = 6;
/// The database cannot be reached or started.
pub const UNAVAILABLE: u8 = 7;

/// An error that carries its own exit code (usage mistakes found after parsing).
#[derive(Debug)]
pub struct Coded {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Coded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Coded {}

/// A usage error found after parsing (exit 2).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Coded {
        code: USAGE,
        message: message.into(),
    }
    .into()
}

/// An error with an explicit exit code.
pub fn coded(code: u8, message: impl Into<String>) -> anyhow::Error {
    Coded {
        code,
        message: message.into(),
    }
    .into()
}

pub fn code_for(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if let Some(c) = cause.downcast_ref::<Coded>() {
            return c.code;
        }
        if let Some(e) = cause.downcast_ref::<crm_core::Error>() {
            use crm_core::Error as E;
            return match e {
                E::NotFound { .. } => NOT_FOUND,
                E::Conflict(_) => CONFLICT,
                E::Validation(_) => VALIDATION,
                E::PermissionDenied(_) => PERMISSION,
                E::Unavailable(_) => UNAVAILABLE,
                E::Tenancy(_) => USAGE,
                _ => ERROR,
            };
        }
    }
    ERROR
}

/// The message: context first, then the library's words.
pub fn message(e: &anyhow::Error) -> String {
    let parts: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    let mut out: Vec<String> = Vec::new();
    for p in parts {
        if !out.iter().any(|o| o.contains(&p)) {
            out.push(p);
        }
    }
    out.join(": ")
}

pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|je| je.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
            || c.downcast_ref::<csv::Error>().is_some_and(|ce| {
                matches!(ce.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
            })
    })
}
