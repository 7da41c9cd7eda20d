//! Creating a contact in one statement.

use super::*;

/// What the statement of [`create`] returns: the outcome of the reference checks and, when
/// they passed, the values the database set.
#[derive(sqlx::FromRow)]
pub(super) struct Created {
    company_ok: bool,
    owners_ok: bool,
    company: Option<String>,
    tags: Vec<String>,
    version: Option<i32>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    custom: Option<Value>,
}

/// Creates a contact with its addresses, tags and owners (the actor as owner when none are
/// given). Every invalid field is reported at once; a primary e-mail that another live
/// contact has is a [`Error::Conflict`].
///
/// One statement checks the company and the owners, writes the contact with its addresses,
/// owners and tag links, and appends the audit entry and the `contact.created` event; the
/// contact is built from what was written (no reload).
pub async fn create(tx: &mut Tx, new: NewContact) -> Result<Contact> {
    tx.require(Permission::Write)?;
    // Every field error at once, in field order; the phone region and the references need
    // the database.
    let mut errors = FieldErrors::new();
    let fields = new_fields(&mut errors, &new);
    let emails = collect_emails(&mut errors, new.email.as_deref(), &new.emails);
    let region = crate::region::contact_phone_region(
        tx,
        fields.country.as_deref(),
        fields.home_country.as_deref(),
        fields.company_id,
    )
    .await?;
    let phones = collect_phones(&mut errors, &region, new.phone.as_deref(), &new.phones);
    let tags = check_tags(&mut errors, &new.tags);
    let owners = if new.owners.is_empty() {
        vec![Owner {
            user_id: tx.actor().id,
            role: OwnerRole::Owner,
        }]
    } else {
        owner::dedup(&new.owners)
    };
    check_identity(&mut errors, &fields, &emails);
    // The statement below checks the company and the owners itself. They are checked
    // beforehand when there are other errors (every field error is reported at once) and
    // when tags are to be created (nothing is written before the checks pass).
    if !errors.is_empty() || !tags.is_empty() {
        check_references(tx, &mut errors, fields.company_id, Some(&owners)).await?;
    }
    errors.into_result()?;
    let tag_ids: Vec<Uuid> = if tags.is_empty() {
        Vec::new()
    } else {
        tag::resolve(tx, &tags)
            .await?
            .into_iter()
            .map(|t| t.uuid())
            .collect()
    };
    let new = NewRows::of(ContactId::new(), fields, emails, phones, owners);
    let created = insert(tx, &new, &tag_ids).await?;
    let contact = finish(new.contact, created)?;
    words::added(tx, Kind::Contact, &[contact.id.uuid()]).await?;
    Ok(contact)
}

/// A new contact as it will be written: the contact (without what the statement adds) and
/// its child rows with their ids, in the order `load` lists them (primary first, then by
/// id).
pub(super) struct NewRows {
    pub(super) contact: Contact,
    email_norm: Option<String>,
    emails: Vec<(Uuid, EmailRow)>,
    phones: Vec<(Uuid, PhoneRow)>,
}

impl NewRows {
    /// The rows of the contact `id` from its checked fields and children.
    pub(super) fn of(
        id: ContactId,
        fields: Fields,
        emails: Vec<EmailRow>,
        phones: Vec<PhoneRow>,
        mut owners: Vec<Owner>,
    ) -> Self {
        let (email, email_norm) = primary_email(&emails);
        let (email, email_norm) = (email.map(str::to_string), email_norm.map(str::to_string));
        let phone = primary_phone(&phones).map(str::to_string);
        let mut emails: Vec<(Uuid, EmailRow)> =
            emails.into_iter().map(|r| (Uuid::now_v7(), r)).collect();
        emails.sort_by_key(|(id, r)| (!r.primary, *id));
        let mut phones: Vec<(Uuid, PhoneRow)> =
            phones.into_iter().map(|r| (Uuid::now_v7(), r)).collect();
        phones.sort_by_key(|(id, r)| (!r.primary, *id));
        owner::sort(&mut owners);
        let contact = Contact {
            id,
            first_name: fields.first_name,
            last_name: fields.last_name,
            salutation: fields.salutation,
            title: fields.title,
            job_title: fields.job_title,
            department: fields.department,
            linkedin_url: fields.linkedin_url,
            birthday: fields.birthday,
            source: fields.source,
            status: fields.status,
            company_id: fields.company_id,
            // Set from the statement's result (also in the audit entry).
            company: None,
            email,
            phone,
            emails: emails
                .iter()
                .map(|(_, r)| ContactEmail {
                    email: r.email.clone(),
                    kind: r.kind,
                    primary: r.primary,
                })
                .collect(),
            phones: phones
                .iter()
                .map(|(_, r)| ContactPhone {
                    number: r.key().to_string(),
                    raw: r.raw.clone(),
                    kind: r.kind,
                    primary: r.primary,
                    valid: r.e164.is_some(),
                })
                .collect(),
            city: fields.city,
            street: fields.street,
            postal_code: fields.postal_code,
            country: fields.country,
            home_street: fields.home_street,
            home_postal_code: fields.home_postal_code,
            home_city: fields.home_city,
            home_country: fields.home_country,
            // Source ids are written by the import only.
            external_system: None,
            external_id: None,
            // Set from the statement's result (also in the audit entry).
            tags: Vec::new(),
            owners,
            custom: fields.custom,
            // The database's values replace these; `diff` leaves them out.
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            deleted_at: None,
        };
        Self {
            contact,
            email_norm,
            emails,
            phones,
        }
    }
}

