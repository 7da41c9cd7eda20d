//! Checks of contact input: names, texts, tags, birthday, LinkedIn URL, e-mail and phone rows with one primary each, and references.

use super::*;

/// A name: trimmed, at most [`MAX_NAME_LEN`] characters.
pub(super) fn check_name(errors: &mut FieldErrors, field: &str, value: &str) -> String {
    let v = value.trim();
    if v.chars().count() > MAX_NAME_LEN {
        errors.add(field, format!("is longer than {MAX_NAME_LEN} characters"));
    }
    errors.check(field, crate::domain::text::check_single_line(v));
    v.to_string()
}

/// An optional text: trimmed, empty as `None`, at most [`MAX_TEXT_LEN`] characters.
pub(super) fn check_text(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
) -> Option<String> {
    let v = clean(value);
    if v.as_ref().is_some_and(|v| v.chars().count() > MAX_TEXT_LEN) {
        errors.add(field, format!("is longer than {MAX_TEXT_LEN} characters"));
    }
    if let Some(v) = &v {
        errors.check(field, crate::domain::text::check_single_line(v));
    }
    v
}

/// An optional country: an ISO 3166-1 alpha-2 code or a country name the import knows,
/// as the upper-case code.
pub(super) fn check_country(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
) -> Option<String> {
    let v = clean(value)?;
    let code = crate::import::contacts::parse_country(&v);
    if code.is_none() {
        errors.add(
            field,
            "must be a two-letter country code (ISO 3166-1, e.g. DE) or a country name",
        );
    }
    code
}

/// A LinkedIn profile address: an http(s) address on `linkedin.com` (or a country
/// subdomain) whose path is `/in/<name>` or `/pub/<name>`. Without a scheme, `https://` is
/// added.
pub fn parse_linkedin_url(raw: &str) -> std::result::Result<String, InvalidValue> {
    let site = Website::parse(raw)?;
    let host_ok = site.domain() == "linkedin.com" || site.domain().ends_with(".linkedin.com");
    if !host_ok {
        return Err(InvalidValue::new("must be an address on linkedin.com"));
    }
    let url = site.as_str();
    let after_scheme = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let path = after_scheme
        .find('/')
        .map(|i| &after_scheme[i..])
        .unwrap_or("");
    let profile = path
        .strip_prefix("/in/")
        .or_else(|| path.strip_prefix("/pub/"))
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
    match profile {
        Some(name) if !name.is_empty() => Ok(url.to_string()),
        _ => Err(InvalidValue::new(
            "must be a LinkedIn profile address (linkedin.com/in/...)",
        )),
    }
}

/// Cleans tag names, recording problems under `tags`.
pub(super) fn check_tags(errors: &mut FieldErrors, names: &[String]) -> Vec<String> {
    match tag::clean_names(names) {
        Ok(names) => names,
        Err(Error::Validation(e)) => {
            errors.0.extend(e.0);
            Vec::new()
        }
        Err(e) => {
            errors.add("tags", e.to_string());
            Vec::new()
        }
    }
}

pub(super) fn check_birthday(errors: &mut FieldErrors, birthday: Option<NaiveDate>) {
    if birthday.is_some_and(|b| b > Utc::now().date_naive()) {
        errors.add("birthday", "must not be in the future");
    }
}

pub(super) fn check_linkedin(errors: &mut FieldErrors, raw: Option<&str>) -> Option<String> {
    let raw = clean(raw)?;
    errors.check("linkedin_url", parse_linkedin_url(&raw))
}

/// Builds the e-mail rows from a primary address and a list, recording every problem.
pub(super) fn collect_emails(
    errors: &mut FieldErrors,
    primary: Option<&str>,
    list: &[NewContactEmail],
) -> Vec<EmailRow> {
    if list.len() > MAX_ADDRESSES {
        errors.add("emails", format!("has more than {MAX_ADDRESSES} addresses"));
    }
    let primary = clean(primary).and_then(|raw| errors.check("email", Email::parse(&raw)));
    let mut parsed: Vec<EmailRow> = Vec::new();
    for (i, e) in list.iter().enumerate() {
        if let Some(email) = errors.check(&format!("emails[{i}].email"), Email::parse(&e.email)) {
            parsed.push(EmailRow {
                norm: email.normalized(),
                email: email.into_string(),
                kind: e.kind,
                primary: e.primary,
            });
        }
    }
    let mut rows: Vec<EmailRow> = Vec::new();
    match primary {
        Some(p) => {
            let norm = p.normalized();
            if parsed.iter().any(|r| r.primary && r.norm != norm) {
                errors.add(
                    "emails",
                    "an address other than the primary e-mail is marked primary",
                );
            }
            let kind = parsed
                .iter()
                .find(|r| r.norm == norm)
                .map(|r| r.kind)
                .unwrap_or_default();
            rows.push(EmailRow {
                email: p.into_string(),
                norm,
                kind,
                primary: true,
            });
        }
        None => {
            let marked: HashSet<&str> = parsed
                .iter()
                .filter(|r| r.primary)
                .map(|r| r.norm.as_str())
                .collect();
            if marked.len() > 1 {
                errors.add("emails", "more than one address is marked primary");
            }
        }
    }
    for r in parsed {
        if rows.iter().any(|x| x.norm == r.norm) {
            continue;
        }
        let primary = r.primary && !rows.iter().any(|x| x.primary);
        rows.push(EmailRow { primary, ..r });
    }
    ensure_one_primary(&mut rows, |r| &mut r.primary);
    rows.sort_by_key(|r| !r.primary);
    rows
}

