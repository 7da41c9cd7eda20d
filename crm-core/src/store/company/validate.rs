//! Checks of company input: name, domain, country, e-mails and phones with one primary each, list entries, tags, owners and a free VAT id.

use super::*;

/// A domain from user input: the host of what [`Website::parse`] accepts, without `www.`.
pub(super) fn parse_domain(raw: &str) -> std::result::Result<String, &'static str> {
    Website::parse(raw)
        .map(|w| w.domain().to_string())
        .map_err(|_| "is not a valid domain name")
}

/// A two-letter country code, upper-cased.
pub(super) fn parse_country(raw: &str) -> std::result::Result<String, &'static str> {
    let c = raw.trim();
    if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(c.to_ascii_uppercase())
    } else {
        Err("must be a two-letter country code (ISO 3166-1, e.g. DE)")
    }
}

/// Checks a name: trimmed, 1 to 300 characters.
pub(super) fn check_name(errors: &mut FieldErrors, raw: &str) -> String {
    let name = raw.trim().to_string();
    if name.is_empty() {
        errors.add("name", "must not be empty");
    } else if name.chars().count() > MAX_NAME {
        errors.add("name", "is longer than 300 characters");
    }
    errors.check("name", crate::domain::text::check_single_line(&name));
    name
}

/// Records a control character in any of the single-line text fields given (name, value).
pub(super) fn check_single_lines<'a>(
    errors: &mut FieldErrors,
    fields: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) {
    for (field, value) in fields {
        if let Some(v) = value {
            errors.check(field, crate::domain::text::check_single_line(v));
        }
    }
}

/// Parses an optional validated text field, recording its error.
pub(super) fn optional<T>(
    errors: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> std::result::Result<T, String>,
) -> Option<T> {
    let raw = clean(raw)?;
    errors.check(field, parse(&raw))
}

/// Parses the e-mail inputs of `list` into rows, recording errors as `emails[i].email`.
pub(super) fn parse_emails(errors: &mut FieldErrors, list: &[NewCompanyEmail]) -> Vec<EmailRow> {
    let primaries = list.iter().filter(|e| e.primary).count();
    if primaries > 1 {
        errors.add("emails", "only one address may be primary");
    }
    list.iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let email = errors.check(&format!("emails[{i}].email"), Email::parse(&e.email))?;
            Some(EmailRow {
                norm: email.normalized(),
                email: email.into_string(),
                kind: e.kind,
                primary: e.primary,
            })
        })
        .collect()
}

/// Parses the phone inputs of `list` into rows, recording errors as `phones[i].number`.
pub(super) fn parse_phones(
    errors: &mut FieldErrors,
    list: &[NewCompanyPhone],
    region: &str,
) -> Vec<PhoneRow> {
    let primaries = list.iter().filter(|p| p.primary).count();
    if primaries > 1 {
        errors.add("phones", "only one number may be primary");
    }
    list.iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let phone = errors.check(
                &format!("phones[{i}].number"),
                Phone::parse(&p.number, region),
            )?;
            Some(PhoneRow {
                e164: phone.e164().to_string(),
                raw: phone.raw().to_string(),
                kind: p.kind,
                primary: p.primary,
            })
        })
        .collect()
}

/// Makes `primary` the primary address of `rows` (added in front when new; an address
/// already listed keeps its kind and takes the spelling of `primary`).
pub(super) fn set_primary_email(rows: &mut Vec<EmailRow>, primary: EmailRow) {
    for r in rows.iter_mut() {
        r.primary = false;
    }
    match rows.iter_mut().find(|r| r.norm == primary.norm) {
        Some(r) => {
            r.email = primary.email;
            r.primary = true;
        }
        None => rows.insert(
            0,
            EmailRow {
                primary: true,
                ..primary
            },
        ),
    }
}

/// Makes `primary` the primary number of `rows` (added in front when new; a number already
/// listed keeps its kind and takes the spelling of `primary`).
pub(super) fn set_primary_phone(rows: &mut Vec<PhoneRow>, primary: PhoneRow) {
    for r in rows.iter_mut() {
        r.primary = false;
    }
    match rows.iter_mut().find(|r| r.e164 == primary.e164) {
        Some(r) => {
            r.raw = primary.raw;
            r.primary = true;
        }
        None => rows.insert(
            0,
            PhoneRow {
                primary: true,
                ..primary
            },
        ),
    }
}