/// The checked scalar columns of a new contact.
pub(super) fn new_fields(errors: &mut FieldErrors, new: &NewContact) -> Fields {
    let fields = Fields {
        first_name: check_name(errors, "first_name", &new.first_name),
        last_name: check_name(errors, "last_name", &new.last_name),
        salutation: check_text(errors, "salutation", new.salutation.as_deref()),
        title: check_text(errors, "title", new.title.as_deref()),
        job_title: check_text(errors, "job_title", new.job_title.as_deref()),
        department: check_text(errors, "department", new.department.as_deref()),
        linkedin_url: check_linkedin(errors, new.linkedin_url.as_deref()),
        birthday: new.birthday,
        source: new.source,
        status: new.status,
        company_id: new.company_id,
        city: check_text(errors, "city", new.city.as_deref()),
        street: check_text(errors, "street", new.street.as_deref()),
        postal_code: check_text(errors, "postal_code", new.postal_code.as_deref()),
        country: check_country(errors, "country", new.country.as_deref()),
        home_street: check_text(errors, "home_street", new.home_street.as_deref()),
        home_postal_code: check_text(errors, "home_postal_code", new.home_postal_code.as_deref()),
        home_city: check_text(errors, "home_city", new.home_city.as_deref()),
        home_country: check_country(errors, "home_country", new.home_country.as_deref()),
        custom: Value::Object(new.custom.clone()),
    };
    check_birthday(errors, new.birthday);
    fields
}

/// Writes the new contact in one statement ([`INSERT`]) and returns what it reports.
async fn insert(tx: &mut Tx, new: &NewRows, tag_ids: &[Uuid]) -> Result<Created> {
    let c = &new.contact;
    // The audit diff of the new contact without its company name and tag names, which the
    // statement adds (`diff` reports a creation as `{"field": {"before": null, "after": v}}`
    // for every non-null field).
    let audit = diff(None, Some(c));
    let (emails, phones) = (&new.emails, &new.phones);
    let email_norm = &new.email_norm;
    let email_ids: Vec<Uuid> = emails.iter().map(|(id, _)| *id).collect();
    let email_values: Vec<&str> = emails.iter().map(|(_, r)| r.email.as_str()).collect();
    let email_norms: Vec<&str> = emails.iter().map(|(_, r)| r.norm.as_str()).collect();
    let email_kinds: Vec<_> = emails.iter().map(|(_, r)| r.kind).collect();
    let email_primary: Vec<bool> = emails.iter().map(|(_, r)| r.primary).collect();
    let phone_ids: Vec<Uuid> = phones.iter().map(|(id, _)| *id).collect();
    let phone_e164: Vec<Option<&str>> = phones.iter().map(|(_, r)| r.e164.as_deref()).collect();
    let phone_raw: Vec<&str> = phones.iter().map(|(_, r)| r.raw.as_str()).collect();
    let phone_kinds: Vec<_> = phones.iter().map(|(_, r)| r.kind).collect();
    let phone_primary: Vec<bool> = phones.iter().map(|(_, r)| r.primary).collect();
    let owner_users: Vec<Uuid> = c.owners.iter().map(|o| o.user_id.uuid()).collect();
    let owner_roles: Vec<_> = c.owners.iter().map(|o| o.role).collect();
    let tag_ids = tag_ids.to_vec();
    let created: Created = sqlx::query_as(INSERT)
        .bind(tx.org())
        .bind(c.id)
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(&c.salutation)
        .bind(&c.title)
        .bind(&c.job_title)
        .bind(&c.department)
        .bind(&c.linkedin_url)
        .bind(c.birthday)
        .bind(c.source)
        .bind(c.status)
        .bind(c.company_id)
        .bind(&c.city)
        .bind(&c.custom)
        .bind(&c.email)
        .bind(email_norm)
        .bind(&c.phone)
        .bind(&email_ids)
        .bind(&email_values)
        .bind(&email_norms)
        .bind(&email_kinds)
        .bind(&email_primary)
        .bind(&phone_ids)
        .bind(&phone_e164)
        .bind(&phone_raw)
        .bind(&phone_kinds)
        .bind(&phone_primary)
        .bind(&owner_users)
        .bind(&owner_roles)
        .bind(&tag_ids)
        .bind(&audit)
        .bind(json!({ "id": c.id }))
        .bind(&c.street)
        .bind(&c.postal_code)
        .bind(&c.country)
        .bind(&c.home_street)
        .bind(&c.home_postal_code)
        .bind(&c.home_city)
        .bind(&c.home_country)
        .fetch_one(tx.conn())
        .await?;
    Ok(created)
}

