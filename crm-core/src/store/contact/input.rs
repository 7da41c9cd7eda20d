//! Applying a [`ContactPatch`] to the contact as read, without the database: every field
//! error is recorded (all at once, in field order), the values to write are returned. The
//! checks that need the database (the phone region, the company and owners) are the
//! caller's.

use super::*;

/// The contact's scalar columns after the patch.
pub(super) fn patch_fields(
    errors: &mut FieldErrors,
    before: &Contact,
    patch: &ContactPatch,
) -> Fields {
    let mut f = Fields::of(before);
    if let Some(v) = &patch.first_name {
        f.first_name = check_name(errors, "first_name", v);
    }
    if let Some(v) = &patch.last_name {
        f.last_name = check_name(errors, "last_name", v);
    }
    if let Some(v) = &patch.salutation {
        f.salutation = check_text(errors, "salutation", v.as_deref());
    }
    if let Some(v) = &patch.title {
        f.title = check_text(errors, "title", v.as_deref());
    }
    if let Some(v) = &patch.job_title {
        f.job_title = check_text(errors, "job_title", v.as_deref());
    }
    if let Some(v) = &patch.department {
        f.department = check_text(errors, "department", v.as_deref());
    }
    if let Some(v) = &patch.linkedin_url {
        f.linkedin_url = check_linkedin(errors, v.as_deref());
    }
    if let Some(v) = patch.birthday {
        check_birthday(errors, v);
        f.birthday = v;
    }
    if let Some(v) = patch.source {
        f.source = v;
    }
    if let Some(v) = patch.status {
        f.status = v;
    }
    if let Some(v) = patch.company_id {
        f.company_id = v;
    }
    if let Some(v) = &patch.city {
        f.city = check_text(errors, "city", v.as_deref());
    }
    patch_address(errors, &mut f, patch);
    if let Some(v) = &patch.custom {
        f.custom = Value::Object(v.clone());
    }
    f
}

/// The contact's e-mail rows after the patch: `emails` replaces the list (with `email` as
/// its primary), else `email` sets or clears (`null`) the primary address.
pub(super) fn patch_emails(
    errors: &mut FieldErrors,
    before: &Contact,
    patch: &ContactPatch,
) -> Vec<EmailRow> {
    match (&patch.emails, &patch.email) {
        (Some(list), email) => {
            collect_emails(errors, email.as_ref().and_then(|e| e.as_deref()), list)
        }
        (None, Some(Some(raw))) => {
            let mut rows = email_rows_of(before);
            if let Some(e) = errors.check("email", Email::parse(raw)) {
                set_primary_email(&mut rows, e);
            }
            rows
        }
        (None, Some(None)) => {
            let mut rows = email_rows_of(before);
            rows.retain(|r| !r.primary);
            ensure_one_primary(&mut rows, |r| &mut r.primary);
            rows
        }
        (None, None) => email_rows_of(before),
    }
}

/// The contact's phone rows after the patch, numbers read in `region`: `phones` replaces
/// the list (with `phone` as its primary), else `phone` sets or clears the primary number.
pub(super) fn patch_phones(
    errors: &mut FieldErrors,
    before: &Contact,
    patch: &ContactPatch,
    region: &str,
) -> Vec<PhoneRow> {
    match (&patch.phones, &patch.phone) {
        (Some(list), phone) => collect_phones(
            errors,
            region,
            phone.as_ref().and_then(|p| p.as_deref()),
            list,
        ),
        (None, Some(Some(raw))) => {
            let mut rows = phone_rows_of(before);
            if let Some(p) = errors.check("phone", Phone::read(raw, region)) {
                set_primary_phone(&mut rows, p);
            }
            rows
        }
        (None, Some(None)) => {
            let mut rows = phone_rows_of(before);
            rows.retain(|r| !r.primary);
            ensure_one_primary(&mut rows, |r| &mut r.primary);
            rows
        }
        (None, None) => phone_rows_of(before),
    }
}

/// Applies the postal address fields of `patch` to `f`, recording problems.
fn patch_address(errors: &mut FieldErrors, f: &mut Fields, patch: &ContactPatch) {
    let texts = [
        ("street", &patch.street, &mut f.street),
        ("postal_code", &patch.postal_code, &mut f.postal_code),
        ("home_street", &patch.home_street, &mut f.home_street),
        (
            "home_postal_code",
            &patch.home_postal_code,
            &mut f.home_postal_code,
        ),
        ("home_city", &patch.home_city, &mut f.home_city),
    ];
    for (field, given, target) in texts {
        if let Some(v) = given {
            *target = check_text(errors, field, v.as_deref());
        }
    }
    let countries = [
        ("country", &patch.country, &mut f.country),
        ("home_country", &patch.home_country, &mut f.home_country),
    ];
    for (field, given, target) in countries {
        if let Some(v) = given {
            *target = check_country(errors, field, v.as_deref());
        }
    }
}
