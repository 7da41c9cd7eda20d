//! How the columns of a file map to fields (detected format, headers, `--map`).

use std::collections::HashSet;

use super::Field;
use crate::error::{Error, Result};
use crate::import::formats::{self, Format, Role};
use crate::import::{ImportOptions, MappingEntry};

/// How the columns of a file map to fields.
#[derive(Debug, Clone)]
pub(super) struct Columns {
    pub(super) fields: Vec<Option<Field>>,
    pub(super) roles: Vec<Option<Role>>,
    pub(super) headers: Vec<String>,
    pub(super) unknown: Vec<usize>,
    pub(super) format: Format,
}

impl Columns {
    pub(super) fn new(
        headers: Vec<String>,
        opts: &ImportOptions,
        from: Option<Format>,
    ) -> Result<Self> {
        let format = from.unwrap_or_else(|| formats::detect(&headers));
        let mut roles: Vec<Option<Role>> = if format == Format::Generic {
            generic_fields(&headers)
                .into_iter()
                .map(|f| f.map(Role::Field))
                .collect()
        } else {
            formats::roles(format, &headers)
        };
        for (col, f) in &opts.mappings {
            let field = Field::from_name(f).ok_or_else(|| {
                Error::invalid(
                    "map",
                    format!("unknown field '{f}'; fields are: {}", field_names()),
                )
            })?;
            let Some(i) = headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(col.trim()))
            else {
                return Err(Error::invalid(
                    "map",
                    format!("the file has no column '{col}'"),
                ));
            };
            roles[i] = Some(Role::Field(field));
        }
        let fields: Vec<Option<Field>> = roles
            .iter()
            .map(|r| r.map(Role::field).filter(|f| *f != Field::Ignore))
            .collect();
        let unknown = roles
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_none())
            .map(|(i, _)| i)
            .collect();
        let has = |f: Field| fields.contains(&Some(f));
        if !(has(Field::FirstName)
            || has(Field::LastName)
            || has(Field::FullName)
            || has(Field::Email)
            || has(Field::EmailHome)
            || has(Field::EmailOther))
        {
            return Err(Error::invalid(
                "header",
                "no name or e-mail column found; name them (Vorname, Nachname, E-Mail, ...), name the tool with --from FORMAT (see `crm import formats`) or use --map COLUMN=FIELD",
            ));
        }
        Ok(Self {
            fields,
            roles,
            headers,
            unknown,
            format,
        })
    }

    pub(super) fn has(&self, f: Field) -> bool {
        self.fields.contains(&Some(f))
    }

    /// The summary's mapping: every understood column with the field it goes to.
    pub(super) fn mapping(&self) -> Vec<MappingEntry> {
        self.roles
            .iter()
            .zip(&self.headers)
            .filter_map(|(r, h)| {
                r.map(|r| MappingEntry {
                    column: h.clone(),
                    field: r.describe(),
                })
            })
            .collect()
    }
}

/// The fields of a generic file's columns: a second e-mail column is the second e-mail, a
/// second phone column the mobile; further columns for one field are unknown.
fn generic_fields(headers: &[String]) -> Vec<Option<Field>> {
    let mut taken: HashSet<Field> = HashSet::new();
    headers
        .iter()
        .map(|h| {
            let field = match Field::from_header(h) {
                Some(f) if taken.contains(&f) => {
                    if f == Field::Email && !taken.contains(&Field::Email2) {
                        Some(Field::Email2)
                    } else if f == Field::Phone && !taken.contains(&Field::Mobile) {
                        Some(Field::Mobile)
                    } else {
                        None
                    }
                }
                f => f,
            };
            if let Some(f) = field {
                taken.insert(f);
            }
            field
        })
        .collect()
}

fn field_names() -> String {
    Field::ALL
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}
