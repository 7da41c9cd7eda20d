//! Printing companies: `company show`, the table, JSON and CSV forms of one company and of
//! the list, and the relationships.

use anyhow::Result;
use crm_core::store::company::{self, Company, Relationship};
use crm_core::{CompanyId, Error, Tx};
use serde::Serialize;

use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{
    self, Listed, Row, address, channels_cell, closing_rows, field_table, opt, print_json,
    short_id, time,
};
use crate::resolve::resolve_company;

/// One company as `show` prints it: the company's keys plus `relationships`.
#[derive(Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    company: &'a Company,
    relationships: &'a [Relationship],
}

/// `company show`: one company with its relationships and, on a table, its open Lexware
/// amounts.
pub(super) async fn show(reference: &str, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let id = resolve_company(&mut tx, reference).await?;
    let (c, rels) = match load_shown(&mut tx, id).await {
        Err(Error::NotFound { .. }) => {
            return Err(exit::coded(
                exit::NOT_FOUND,
                "the company is deleted; `crm company restore` brings it back",
            ));
        }
        other => other?,
    };
    let open = crm_core::lexware::vouchers::open_for_company(&mut tx, id).await?;
    tx.commit().await?;
    match ctx.format() {
        f @ (Format::Json | Format::Ndjson) => {
            let shown = Shown {
                company: &c,
                relationships: &rels,
            };
            crate::cmd::lexware::print_with_open(f, &shown, &open)?;
        }
        f => {
            print_company(f, &c, &rels)?;
            if let Some(open) = open.as_ref().filter(|_| f == Format::Table) {
                output::text(&crate::cmd::lexware::open_line(open))?;
            }
        }
    }
    Ok(exit::OK)
}

/// A company with its relationships (live companies only).
pub(super) async fn load_shown(
    tx: &mut Tx,
    id: CompanyId,
) -> crm_core::Result<(Company, Vec<Relationship>)> {
    let c = company::get(tx, id).await?;
    let rels = company::relationships(tx, id).await?;
    Ok((c, rels))
}

/// Prints one company with its relationships.
pub(super) fn print_company(format: Format, c: &Company, rels: &[Relationship]) -> Result<()> {
    match format {
        Format::Json | Format::Ndjson => print_json(
            format,
            &Shown {
                company: c,
                relationships: rels,
            },
        ),
        Format::Csv => output::list(Format::Csv, std::slice::from_ref(c)),
        Format::Table => field_table(table_rows(c, rels)),
    }
}

/// The field / value rows of one company's table.
fn table_rows(c: &Company, rels: &[Relationship]) -> Vec<Vec<String>> {
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
    let trade_register = [
        c.trade_register_number.as_deref(),
        c.trade_register_court.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let mut rows: Vec<Vec<String>> = vec![
        vec!["id".into(), c.id.to_string()],
        vec!["name".into(), c.name.clone()],
        vec!["domain".into(), opt(&c.domain)],
        vec!["website".into(), opt(&c.website)],
        vec!["industry".into(), opt(&c.industry)],
        vec!["account type".into(), opt(&c.account_type)],
        vec!["vat id".into(), opt(&c.vat_id)],
        vec!["tax id".into(), opt(&c.tax_id)],
        vec!["trade register".into(), trade_register],
        vec!["size".into(), c.size.to_string()],
        vec!["status".into(), c.status.to_string()],
        vec!["e-mail".into(), emails],
        vec!["phone".into(), phones],
        vec![
            "billing address".into(),
            address(
                &c.billing_street,
                &c.billing_postal_code,
                &c.billing_city,
                &c.billing_country,
            ),
        ],
        vec![
            "delivery address".into(),
            address(
                &c.delivery_street,
                &c.delivery_postal_code,
                &c.delivery_city,
                &c.delivery_country,
            ),
        ],
        vec!["contacts".into(), c.contacts.to_string()],
        vec!["tags".into(), c.tags.join(", ")],
        vec!["owners".into(), c.owners.len().to_string()],
        vec!["relationships".into(), relationship_lines(rels)],
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

/// The relationships for a table cell: `parent of → Tochter GmbH`, one a line.
fn relationship_lines(rels: &[Relationship]) -> String {
    rels.iter()
        .map(|r| {
            let arrow = match r.direction {
                company::Direction::Outgoing => "→",
                company::Direction::Incoming => "←",
            };
            format!("{} {arrow} {}", r.type_label_en, r.other_company_name)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The CSV columns of `company list` and `company show`.
impl Row for Company {
    fn noun() -> &'static str {
        "companies"
    }
    fn headers() -> Vec<&'static str> {
        vec![
            "id",
            "name",
            "domain",
            "website",
            "industry",
            "account_type",
            "vat_id",
            "tax_id",
            "email",
            "phone",
            "billing_street",
            "billing_postal_code",
            "billing_city",
            "billing_country",
            "size",
            "status",
            "contacts",
            "tags",
            "version",
            "created_at",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            opt(&self.domain),
            opt(&self.website),
            opt(&self.industry),
            opt(&self.account_type),
            opt(&self.vat_id),
            opt(&self.tax_id),
            opt(&self.email),
            opt(&self.phone),
            opt(&self.billing_street),
            opt(&self.billing_postal_code),
            opt(&self.billing_city),
            opt(&self.billing_country),
            self.size.to_string(),
            self.status.to_string(),
            self.contacts.to_string(),
            self.tags.join("|"),
            self.version.to_string(),
            time(&self.created_at),
        ]
    }
}

/// The columns of the `company list` table.
impl Listed for Company {
    fn table_headers() -> Vec<&'static str> {
        vec!["id", "name", "domain", "vat_id", "city", "contacts", "tags"]
    }
    fn table_cells(&self) -> Vec<String> {
        vec![
            short_id(self.id),
            self.name.clone(),
            opt(&self.domain),
            opt(&self.vat_id),
            opt(&self.billing_city),
            self.contacts.to_string(),
            self.tags.join(", "),
        ]
    }
}

impl Row for Relationship {
    fn headers() -> Vec<&'static str> {
        vec!["id", "type", "direction", "company", "company_id", "note"]
    }
    fn cells(&self) -> Vec<String> {
        let direction = match self.direction {
            company::Direction::Outgoing => "outgoing",
            company::Direction::Incoming => "incoming",
        };
        vec![
            self.id.to_string(),
            self.type_key.clone(),
            direction.to_string(),
            self.other_company_name.clone(),
            self.other_company_id.to_string(),
            opt(&self.note),
        ]
    }
}
