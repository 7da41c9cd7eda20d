//! How the columns of a company or deal file map to fields (by header, German or English;
//! by another tool's header table; by `--map`), and how a record is read with them.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::RecordKind;
use super::companies::CompanyExtra;
use crate::domain::fold_for_search;
use crate::error::{Error, Result};
use crate::ids::ImportRunId;
use crate::import::formats::Format;
use crate::import::formats::companies::{self, CompanyField};
use crate::import::source::field_text;
use crate::import::{ImportOptions, ImportSummary, MappingEntry, TextEncoding};

/// The field a header maps to (the key of the store's JSON input), by kind.
pub(super) fn field_for(kind: RecordKind, header: &str) -> Option<&'static str> {
    let key: String = fold_for_search(header.trim())
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    match kind {
        RecordKind::Companies => company_field(&key),
        RecordKind::Deals => deal_field(&key),
    }
}

/// The company field a folded header names.
fn company_field(key: &str) -> Option<&'static str> {
    Some(match key {
        "name" | "company" | "firma" | "firmenname" | "unternehmen" | "companyname"
        | "organisation" | "organization" => "name",
        "domain" | "domaene" => "domain",
        "website" | "webseite" | "homepage" | "url" | "internet" | "web" => "website",
        "vatid" | "vat" | "ustidnr" | "ustid" | "umsatzsteuerid" | "ustidnummer" | "vatnumber" => {
            "vat_id"
        }
        "taxid" | "steuernummer" | "stnr" => "tax_id",
        "traderegister"
        | "traderegisternumber"
        | "handelsregister"
        | "handelsregisternummer"
        | "hrb"
        | "registernummer" => "trade_register_number",
        "court" | "registergericht" | "amtsgericht" | "traderegistercourt" => {
            "trade_register_court"
        }
        "industry" | "branche" => "industry",
        "accounttype" | "kontotyp" | "typ" | "kundentyp" => "account_type",
        "size" | "groesse" | "unternehmensgroesse" => "size",
        "employees" | "mitarbeiter" | "mitarbeiterzahl" | "anzahlmitarbeiter" => "employees",
        "status" => "status",
        "street" | "strasse" | "adresse" | "address" | "billingstreet" | "anschrift" => {
            "billing_street"
        }
        "postalcode" | "zip" | "zipcode" | "plz" | "postleitzahl" | "billingpostalcode" => {
            "billing_postal_code"
        }
        "city" | "ort" | "stadt" | "billingcity" => "billing_city",
        "country" | "land" | "billingcountry" => "billing_country",
        "email" | "mail" | "emailadresse" => "email",
        "phone" | "telefon" | "tel" | "telefonnummer" => "phone",
        "tags" | "tag" | "schlagworte" | "labels" => "tags",
        _ => return None,
    })
}

/// The deal field a folded header names.
fn deal_field(key: &str) -> Option<&'static str> {
    Some(match key {
        "title" | "titel" | "deal" | "name" | "bezeichnung" | "opportunity" | "dealname" => "title",
        "value" | "wert" | "betrag" | "volumen" | "amount" | "dealwert" => "value",
        "currency" | "waehrung" => "currency",
        "pipeline" => "pipeline",
        "stage" | "phase" | "stufe" | "dealphase" => "stage",
        "company" | "firma" | "unternehmen" | "companyid" | "account" => "company",
        "contact" | "kontakt" | "contactemail" | "email" | "ansprechpartner" | "contactid" => {
            "contact"
        }
        "expectedclosedate"
        | "closedate"
        | "abschlussdatum"
        | "erwartetesabschlussdatum"
        | "abschluss" => "expected_close_date",
        "status" => "status",
        "lostreason" | "verlustgrund" | "grund" => "lost_reason",
        "lostreasontext" | "verlustnotiz" => "lost_reason_text",
        _ => return None,
    })
}

/// The field a `--map` entry names for the column with header `h`, if one does.
fn mapped<'o>(opts: &'o ImportOptions, h: &str) -> Option<&'o str> {
    opts.mappings
        .iter()
        .find(|(c, _)| c.trim().eq_ignore_ascii_case(h.trim()))
        .map(|(_, f)| f.as_str())
}

