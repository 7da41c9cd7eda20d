//! Reading what people give the CLI: one JSON object from a file or stdin.

use std::io::Read as _;

use anyhow::Result;
use crm_core::Error;
use serde_json::{Map, Value};

use crate::exit;

/// Reads one JSON object from `source` (`-` is stdin).
pub fn read_json(source: &str) -> Result<Map<String, Value>> {
    let mut text = String::new();
    if source == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(source)
            .map_err(|e| exit::coded(exit::ERROR, format!("cannot read {source}: {e}")))?;
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::invalid("json", "must be one JSON object").into()),
        Err(e) => Err(Error::invalid("json", redact(&e.to_string())).into()),
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
