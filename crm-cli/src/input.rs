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

/// Parses a JSON object into `T`; a failure is a validation error on `json` that never
/// quotes the input.
pub fn from_json<T: serde::de::DeserializeOwned>(obj: Map<String, Value>) -> Result<T> {
    serde_json::from_value(Value::Object(obj))
        .map_err(|e| Error::invalid("json", redact(&e.to_string())).into())
}

/// A patch field from a flag and `--clear`: `Some(Some(v))` when given, `Some(None)` when
/// cleared, `None` when left alone.
pub fn set<T>(value: Option<T>, cleared: bool) -> Option<Option<T>> {
    match value {
        Some(v) => Some(Some(v)),
        None if cleared => Some(None),
        None => None,
    }
}

/// A list field from a repeatable flag and `--clear`: the given values, an empty list when
/// cleared, `None` when left alone.
pub fn set_list<T>(values: Vec<T>, cleared: bool) -> Option<Vec<T>> {
    if !values.is_empty() {
        Some(values)
    } else if cleared {
        Some(Vec::new())
    } else {
        None
    }
}

/// Refuses a field that is both given and `--clear`ed (exit 2, naming it). `given` pairs
/// each clearable field with whether its flag was given.
pub fn refuse_given_and_cleared<C>(given: &[(C, bool)], clear: &[C]) -> Result<()>
where
    C: clap::ValueEnum + Copy + PartialEq,
{
    if let Some((c, _)) = given.iter().find(|(c, g)| *g && clear.contains(c)) {
        let name = c
            .to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        return Err(exit::usage(format!(
            "--{name} and --clear {name} contradict each other; give one"
        )));
    }
    Ok(())
}

/// The checks every `edit` makes before reading anything: flags or `--json`, not both;
/// with flags, `--version` and at least one change. `group` names the command group
/// (`contact`) in the messages.
pub fn check_edit(
    group: &str,
    json: bool,
    flags_given: bool,
    at_version: Option<i32>,
) -> Result<()> {
    if json {
        if flags_given {
            return Err(exit::usage(
                "give the change either as flags or as --json, not both",
            ));
        }
        return Ok(());
    }
    if at_version.is_none() {
        return Err(exit::usage(format!(
            "--version N is required: the version you read (`crm {group} show` prints it)"
        )));
    }
    if !flags_given {
        return Err(exit::usage(format!(
            "nothing to change: give the fields to change as flags (see `crm {group} edit \
             --help`) or --json -"
        )));
    }
    Ok(())
}

/// The refusal of an `edit --json` that carries no version: `group` names the command
/// group (`contact`).
pub fn version_required(group: &str) -> anyhow::Error {
    exit::usage(format!(
        "give the version you read: --version N or \"version\" in the JSON (`crm {group} \
         show` prints it)"
    ))
}

/// Takes the display name `key` (`contact`, `company`) out of `obj`: dropped when `id_key`
/// is there too (the output of `deal show`), else returned as a reference to resolve;
/// `Some(None)` for `null`.
pub fn take_reference(
    obj: &mut Map<String, Value>,
    key: &str,
    id_key: &str,
) -> Option<Option<String>> {
    let value = obj.remove(key)?;
    if obj.contains_key(id_key) {
        return None;
    }
    match value {
        Value::String(s) => Some(Some(s)),
        Value::Null => Some(None),
        other => {
            // Let the strict parse report it under its own name.
            obj.insert(key.into(), other);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
    enum Field {
        City,
        PostalCode,
    }

    #[test]
    fn a_flag_sets_clear_empties_and_nothing_leaves_alone() {
        assert_eq!(set(Some(1), false), Some(Some(1)));
        assert_eq!(set::<i32>(None, true), Some(None));
        assert_eq!(set::<i32>(None, false), None);
        assert_eq!(set_list(vec!["a"], false), Some(vec!["a"]));
        assert_eq!(set_list::<&str>(vec![], true), Some(vec![]));
        assert_eq!(set_list::<&str>(vec![], false), None);
    }

    #[test]
    fn a_field_given_and_cleared_is_refused_by_its_flag_name() {
        let given = [(Field::City, false), (Field::PostalCode, true)];
        assert!(refuse_given_and_cleared(&given, &[Field::City]).is_ok());
        let e = refuse_given_and_cleared(&given, &[Field::PostalCode]).unwrap_err();
        assert_eq!(
            exit::message(&e),
            "--postal-code and --clear postal-code contradict each other; give one"
        );
        assert_eq!(exit::code_for(&e), exit::USAGE);
    }

    #[test]
    fn an_edit_takes_flags_or_json_and_flags_need_a_version_and_a_change() {
        assert!(check_edit("deal", true, false, None).is_ok());
        assert!(check_edit("deal", false, true, Some(3)).is_ok());
        let both = check_edit("deal", true, true, Some(3)).unwrap_err();
        assert_eq!(
            exit::message(&both),
            "give the change either as flags or as --json, not both"
        );
        let no_version = check_edit("deal", false, true, None).unwrap_err();
        assert_eq!(
            exit::message(&no_version),
            "--version N is required: the version you read (`crm deal show` prints it)"
        );
        let nothing = check_edit("contact", false, false, Some(3)).unwrap_err();
        assert_eq!(
            exit::message(&nothing),
            "nothing to change: give the fields to change as flags (see `crm contact edit \
             --help`) or --json -"
        );
    }

    #[test]
    fn a_reference_by_name_is_taken_out_unless_its_id_is_there_too() {
        let mut obj: Map<String, Value> =
            serde_json::from_str(r#"{"company": "Muster GmbH", "x": 1}"#).unwrap();
        assert_eq!(
            take_reference(&mut obj, "company", "company_id"),
            Some(Some("Muster GmbH".into()))
        );
        assert!(!obj.contains_key("company"));
        let mut obj: Map<String, Value> =
            serde_json::from_str(r#"{"company": "Muster GmbH", "company_id": "x"}"#).unwrap();
        assert_eq!(take_reference(&mut obj, "company", "company_id"), None);
        let mut obj: Map<String, Value> = serde_json::from_str(r#"{"company": null}"#).unwrap();
        assert_eq!(
            take_reference(&mut obj, "company", "company_id"),
            Some(None)
        );
        let mut obj: Map<String, Value> = serde_json::from_str(r#"{"company": 7}"#).unwrap();
        assert_eq!(take_reference(&mut obj, "company", "company_id"), None);
        assert!(
            obj.contains_key("company"),
            "left for the strict parse to name"
        );
    }
}