/// A file's columns, understood.
pub(super) struct Columns {
    pub(super) kind: RecordKind,
    pub(super) headers: Vec<String>,
    /// The field of every column (`None`: not read).
    pub(super) fields: Vec<Option<&'static str>>,
    /// The role of every column of another tool's company export (`None` for a generic
    /// file, whose columns are read by `fields`).
    roles: Option<Vec<Option<CompanyField>>>,
    /// The format the file is read as.
    pub(super) format: Format,
}

/// The values of one record, read with the file's columns.
pub(super) struct RowValues {
    /// The store's JSON input.
    pub(super) values: Map<String, Value>,
    /// Custom fields.
    pub(super) custom: Map<String, Value>,
    /// What another tool's company row carries beyond the store's input.
    pub(super) extra: CompanyExtra,
}

impl Columns {
    /// Maps the header's columns; fails when the required column is missing or `--map`
    /// names an unknown field.
    pub(super) fn map(
        kind: RecordKind,
        headers: Vec<String>,
        opts: &ImportOptions,
    ) -> Result<Self> {
        let format = file_format(kind, &headers, opts)?;
        let roles = if format == Format::Generic {
            None
        } else {
            Some(company_roles(format, &headers, opts)?)
        };
        let fields = match &roles {
            Some(roles) => roles
                .iter()
                .map(|r| {
                    r.filter(|f| *f != CompanyField::Ignore)
                        .map(CompanyField::name)
                })
                .collect(),
            None => header_fields(kind, &headers, opts)?,
        };
        let required = kind.required();
        if !fields.contains(&Some(required)) {
            return Err(Error::invalid(
                "header",
                format!("no {required} column found; name it or use --map COLUMN={required}"),
            ));
        }
        Ok(Self {
            kind,
            headers,
            fields,
            roles,
            format,
        })
    }

    /// The summary of the file before any row is read.
    pub(super) fn summary(
        &self,
        opts: &ImportOptions,
        run: ImportRunId,
        encoding: TextEncoding,
        delimiter: u8,
    ) -> ImportSummary {
        ImportSummary {
            run_id: (!opts.dry_run).then_some(run),
            dry_run: opts.dry_run,
            encoding: Some(encoding),
            delimiter: (delimiter as char).to_string(),
            unknown_columns: self.unknown(),
            columns: self
                .headers
                .iter()
                .zip(&self.fields)
                .filter_map(|(h, f)| f.map(|f| (h.clone(), f.to_string())))
                .collect(),
            format: (self.kind == RecordKind::Companies).then_some(self.format),
            mapping: self.mapping(),
            ..ImportSummary::default()
        }
    }

    /// The headers of columns that map to no field. Columns the format knows and drops on
    /// purpose (`ignore`) are not unknown.
    fn unknown(&self) -> Vec<String> {
        self.headers
            .iter()
            .enumerate()
            .filter(|(i, _)| match &self.roles {
                Some(roles) => roles.get(*i).copied().flatten().is_none(),
                None => self.fields.get(*i).copied().flatten().is_none(),
            })
            .map(|(_, h)| h.clone())
            .collect()
    }

    /// How each understood column was mapped.
    fn mapping(&self) -> Vec<MappingEntry> {
        let entry = |h: &String, field: &str| MappingEntry {
            column: h.clone(),
            field: field.to_string(),
        };
        match &self.roles {
            Some(roles) => self
                .headers
                .iter()
                .zip(roles)
                .filter_map(|(h, r)| r.map(|r| entry(h, r.name())))
                .collect(),
            None => self
                .headers
                .iter()
                .zip(&self.fields)
                .filter_map(|(h, f)| f.map(|f| entry(h, f)))
                .collect(),
        }
    }

    /// The problems of a record with a NUL byte or another control character in a column
    /// that is read (PostgreSQL refuses NUL in text): (field or header, message).
    pub(super) fn control_errors(
        &self,
        rec: &csv::ByteRecord,
        keep_unknown: bool,
    ) -> Vec<(String, String)> {
        rec.iter()
            .enumerate()
            .filter(|(i, raw)| {
                (self.fields.get(*i).copied().flatten().is_some() || keep_unknown)
                    && crate::import::contacts::has_control_byte(raw)
            })
            .map(|(i, _)| {
                let field = self.fields.get(i).copied().flatten().map_or_else(
                    || self.headers.get(i).cloned().unwrap_or_default(),
                    str::to_string,
                );
                (
                    field,
                    "contains a control character (such as a NUL byte); remove it".to_string(),
                )
            })
            .collect()
    }

