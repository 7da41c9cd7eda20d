//! Reading what people give the CLI: one JSON object from a file or stdin.

use std::io::Read as _;

use anyhow::Result;
use crm_core::Error;
use serde_json::{Map, Value};

use crate::exit;

/// The largest JSON input read, in bytes (one record is far smaller).
pub const MAX_JSON_BYTES: u64 = 1 << 20;

/// Reads one JSON object from `source` (`-` is stdin), at most [`MAX_JSON_BYTES`]. A NUL
/// character anywhere in it is invalid data (PostgreSQL stores no NUL in text).
pub fn read_json(source: &str) -> Result<Map<String, Value>> {
    let mut bytes = Vec::new();
    let read = if source == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_JSON_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(source).and_then(|f| f.take(MAX_JSON_BYTES + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| exit::coded(exit::ERROR, format!("cannot read {source}: {e}")))?;
    if bytes.len() as u64 > MAX_JSON_BYTES {
        return Err(Error::invalid(
            "json",
            format!("is larger than {} MiB", MAX_JSON_BYTES >> 20),
        )
        .into());
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(Error::invalid("json", "is not valid UTF-8").into());
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => {
            if let Some(path) = nul_in(&Value::Object(m.clone()), "") {
                return Err(Error::invalid(
                    if path.is_empty() {
                        "json".to_string()
                    } else {
                        path
                    },
                    "contains a NUL character (\\u0000)",
                )
                .into());
            }
            Ok(m)
        }
        Ok(_) => Err(Error::invalid("json", "must be one JSON object").into()),
        Err(e) => Err(Error::invalid("json", redact(&e.to_string())).into()),
    }
}

/// The path (`phones[0].number`) of the first key or string holding a NUL character.
fn nul_in(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::String(s) => s.contains('\0').then(|| path.to_string()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_in(x, &format!("{path}[{i}]"))),
        Value::Object(m) => m.iter().find_map(|(k, x)| {
            let key = if k.contains('\0') {
                "(a key)".to_string()
            } else {
                k.clone()
            };
            let p = if path.is_empty() {
                key
            } else {
                format!("{path}.{key}")
            };
            if k.contains('\0') {
                Some(p)
            } else {
                nul_in(x, &p)
            }
        }),
        _ => None,
    }
}

/// A serde message without the quoted input values it may contain (they may be personal
/// data); field names, quoted with backticks, stay.
pub fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        if c == '"' {
            if !quoted {
                out.push_str("\"…\"");
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}
