//! Creating a company.

use super::*;

/// Creates a company with its addresses, numbers, tags and owners. Every invalid field is
/// reported at once; a VAT id used by another live company is a conflict.
pub async fn create(tx: &mut Tx, new: NewCompany) -> Result<Company> {
    tx.require(Permission::Write)?;
    // Every field error at once, in field order: the pure checks of the input around the
    // ones that need the database (list entries, owners).
    let mut errors = FieldErrors::new();
    let names = new_names(&mut errors, &new);
    let industry_id = patch_list_entry(
        tx,
        &mut errors,
        ListKind::Industry,
        "industry",
        &new.industry,
        None,
    )
    .await?;
    let account_type_id = patch_list_entry(
        tx,
        &mut errors,
        ListKind::AccountType,
        "account_type",
        &new.account_type,
        None,
    )
    .await?;
    let default_region = tx.default_region().to_string();
    let checked = new_values(&mut errors, &new, names, &default_region)?;
    check_owners(tx, &mut errors, &new.owners).await?;
    check_new_lines(&mut errors, &new);
    errors.into_result()?;

    let (emails, phones) = (checked.emails.clone(), checked.phones.clone());
    let tags = checked.tags.clone().unwrap_or_default();
    let fields = new_fields(&new, checked, industry_id, account_type_id);
    check_vat_free(tx, fields.vat_id.as_deref(), None).await?;
    let id = CompanyId::new();
    insert_company(tx, id, fields, &emails, &phones).await?;
    words::added(tx, Kind::Company, &[id.uuid()]).await?;
    if !emails.is_empty() {
        write_emails(tx, id, &emails).await?;
    }
    if !phones.is_empty() {
        write_phones(tx, id, &phones).await?;
    }
    if !tags.is_empty() {
        write_tags(tx, id, &tags).await?;
    }
    if !new.owners.is_empty() {
        owner::set(tx, OwnedKind::Company, id.uuid(), &new.owners).await?;
    }

    let company = load(tx, id, false).await?;
    tx.record(
        "company",
        Some(id.uuid()),
        "create",
        &diff(None, Some(&company)),
        Some("company.created"),
        &json!({ "id": id }),
    )
    .await?;
    Ok(company)
}

/// Writes the company row with its primary e-mail / phone mirror.
async fn insert_company(
    tx: &mut Tx,
    id: CompanyId,
    fields: Fields,
    emails: &[EmailRow],
    phones: &[PhoneRow],
) -> Result<()> {
    let q = sqlx::query(INSERT_COMPANY).bind(tx.org()).bind(id);
    fields.bind_to(q, emails, phones).execute(tx.conn()).await?;
    Ok(())
}

/// The insert of a company row.
const INSERT_COMPANY: &str = "insert into companies (org_id, id, name, domain, website, \
         industry_id, account_type_id, vat_id, tax_id, trade_register_number, \
         trade_register_court, size, status, billing_street, billing_postal_code, \
         billing_city, billing_country, delivery_street, delivery_postal_code, delivery_city, \
         delivery_country, email, phone, custom) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20, $21, $22, $23, $24)";
