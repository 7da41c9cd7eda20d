//! Creating a company.

use super::*;

/// Creates a company with its addresses, numbers, tags and owners. Every invalid field is
/// reported at once; a VAT id used by another live company is a conflict.
pub async fn create(tx: &mut Tx, new: NewCompany) -> Result<Company> {
    tx.require(Permission::Write)?;
    let mut errors = FieldErrors::new();
    let name = check_name(&mut errors, &new.name);
    let website = optional(&mut errors, "website", new.website.as_deref(), |s| {
        Website::parse(s).map_err(|e| e.to_string())
    });
    let domain = optional(&mut errors, "domain", new.domain.as_deref(), |s| {
        parse_domain(s).map_err(str::to_string)
    })
    .or_else(|| website.as_ref().map(|w| w.domain().to_string()));
    let industry_id = match clean(new.industry.as_deref()) {
        Some(s) => list_entry(tx, &mut errors, ListKind::Industry, "industry", &s, None).await?,
        None => None,
    };
    let account_type_id = match clean(new.account_type.as_deref()) {
        Some(s) => {
            list_entry(
                tx,
                &mut errors,
                ListKind::AccountType,
                "account_type",
                &s,
                None,
            )
            .await?
        }
        None => None,
    };
    let vat_id = optional(&mut errors, "vat_id", new.vat_id.as_deref(), |s| {
        VatId::parse(s)
            .map(|v| v.as_str().to_string())
            .map_err(|e| e.to_string())
    });
    let billing_country = optional(
        &mut errors,
        "billing_country",
        new.billing_country.as_deref(),
        |s| parse_country(s).map_err(str::to_string),
    );
    let delivery_country = optional(
        &mut errors,
        "delivery_country",
        new.delivery_country.as_deref(),
        |s| parse_country(s).map_err(str::to_string),
    );

    let mut emails = parse_emails(&mut errors, &new.emails);
    if let Some(email) = optional(&mut errors, "email", new.email.as_deref(), |s| {
        Email::parse(s).map_err(|e| e.to_string())
    }) {
        let row = EmailRow {
            norm: email.normalized(),
            email: email.into_string(),
            kind: EmailKind::Work,
            primary: true,
        };
        set_primary_email(&mut emails, row);
    }
    let emails = settle_emails(emails);

    // The phone-country rule: the company's own address country, else the organization's.
    let region = billing_country
        .clone()
        .or_else(|| delivery_country.clone())
        .unwrap_or_else(|| tx.default_region().to_string());
    let mut phones = parse_phones(&mut errors, &new.phones, &region);
    if let Some(phone) = optional(&mut errors, "phone", new.phone.as_deref(), |s| {
        Phone::parse(s, &region).map_err(|e| e.to_string())
    }) {
        let row = PhoneRow {
            e164: phone.e164().to_string(),
            raw: phone.raw().to_string(),
            kind: PhoneKind::Office,
            primary: true,
        };
        set_primary_phone(&mut phones, row);
    }
    let phones = settle_phones(phones);

    let tags = check_tags(&mut errors, &new.tags)?;
    check_owners(tx, &mut errors, &new.owners).await?;
    check_single_lines(
        &mut errors,
        [
            (
                "trade_register_number",
                new.trade_register_number.as_deref(),
            ),
            ("trade_register_court", new.trade_register_court.as_deref()),
            ("billing_street", new.billing_street.as_deref()),
            ("billing_postal_code", new.billing_postal_code.as_deref()),
            ("billing_city", new.billing_city.as_deref()),
            ("delivery_street", new.delivery_street.as_deref()),
            ("delivery_postal_code", new.delivery_postal_code.as_deref()),
            ("delivery_city", new.delivery_city.as_deref()),
        ],
    );
    errors.into_result()?;

    let fields = Fields {
        name,
        domain,
        website: website.map(|w| w.as_str().to_string()),
        industry_id,
        account_type_id,
        vat_id,
        tax_id: clean(new.tax_id.as_deref()),
        trade_register_number: clean(new.trade_register_number.as_deref()),
        trade_register_court: clean(new.trade_register_court.as_deref()),
        size: new
            .size
            .or(new.employees.map(CompanySize::from_employees))
            .unwrap_or_default(),
        status: new.status.unwrap_or_default(),
        billing_street: clean(new.billing_street.as_deref()),
        billing_postal_code: clean(new.billing_postal_code.as_deref()),
        billing_city: clean(new.billing_city.as_deref()),
        billing_country,
        delivery_street: clean(new.delivery_street.as_deref()),
        delivery_postal_code: clean(new.delivery_postal_code.as_deref()),
        delivery_city: clean(new.delivery_city.as_deref()),
        delivery_country,
        custom: new.custom,
    };
    check_vat_free(tx, fields.vat_id.as_deref(), None).await?;

    let id = CompanyId::new();
    sqlx::query(
        "insert into companies (org_id, id, name, domain, website, industry_id, account_type_id, \
             vat_id, tax_id, trade_register_number, trade_register_court, size, status, \
             billing_street, billing_postal_code, billing_city, billing_country, \
             delivery_street, delivery_postal_code, delivery_city, delivery_country, \
             email, phone, custom) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
                 $18, $19, $20, $21, $22, $23, $24)",
    )
    .bind(tx.org())
    .bind(id)
    .bind(&fields.name)
    .bind(&fields.domain)
    .bind(&fields.website)
    .bind(fields.industry_id)
    .bind(fields.account_type_id)
    .bind(&fields.vat_id)
    .bind(&fields.tax_id)
    .bind(&fields.trade_register_number)
    .bind(&fields.trade_register_court)
    .bind(fields.size)
    .bind(fields.status)
    .bind(&fields.billing_street)
    .bind(&fields.billing_postal_code)
    .bind(&fields.billing_city)
    .bind(&fields.billing_country)
    .bind(&fields.delivery_street)
    .bind(&fields.delivery_postal_code)
    .bind(&fields.delivery_city)
    .bind(&fields.delivery_country)
    .bind(primary_email(&emails))
    .bind(primary_phone(&phones))
    .bind(Value::Object(fields.custom))
    .execute(tx.conn())
    .await?;
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