/// Removes duplicates (the first occurrence stays, taking over a later one's primary
/// flag), keeps at most one primary and makes the first row primary when none is; the
/// primary comes first.
pub(super) fn settle<T, K: Eq + std::hash::Hash + Clone>(
    rows: Vec<T>,
    key: impl Fn(&T) -> K,
    primary: impl Fn(&mut T) -> &mut bool,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(rows.len());
    let mut index: HashMap<K, usize> = HashMap::new();
    for mut r in rows {
        let k = key(&r);
        match index.get(&k) {
            Some(&i) => {
                if *primary(&mut r) {
                    *primary(&mut out[i]) = true;
                }
            }
            None => {
                index.insert(k, out.len());
                out.push(r);
            }
        }
    }
    let mut seen = false;
    for r in out.iter_mut() {
        let p = primary(r);
        if *p && seen {
            *p = false;
        }
        seen |= *p;
    }
    if !seen && let Some(first) = out.first_mut() {
        *primary(first) = true;
    }
    if let Some(pos) = out.iter_mut().position(|r| *primary(r)) {
        let p = out.remove(pos);
        out.insert(0, p);
    }
    out
}

pub(super) fn settle_emails(rows: Vec<EmailRow>) -> Vec<EmailRow> {
    settle(rows, |r| r.norm.clone(), |r| &mut r.primary)
}

pub(super) fn settle_phones(rows: Vec<PhoneRow>) -> Vec<PhoneRow> {
    settle(rows, |r| r.e164.clone(), |r| &mut r.primary)
}

/// Resolves a list entry for a company field, recording unknown or deactivated entries as
/// field errors. `keep` is the entry's key the company has now: it stays acceptable even
/// when deactivated.
pub(super) async fn list_entry(
    tx: &mut Tx,
    errors: &mut FieldErrors,
    kind: ListKind,
    field: &str,
    raw: &str,
    keep: Option<&str>,
) -> Result<Option<ListEntryId>> {
    match list::find(tx, kind, raw).await {
        Ok(entry) if entry.active || keep == Some(entry.key.as_str()) => Ok(Some(entry.id)),
        Ok(_) => {
            errors.add(
                field,
                format!("is deactivated in the {} list", kind.plural()),
            );
            Ok(None)
        }
        Err(Error::NotFound { .. }) => {
            errors.add(
                field,
                format!("is not an entry of the {} list", kind.plural()),
            );
            Ok(None)
        }
        Err(Error::Validation(fe)) => {
            errors.0.extend(fe.0.into_iter().map(|mut e| {
                e.field = field.to_string();
                e
            }));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Validates tag names into `errors`.
pub(super) fn check_tags(errors: &mut FieldErrors, tags: &[String]) -> Result<Vec<String>> {
    match crate::store::tag::clean_names(tags) {
        Ok(names) => Ok(names),
        Err(Error::Validation(fe)) => {
            errors.0.extend(fe.0);
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// Records an error when an owner is not a live user of the organization.
pub(super) async fn check_owners(
    tx: &mut Tx,
    errors: &mut FieldErrors,
    owners: &[Owner],
) -> Result<()> {
    if owners.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = owners.iter().map(|o| o.user_id.uuid()).collect();
    let known: i64 = sqlx::query_scalar(
        "select count(distinct id) from users \
         where org_id = $1 and id = any($2) and deleted_at is null",
    )
    .bind(tx.org())
    .bind(&ids)
    .fetch_one(tx.conn())
    .await?;
    let wanted = ids.iter().collect::<HashSet<_>>().len() as i64;
    if known != wanted {
        errors.add("owners", "names a user who is not in this organization");
    }
    Ok(())
}

/// Fails with a conflict when a live company other than `except` has `vat`.
pub(super) async fn check_vat_free(
    tx: &mut Tx,
    vat: Option<&str>,
    except: Option<CompanyId>,
) -> Result<()> {
    let Some(vat) = vat else {
        return Ok(());
    };
    let taken: bool = sqlx::query_scalar(
        "select exists(select 1 from companies where org_id = $1 and vat_id = $2 \
         and deleted_at is null and ($3::uuid is null or id <> $3))",
    )
    .bind(tx.org())
    .bind(vat)
    .bind(except)
    .fetch_one(tx.conn())
    .await?;
    if taken {
        return Err(Error::Conflict(
            "another company already has this VAT id".to_string(),
        ));
    }
    Ok(())
}

/// The list entry a given or patched industry or account type names (`None` when cleared); the
/// company's current value `keep` stays valid even when its entry is inactive.
pub(super) async fn patch_list_entry(
    tx: &mut Tx,
    errors: &mut FieldErrors,
    kind: ListKind,
    field: &str,
    value: &Option<String>,
    keep: Option<&str>,
) -> Result<Option<ListEntryId>> {
    match clean(value.as_deref()) {
        Some(s) => list_entry(tx, errors, kind, field, &s, keep).await,
        None => Ok(None),
    }
}
