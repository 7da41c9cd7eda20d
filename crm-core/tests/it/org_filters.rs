//! Every statement of the library that reads or writes a tenant table names `org_id` for it
//! (issue 20): Citus routes a statement to one tenant's shard only by an explicit filter on
//! the distribution column; the filter the row-level policy adds is not enough (Citus then
//! asks every shard: still confined by the policy, but slower with every node).
//!
//! A static check over the SQL text of the library's sources (crm-core, crm-lexware, and
//! the front-ends, which should have none): each string literal that is a statement (it
//! starts with `select`, `with`, `insert`, `update` or `delete`; `{CONST}` placeholders of
//! the file's string constants spliced in) is scanned for references to tenant tables
//! (`from`, `join`, `update`, `into`), and
//! * each reference must be constrained by `org_id`: `alias.org_id` (or `table.org_id`) for
//!   an aliased table, an unqualified `org_id` comparison per unaliased table, the `org_id`
//!   column in an `insert`;
//! * a whole statement (one with a `where` of its own) must compare some `org_id` with a
//!   parameter or the transaction's tenant, the value Citus routes by.
//!
//! Not seen: SQL whose table names are `format!` placeholders (merge and unmerge of
//! `dedupe`, the organization export), and the SQL inside the migrations' functions (the
//! privileged ones are checked by `citus::privileged_functions_read_only_...`).

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use crm_core::testing::TestDb;

/// The string literals of Rust source `src`, as their text (escapes and line continuations
/// resolved as far as SQL cares), with the line each starts on.
fn string_literals(src: &str) -> Vec<(usize, String)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < b.len() {
        match b[i] {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' => {
                // A char literal ('x', '\n', '\'', '"'), else a lifetime.
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                    i += 1;
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let start = j + 1;
                let close: String = format!("\"{}", "#".repeat(hashes));
                let end = src[start..].find(&close).map_or(b.len(), |e| start + e);
                let text = &src[start..end];
                out.push((line, text.to_string()));
                line += text.matches('\n').count();
                i = end + close.len();
            }
            b'"' => {
                let start_line = line;
                let mut text = String::new();
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        match b.get(i + 1) {
                            Some(b'\n') => {
                                // A line continuation: the newline and the next line's
                                // leading blanks go.
                                line += 1;
                                i += 2;
                                while i < b.len() && b[i].is_ascii_whitespace() {
                                    if b[i] == b'\n' {
                                        line += 1;
                                    }
                                    i += 1;
                                }
                                continue;
                            }
                            Some(b'n') => text.push('\n'),
                            Some(c) => text.push(*c as char),
                            None => {}
                        }
                        i += 2;
                        continue;
                    }
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    // Multi-byte characters only matter as non-SQL text.
                    text.push(if b[i].is_ascii() { b[i] as char } else { ' ' });
                    i += 1;
                }
                i += 1;
                out.push((start_line, text));
            }
            _ => i += 1,
        }
    }
    out
}

/// The `const NAME: &str = "..."` of `src`: format strings splice them in as `{NAME}`.
fn string_consts(src: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, _) in src.match_indices("const ") {
        let rest = &src[k + 6..];
        let Some((name, tail)) = rest.split_once(": &str = ") else {
            continue;
        };
        if !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            continue;
        }
        if let Some((_, value)) = string_literals(tail).into_iter().next() {
            out.push((name.to_string(), value));
        }
    }
    out
}

