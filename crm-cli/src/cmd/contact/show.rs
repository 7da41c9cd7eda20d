//! Printing contacts: `contact show`, the table, JSON and CSV forms of one contact and of
//! the list.

use anyhow::Result;
use crm_core::store::contact::{self, Contact};

use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{
    self, Listed, Row, address, channels_cell, closing_rows, field_table, opt, print_json,
    short_id, time,
};
use crate::resolve::resolve_contact;

/// `contact show`: one contact with everything it has.
pub(super) async fn show(reference: &str, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let id = resolve_contact(&mut tx, reference).await?;
    let c = contact::get(&mut tx, id).await?;
    tx.commit().await?;
    print_contact(ctx.format(), &c)?;
    Ok(exit::OK)
}

/// The name as lists show it: first and last name.
pub(super) fn full_name(c: &Contact) -> String {
    format!("{} {}", c.first_name, c.last_name)
        .trim()
        .to_string()
}

/// Prints one contact: the whole object as JSON, field / value pairs as a table, one CSV row.
pub(super) fn print_contact(format: Format, c: &Contact) -> Result<()> {
    match format {
        Format::Json | Format::Ndjson => print_json(format, c),
        Format::Csv => output::list(Format::Csv, std::slice::from_ref(c)),
        Format::Table => field_table(table_rows(c)),
    }
}

/// The field / value rows of one contact's table.
fn table_rows(c: &Contact) -> Vec<Vec<String>> {
    let name = [
        c.salutation.as_deref(),
        c.title.as_deref(),
        Some(c.first_name.as_str()),
        Some(c.last_name.as_str()),
    ]
    .into_iter()
    .flatten()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    let emails = channels_cell(
        c.emails
            .iter()
            .map(|e| (e.email.as_str(), &e.kind, e.primary)),
    );
    let phones = channels_cell(
        c.phones
            .iter()
            .map(|p| (p.number.as_str(), &p.kind, p.primary)),
    );
    let home = address(
        &c.home_street,
        &c.home_postal_code,
        &c.home_city,
        &c.home_country,
    );
    let mut rows: Vec<Vec<String>> = vec![
        vec!["id".into(), c.id.to_string()],
        vec!["name".into(), name],
        vec!["company".into(), opt(&c.company)],
        vec!["job title".into(), opt(&c.job_title)],
        vec!["department".into(), opt(&c.department)],
        vec!["e-mail".into(), emails],
        vec!["phone".into(), phones],
        vec!["city".into(), opt(&c.city)],
        vec![
            "address".into(),
            address(&c.street, &c.postal_code, &c.city, &c.country),
        ],
        vec!["home address".into(), home],
        vec!["tags".into(), c.tags.join(", ")],
        vec!["linkedin".into(), opt(&c.linkedin_url)],
        vec!["birthday".into(), opt(&c.birthday)],
        vec!["source".into(), c.source.to_string()],
        vec!["status".into(), c.status.to_string()],
        vec!["owners".into(), c.owners.len().to_string()],
    ];
    rows.extend(closing_rows(
        &c.custom,
        c.version,
        &c.created_at,
        &c.updated_at,
        c.deleted_at.as_ref(),
    ));
    rows
}

/// Warns (on stderr) about phone numbers kept as written because they could not be read as
/// numbers of the contact's country (DESIGN.md's phone-country rule); never quotes them.
pub(super) fn warn_unplaced_phones(ctx: &Ctx, c: &Contact) {
    for (i, _) in c.phones.iter().enumerate().filter(|(_, p)| !p.valid) {
        ctx.note(format!(
            "warning: phone {} is not a valid number of the contact's country (its address, \
             else its company's, else the organization's region, see `crm org show`); kept as \
             written, without an international form: give it with its country code (+41 ...)",
            i + 1
        ));
    }
}

/// The CSV columns: those of `crm export contacts`, then `company_id` and `version`.
impl Row for Contact {
    fn noun() -> &'static str {
        "contacts"
    }
    fn headers() -> Vec<&'static str> {
        vec![
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "company",
            "job_title",
            "department",
            "salutation",
            "title",
            "city",
            "source",
            "status",
            "tags",
            "created_at",
            "updated_at",
            "company_id",
            "version",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.first_name.clone(),
            self.last_name.clone(),
            opt(&self.email),
            opt(&self.phone),
            opt(&self.company),
            opt(&self.job_title),
            opt(&self.department),
            opt(&self.salutation),
            opt(&self.title),
            opt(&self.city),
            self.source.to_string(),
            self.status.to_string(),
            self.tags.join("|"),
            time(&self.created_at),
            time(&self.updated_at),
            opt(&self.company_id),
            self.version.to_string(),
        ]
    }
}

/// The columns of the `contact list` table.
impl Listed for Contact {
    fn table_headers() -> Vec<&'static str> {
        vec!["id", "name", "email", "company", "tags", "created"]
    }
    fn table_cells(&self) -> Vec<String> {
        vec![
            short_id(self.id),
            full_name(self),
            opt(&self.email),
            opt(&self.company),
            self.tags.join(", "),
            self.created_at.format("%Y-%m-%d").to_string(),
        ]
    }
}