/// The contact as written: the reference checks' outcome as field errors, else the values
/// the database set.
fn finish(mut contact: Contact, created: Created) -> Result<Contact> {
    let mut errors = FieldErrors::new();
    if !created.company_ok {
        errors.add("company_id", "is not a company of this organization");
    }
    if !created.owners_ok {
        errors.add("owners", "names a user who is not in this organization");
    }
    errors.into_result()?;
    let (Some(version), Some(created_at), Some(updated_at), Some(custom)) = (
        created.version,
        created.created_at,
        created.updated_at,
        created.custom,
    ) else {
        return Err(Error::Database("the new contact was not written".into()));
    };
    contact.company = created.company;
    contact.tags = created.tags;
    contact.version = version;
    contact.created_at = created_at;
    contact.updated_at = updated_at;
    contact.custom = custom;
    Ok(contact)
}

/// The statement of [`create`]. Every insert is conditional on the checks in `chk`; when
/// they fail nothing is written and the flags say why. Foreign keys are checked at the end
/// of the statement, when the contact row exists.
const INSERT: &str = "with chk as ( \
             select co.name as company, \
                    ($13::uuid is null or co.id is not null) as company_ok, \
                    (select count(*) from users u where u.org_id = $1 and u.id = any($29) \
                       and u.deleted_at is null) = cardinality($29) as owners_ok \
             from (select 1) one \
             left join companies co on co.org_id = $1 and co.id = $13 \
                                   and co.deleted_at is null), \
         gate as (select company_ok and owners_ok as ok from chk), \
         c as ( \
             insert into contacts (org_id, id, first_name, last_name, salutation, title, \
                    job_title, department, linkedin_url, birthday, source, status, company_id, \
                    city, custom, email, email_norm, phone, street, postal_code, country, \
                    home_street, home_postal_code, home_city, home_country) \
             select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                    $17, $18, $34, $35, $36, $37, $38, $39, $40 \
             from gate where gate.ok \
             returning version, created_at, updated_at, custom), \
         e as ( \
             insert into contact_emails (org_id, id, contact_id, email, email_norm, kind, \
                    is_primary) \
             select $1, u.id, $2, u.email, u.norm, u.kind, u.is_primary \
             from unnest($19::uuid[], $20::text[], $21::text[], $22::text[], $23::bool[]) \
                  as u(id, email, norm, kind, is_primary) \
             where (select ok from gate)), \
         p as ( \
             insert into contact_phones (org_id, id, contact_id, number_e164, number_raw, kind, \
                    is_primary) \
             select $1, u.id, $2, u.e164, u.raw, u.kind, u.is_primary \
             from unnest($24::uuid[], $25::text[], $26::text[], $27::text[], $28::bool[]) \
                  as u(id, e164, raw, kind, is_primary) \
             where (select ok from gate)), \
         o as ( \
             insert into contact_owners (org_id, contact_id, user_id, role) \
             select $1, $2, u.user_id, u.role \
             from unnest($29::uuid[], $30::text[]) as u(user_id, role) \
             where (select ok from gate)), \
         t as ( \
             insert into contact_tags (org_id, contact_id, tag_id) \
             select $1, $2, u.tag_id from unnest($31::uuid[]) as u(tag_id) \
             where (select ok from gate) \
             on conflict do nothing), \
         tg as ( \
             select coalesce(array_agg(t.name order by t.name_norm), '{}') as names \
             from tags t where t.org_id = $1 and t.id = any($31)) \
         select chk.company_ok, chk.owners_ok, chk.company, tg.names as tags, \
                c.version, c.created_at, c.updated_at, c.custom, \
                case when c.version is not null then crm_audit('contact', $2, 'create', \
                    $32::jsonb \
                    || jsonb_build_object('tags', \
                           jsonb_build_object('before', null, 'after', to_jsonb(tg.names))) \
                    || case when chk.company is null then '{}'::jsonb \
                            else jsonb_build_object('company', \
                                     jsonb_build_object('before', null, 'after', chk.company)) \
                       end) \
                end as audit_seq, \
                case when c.version is not null \
                     then crm_emit('contact.created', 'contact', $2, $33) end as event_seq \
         from chk cross join tg left join c on true";