/// The lowercase words and punctuation of `sql`, in order.
fn tokens(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in sql.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$' {
            word.push(c.to_ascii_lowercase());
        } else {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Words that follow a table reference without being its alias.
const NOT_ALIAS: &[&str] = &[
    "where",
    "set",
    "on",
    "using",
    "join",
    "left",
    "right",
    "inner",
    "outer",
    "cross",
    "full",
    "natural",
    "order",
    "group",
    "limit",
    "returning",
    "values",
    "select",
    "union",
    "for",
    "lateral",
    "tablesample",
    "default",
    "except",
    "intersect",
    "having",
    "window",
    "offset",
    "do",
    "when",
    "then",
    "end",
    "as",
    "and",
    "or",
];

/// The references of statement `sql` to the tables in `tenant` that no `org_id` constrains.
fn unconstrained(sql: &str, tenant: &HashSet<String>) -> Vec<String> {
    let t = tokens(sql);
    let mut bad = Vec::new();
    let qualified: HashSet<&str> = t.iter().filter_map(|w| w.strip_suffix(".org_id")).collect();
    // Unqualified org_id in a comparison (a selected org_id column constrains nothing).
    let unqualified = t
        .iter()
        .enumerate()
        .filter(|(k, w)| {
            *w == "org_id"
                && (matches!(t.get(k + 1).map(String::as_str), Some("=" | "in"))
                    || (*k > 0 && t[k - 1] == "="))
        })
        .count();
    let mentioned = t.iter().any(|w| w == "org_id");
    let mut unaliased = 0;
    for (k, w) in t.iter().enumerate() {
        let intro = matches!(w.as_str(), "from" | "join" | "update" | "into");
        if !intro {
            continue;
        }
        let mut n = k + 1;
        if t.get(n).map(String::as_str) == Some("only") {
            n += 1;
        }
        let Some(table) = t.get(n) else { continue };
        let table = table.strip_prefix("public.").unwrap_or(table);
        if !tenant.contains(table) {
            continue;
        }
        if w == "into" {
            // An insert: its column list names org_id.
            if !mentioned {
                bad.push(format!("insert into {table} without org_id"));
            }
            continue;
        }
        let mut a = n + 1;
        if t.get(a).map(String::as_str) == Some("as") {
            a += 1;
        }
        let alias = t
            .get(a)
            .filter(|x| {
                x.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !NOT_ALIAS.contains(&x.as_str())
            })
            .map_or(table, String::as_str);
        if qualified.contains(alias) || qualified.contains(table) {
            continue;
        }
        if alias == table {
            unaliased += 1;
            if unaliased <= unqualified {
                continue;
            }
        }
        bad.push(format!("{table} {alias}"));
    }
    // A whole statement (a fragment that a query builder completes has no `where` of its
    // own yet)
    // compares some org_id with a parameter or the transaction's tenant: the value Citus
    // routes by. Join conditions alone (`a.org_id = b.org_id`) route nothing.
    let org_col = |w: &str| w == "org_id" || w.ends_with(".org_id");
    let tenant_value = |w: &str| {
        w.starts_with('$') || w.starts_with("crm_org") || matches!(w, "nullif" | "v_org" | "p_org")
    };
    let anchored = t.windows(3).any(|w| {
        (org_col(&w[0]) && w[1] == "=" && tenant_value(&w[2]))
            || (tenant_value(&w[0]) && w[1] == "=" && org_col(&w[2]))
    });
    let writes_or_reads = t.windows(2).any(|w| {
        matches!(w[0].as_str(), "from" | "join" | "update")
            && tenant.contains(w[1].strip_prefix("public.").unwrap_or(&w[1]))
    });
    let mut depth = 0i32;
    let top_where = t.iter().any(|w| {
        match w.as_str() {
            "(" => depth += 1,
            ")" => depth -= 1,
            _ => {}
        }
        depth == 0 && w == "where"
    });
    if writes_or_reads && !anchored && top_where {
        bad.push("no org_id compared with the tenant".to_string());
    }
    bad
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[tokio::test]
async fn every_statement_of_the_library_on_a_tenant_table_names_org_id() {
    let db = TestDb::new().await;
    let mut owner = db.owner().await;
    let tenant: HashSet<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c \
         join pg_namespace n on n.oid = c.relnamespace \
         join pg_attribute a on a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped \
         where c.relkind in ('r', 'p') and n.nspname = 'public'",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert!(tenant.contains("contacts"));

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in [
        "crm-core/src",
        "crm-lexware/src",
        "crm-cli/src",
        "crm-tui/src",
    ] {
        rust_files(&root.join(krate), &mut files);
    }
    // Statements that read every organization on purpose, as the schema owner.
    let everyone = [
        // Saving the erasure receipts of every organization before a restore.
        ("crm-core/src/gdpr/reapply.rs", "erasure_keys"),
        ("crm-core/src/gdpr/reapply.rs", "erasure_receipts"),
    ];
    let mut statements = 0;
    let mut bad = BTreeSet::new();
    for file in &files {
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        // Test support and unit tests write rows as the owner on purpose.
        if name.ends_with("testing.rs") || name.ends_with("tests.rs") {
            continue;
        }
        let src = std::fs::read_to_string(file).unwrap();
        let src = src.split("#[cfg(test)]\nmod ").next().unwrap_or_default();
        let consts = string_consts(src);
        for (line, text) in string_literals(src) {
            let text = consts.iter().fold(text, |t, (name, value)| {
                t.replace(&format!("{{{name}}}"), value)
            });
            let head = text.trim_start().to_ascii_lowercase();
            if !["select", "with", "insert", "update", "delete"]
                .iter()
                .any(|k| head.starts_with(k))
            {
                continue;
            }
            statements += 1;
            let lower = text.to_ascii_lowercase();
            if everyone
                .iter()
                .any(|(f, table)| name == *f && lower.contains(&format!("from {table}")))
            {
                continue;
            }
            for miss in unconstrained(&text, &tenant) {
                bad.insert(format!("{name}:{line}: {miss}"));
            }
        }
    }
    assert!(statements > 300, "only {statements} statements found");
    let bad: Vec<String> = bad.into_iter().collect();
    assert!(
        bad.is_empty(),
        "{} statements read or write a tenant table without naming org_id:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn the_scanner_sees_what_it_must() {
    let tenant: HashSet<String> = ["contacts", "contact_emails", "deals"]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
    let ok = [
        "select id from contacts where org_id = $1 and id = $2",
        "select c.id from contacts c join contact_emails e on e.org_id = c.org_id \
         and e.contact_id = c.id where c.org_id = $1",
        "update contacts set deleted_at = now() where org_id = $1 and id = $2",
        "insert into deals (org_id, id) values ($1, $2)",
        "delete from contact_emails where org_id = $1 and contact_id = any($2)",
        "select x from organizations where id = $1",
    ];
    for sql in ok {
        assert!(unconstrained(sql, &tenant).is_empty(), "{sql}");
    }
    let bad = [
        "select id from contacts where id = $1",
        "select c.id from contacts c join contact_emails e on e.contact_id = c.id \
         where c.org_id = $1",
        "update deals d set title = $2 where d.id = $1",
        "select id from contacts where org_id = $1 and id in (select contact_id from contact_emails)",
        "select org_id, id from contacts where id = $1",
        "select c.id from contacts c join contact_emails e on e.org_id = c.org_id \
         and e.contact_id = c.id where c.id = $1",
    ];
    for sql in bad {
        assert!(!unconstrained(sql, &tenant).is_empty(), "{sql}");
    }
    let lits = string_literals(
        "let a = 'x'; let b = \"select \\\n     1 from \\\"q\\\"\"; // \"no\"\nlet c = r#\"raw \"x\"\"#;",
    );
    let texts: Vec<&str> = lits.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(texts, ["select 1 from \"q\"", "raw \"x\""]);
}
