//! Merging two contacts into one.

use super::*;

/// Keep's value if it has one, else remove's.
pub(super) fn fill<T: Clone>(keep: &Option<T>, remove: &Option<T>) -> Option<T> {
    keep.clone().or_else(|| remove.clone())
}

/// Merges contact `remove` into `keep`: moves `remove`'s e-mail addresses and phone
/// numbers (those `keep` lacks), tags, owners, deals, activities and consents to `keep`,
/// fills `keep`'s empty fields (and missing custom fields) from `remove`, and soft-deletes
/// `remove`, recording `keep` in its `merged_into_id` column. Both contacts are audited;
/// one `contact.merged` event is written. Returns `keep` as merged.
pub async fn merge(tx: &mut Tx, keep: ContactId, remove: ContactId) -> Result<Contact> {
    tx.require(Permission::Write)?;
    tx.require(Permission::Delete)?;
    if keep == remove {
        return Err(Error::invalid(
            "remove",
            "a contact cannot be merged into itself",
        ));
    }
    let org = tx.org();
    // Locks both, in id order (no deadlock with a concurrent merge of the same pair).
    let locked: Vec<ContactId> = sqlx::query_scalar(
        "select id from contacts where org_id = $1 and id = any($2) and deleted_at is null \
         order by id for update",
    )
    .bind(org)
    .bind(vec![keep.uuid(), remove.uuid()])
    .fetch_all(tx.conn())
    .await?;
    if locked.len() != 2 {
        return Err(Error::NotFound { entity: ENTITY });
    }
    let keep_before = load(tx, keep, true).await?;
    let remove_before = load(tx, remove, true).await?;

    // The merged field values.
    let (k, r) = (&keep_before, &remove_before);
    let mut custom = match &r.custom {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    custom.remove("merged_into");
    if let Value::Object(m) = &k.custom {
        custom.extend(m.clone());
    }
    let f = Fields {
        first_name: if k.first_name.is_empty() {
            r.first_name.clone()
        } else {
            k.first_name.clone()
        },
        last_name: if k.last_name.is_empty() {
            r.last_name.clone()
        } else {
            k.last_name.clone()
        },
        salutation: fill(&k.salutation, &r.salutation),
        title: fill(&k.title, &r.title),
        job_title: fill(&k.job_title, &r.job_title),
        department: fill(&k.department, &r.department),
        linkedin_url: fill(&k.linkedin_url, &r.linkedin_url),
        birthday: k.birthday.or(r.birthday),
        source: k.source,
        status: k.status,
        company_id: k.company_id.or(r.company_id),
        city: fill(&k.city, &r.city),
        // The postal addresses stay the kept contact's (each address is one unit).
        street: k.street.clone(),
        postal_code: k.postal_code.clone(),
        country: k.country.clone(),
        home_street: k.home_street.clone(),
        home_postal_code: k.home_postal_code.clone(),
        home_city: k.home_city.clone(),
        home_country: k.home_country.clone(),
        custom: Value::Object(custom),
    };
    let mut emails = email_rows_of(k);
    let keep_has_primary_email = emails.iter().any(|e| e.primary);
    for e in email_rows_of(r) {
        if !emails.iter().any(|x| x.norm == e.norm) {
            let primary = e.primary && !keep_has_primary_email;
            emails.push(EmailRow { primary, ..e });
        }
    }
    let mut phones = phone_rows_of(k);
    let keep_has_primary_phone = phones.iter().any(|p| p.primary);
    for p in phone_rows_of(r) {
        if !phones.iter().any(|x| x.key() == p.key()) {
            let primary = p.primary && !keep_has_primary_phone;
            phones.push(PhoneRow { primary, ..p });
        }
    }

    // First retire `remove`: its primary e-mail may become keep's, and the unique index
    // only allows that once `remove` is deleted. Its address rows move, so its mirror
    // columns are cleared (the e-mail stays only when it is all that identifies the row).
    sqlx::query(
        "update contacts set deleted_at = now(), \
                email = case when btrim(first_name) = '' and btrim(last_name) = '' \
                             then email end, \
                email_norm = case when btrim(first_name) = '' and btrim(last_name) = '' \
                                  then email_norm end, \
                phone = null \
         where org_id = $1 and id = $2",
    )
    .bind(org)
    .bind(remove)
    .execute(tx.conn())
    .await?;
    // The merge is recorded in its own column, which only this call may write.
    sqlx::query("select crm_record_merge($1, $2)")
        .bind(remove)
        .bind(keep)
        .execute(tx.conn())
        .await?;
    write_emails(tx, remove, &[]).await?;
    write_phones(tx, remove, &[]).await?;
    write_fields(tx, keep, &f, &emails, &phones).await?;
    write_emails(tx, keep, &emails).await?;
    write_phones(tx, keep, &phones).await?;

    // Tags and owners (keep's role wins), then the records pointing at `remove`.
    sqlx::query(
        "with moved as (delete from contact_tags where org_id = $1 and contact_id = $2 \
                        returning tag_id) \
         insert into contact_tags (org_id, contact_id, tag_id) \
         select $1, $3, tag_id from moved on conflict do nothing",
    )
    .bind(org)
    .bind(remove)
    .bind(keep)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "with moved as (delete from contact_owners where org_id = $1 and contact_id = $2 \
                        returning user_id, role) \
         insert into contact_owners (org_id, contact_id, user_id, role) \
         select $1, $3, user_id, role from moved on conflict do nothing",
    )
    .bind(org)
    .bind(remove)
    .bind(keep)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "with d as (update deals set contact_id = $3 where org_id = $1 and contact_id = $2 \
                    returning 1), \
              a as (update activities set contact_id = $3 where org_id = $1 and contact_id = $2 \
                    returning 1) \
         update consents set contact_id = $3 where org_id = $1 and contact_id = $2",
    )
    .bind(org)
    .bind(remove)
    .bind(keep)
    .execute(tx.conn())
    .await?;

    let keep_after = load(tx, keep, true).await?;
    let remove_after = load(tx, remove, false).await?;
    tx.record(
        ENTITY,
        Some(remove.uuid()),
        "merge",
        &diff(Some(&remove_before), Some(&remove_after)),
        None,
        &Value::Null,
    )
    .await?;
    tx.record(
        ENTITY,
        Some(keep.uuid()),
        "merge",
        &diff(Some(&keep_before), Some(&keep_after)),
        Some("contact.merged"),
        &json!({ "id": keep, "merged_id": remove }),
    )
    .await?;
    Ok(keep_after)
}