    /// Reads a record's values; `None` for a person's row of another tool's contact export
    /// (no company on it), which is skipped.
    pub(super) fn read(&self, rec: &csv::ByteRecord, keep_unknown: bool) -> Option<RowValues> {
        if let Some(roles) = &self.roles {
            let r = companies::read(roles, &self.headers, rec, keep_unknown);
            if !r.values.contains_key("name") {
                return None;
            }
            return Some(RowValues {
                values: r.values,
                custom: r.custom,
                extra: CompanyExtra {
                    external: r.external_id.map(|id| (self.format.name().to_string(), id)),
                    notes: r.notes,
                    owner: r.owner,
                },
            });
        }
        let mut row = RowValues {
            values: Map::new(),
            custom: Map::new(),
            extra: CompanyExtra::default(),
        };
        for (i, raw) in rec.iter().enumerate() {
            let text = field_text(raw);
            let v = text.trim();
            if v.is_empty() {
                continue;
            }
            match self.fields.get(i).copied().flatten() {
                Some(f) => {
                    row.values.insert(f.to_string(), json!(v));
                }
                None if keep_unknown => {
                    if let Some(h) = self.headers.get(i) {
                        row.custom.insert(h.clone(), json!(v));
                    }
                }
                None => {}
            }
        }
        Some(row)
    }
}

/// The format a file is read as: a company file from another tool is read with that tool's
/// header table (given, else detected); a deal file is always generic.
fn file_format(kind: RecordKind, headers: &[String], opts: &ImportOptions) -> Result<Format> {
    match (kind, opts.from) {
        (RecordKind::Deals, _) => Ok(Format::Generic),
        (RecordKind::Companies, Some(Format::Vcard)) => Err(Error::invalid(
            "from",
            "vCard files hold people: import them with `crm import contacts`",
        )),
        (RecordKind::Companies, Some(f)) => Ok(f),
        (RecordKind::Companies, None) => Ok(companies::detect(headers)),
    }
}

/// The field of every column of a generic file, with `--map` overrides; a field taken by
/// an earlier column leaves later ones unread.
fn header_fields(
    kind: RecordKind,
    headers: &[String],
    opts: &ImportOptions,
) -> Result<Vec<Option<&'static str>>> {
    let mut fields = Vec::with_capacity(headers.len());
    let mut seen_fields = HashSet::new();
    for h in headers {
        let f = match mapped(opts, h) {
            Some(f) => Some(field_for(kind, f).ok_or_else(|| {
                Error::invalid("map", format!("unknown field '{f}' for {}", kind.as_str()))
            })?),
            None => field_for(kind, h),
        };
        fields.push(f.filter(|f| seen_fields.insert(*f)));
    }
    Ok(fields)
}

/// The role of every column of a company file from `format`, with `--map` overrides.
fn company_roles(
    format: Format,
    headers: &[String],
    opts: &ImportOptions,
) -> Result<Vec<Option<CompanyField>>> {
    let mut roles = Vec::with_capacity(headers.len());
    for h in headers {
        let role = match mapped(opts, h) {
            Some(f) => Some(
                CompanyField::from_name(f)
                    .or_else(|| {
                        field_for(RecordKind::Companies, f).and_then(CompanyField::from_name)
                    })
                    .ok_or_else(|| {
                        Error::invalid("map", format!("unknown field '{f}' for companies"))
                    })?,
            ),
            None => format.company_role(h),
        };
        // Several columns may hold one field: values add up where the field takes several,
        // else the first non-empty one wins (see `companies::read`).
        roles.push(role);
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_headers_map_to_fields() {
        assert_eq!(
            field_for(RecordKind::Companies, "USt-IdNr."),
            Some("vat_id")
        );
        assert_eq!(
            field_for(RecordKind::Companies, "Straße"),
            Some("billing_street")
        );
        assert_eq!(field_for(RecordKind::Deals, "Wert"), Some("value"));
        assert_eq!(field_for(RecordKind::Deals, "Phase"), Some("stage"));
        assert_eq!(field_for(RecordKind::Deals, "Schuhgröße"), None);
    }
}
