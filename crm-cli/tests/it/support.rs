//! Running `crm` against a test database.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crm_core::testing::TestDb;

/// What a `crm` run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code; stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `crm` with `args` against `db` (or with no database URL when `db` is `None`),
/// feeding `stdin`.
pub fn crm_with(db: Option<&TestDb>, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crm"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("CRM_ORG")
        .env_remove("CRM_USER")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(db) = db {
        cmd.env("DATABASE_URL", db.url());
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start crm");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).ok();
    }
    let out = child.wait_with_output().expect("wait for crm");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `crm` against `db` with JSON output.
pub fn crm(db: &TestDb, args: &[&str]) -> Run {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    crm_with(Some(db), &all, "", &[])
}