/// Builds the phone rows from a primary number and a list, recording every problem.
pub(super) fn collect_phones(
    errors: &mut FieldErrors,
    region: &str,
    primary: Option<&str>,
    list: &[NewContactPhone],
) -> Vec<PhoneRow> {
    if list.len() > MAX_ADDRESSES {
        errors.add("phones", format!("has more than {MAX_ADDRESSES} numbers"));
    }
    let primary = clean(primary).and_then(|raw| errors.check("phone", Phone::read(&raw, region)));
    let mut parsed: Vec<PhoneRow> = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let field = format!("phones[{i}].number");
        if let Some(phone) = errors.check(&field, Phone::read(&p.number, region)) {
            parsed.push(PhoneRow {
                e164: phone.e164().map(str::to_string),
                raw: phone.raw().to_string(),
                kind: p.kind,
                primary: p.primary,
            });
        }
    }
    let mut rows: Vec<PhoneRow> = Vec::new();
    match primary {
        Some(p) => {
            let first = PhoneRow {
                e164: p.e164().map(str::to_string),
                raw: p.raw().to_string(),
                kind: Default::default(),
                primary: true,
            };
            if parsed.iter().any(|r| r.primary && r.key() != first.key()) {
                errors.add(
                    "phones",
                    "a number other than the primary phone is marked primary",
                );
            }
            let kind = parsed
                .iter()
                .find(|r| r.key() == first.key())
                .map(|r| r.kind)
                .unwrap_or_default();
            rows.push(PhoneRow { kind, ..first });
        }
        None => {
            let marked: HashSet<&str> = parsed
                .iter()
                .filter(|r| r.primary)
                .map(PhoneRow::key)
                .collect();
            if marked.len() > 1 {
                errors.add("phones", "more than one number is marked primary");
            }
        }
    }
    for r in parsed {
        if rows.iter().any(|x| x.key() == r.key()) {
            continue;
        }
        let primary = r.primary && !rows.iter().any(|x| x.primary);
        rows.push(PhoneRow { primary, ..r });
    }
    ensure_one_primary(&mut rows, |r| &mut r.primary);
    rows.sort_by_key(|r| !r.primary);
    rows
}

/// Marks the first row primary when none is.
pub(super) fn ensure_one_primary<T>(rows: &mut [T], mut primary: impl FnMut(&mut T) -> &mut bool) {
    if !rows.iter_mut().any(|r| *primary(r))
        && let Some(first) = rows.first_mut()
    {
        *primary(first) = true;
    }
}

/// Replaces the primary address with `new` (promoting it if the contact has it already).
pub(super) fn set_primary_email(rows: &mut Vec<EmailRow>, new: Email) {
    let norm = new.normalized();
    let old_kind = rows.iter().find(|r| r.primary).map(|r| r.kind);
    rows.retain(|r| !r.primary || r.norm == norm);
    if let Some(r) = rows.iter_mut().find(|r| r.norm == norm) {
        r.email = new.into_string();
        r.primary = true;
    } else {
        rows.push(EmailRow {
            email: new.into_string(),
            norm,
            kind: old_kind.unwrap_or_default(),
            primary: true,
        });
    }
    rows.sort_by_key(|r| !r.primary);
}

/// Replaces the primary number with `new` (promoting it if the contact has it already).
pub(super) fn set_primary_phone(rows: &mut Vec<PhoneRow>, new: PhoneReading) {
    let old_kind = rows.iter().find(|r| r.primary).map(|r| r.kind);
    let new = PhoneRow {
        e164: new.e164().map(str::to_string),
        raw: new.raw().to_string(),
        kind: old_kind.unwrap_or_default(),
        primary: true,
    };
    rows.retain(|r| !r.primary || r.key() == new.key());
    if let Some(r) = rows.iter_mut().find(|r| r.key() == new.key()) {
        r.raw = new.raw;
        r.primary = true;
    } else {
        rows.push(new);
    }
    rows.sort_by_key(|r| !r.primary);
}

/// The rule of the schema's CHECK, as a field error: a first name, a last name or an e-mail.
pub(super) fn check_identity(errors: &mut FieldErrors, f: &Fields, emails: &[EmailRow]) {
    if f.first_name.is_empty() && f.last_name.is_empty() && emails.is_empty() {
        errors.add(
            "first_name",
            "a contact needs a first name, a last name or an e-mail address",
        );
    }
}

/// Checks that the company is a live company of the organization and that the owners are
/// users of it, recording problems as field errors.
pub(super) async fn check_references(
    tx: &mut Tx,
    errors: &mut FieldErrors,
    company: Option<CompanyId>,
    owners: Option<&[Owner]>,
) -> Result<()> {
    let org = tx.org();
    let users: Vec<Uuid> = owners
        .unwrap_or_default()
        .iter()
        .map(|o| o.user_id.uuid())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let (company_ok, known_users): (bool, i64) = sqlx::query_as(
        "select $2::uuid is null or exists (select 1 from companies \
                where org_id = $1 and id = $2 and deleted_at is null), \
                (select count(*) from users where org_id = $1 and id = any($3) \
                 and deleted_at is null)",
    )
    .bind(org)
    .bind(company)
    .bind(&users)
    .fetch_one(tx.conn())
    .await?;
    if !company_ok {
        errors.add("company_id", "is not a company of this organization");
    }
    if usize::try_from(known_users).unwrap_or(0) != users.len() {
        errors.add("owners", "names a user who is not in this organization");
    }
    Ok(())
}
