//! Checking a deal's values and resolving the records it points at.

use super::*;

/// Where an amount comes from: typed input or the stored value.
pub(super) enum Amount<'a> {
    Text(&'a str),
    Stored(Decimal),
}

pub(super) fn check_title(errors: &mut FieldErrors, title: &str) -> Option<String> {
    let title = title.trim();
    if title.is_empty() {
        errors.add("title", "must not be empty");
        None
    } else if title.chars().count() > 300 {
        errors.add("title", "must be at most 300 characters");
        None
    } else if let Err(e) = crate::domain::text::check_single_line(title) {
        errors.add("title", e.message().to_string());
        None
    } else {
        Some(title.to_string())
    }
}

/// Checks an amount in a currency (`currency` when given, else the one the amount names,
/// else `fallback`).
pub(super) fn check_money(
    errors: &mut FieldErrors,
    amount: Amount<'_>,
    currency: Option<&str>,
    fallback: &str,
) -> Option<Money> {
    // An amount typed with a sign or code (`12.500,00 €`) names its currency when no
    // currency is given.
    let named = match amount {
        Amount::Text(v) => Money::named_currency(v).ok().flatten(),
        Amount::Stored(_) => None,
    };
    let currency = match currency.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => errors.check("currency", Currency::parse(c)),
        None => match named {
            Some(c) => Some(c),
            None => errors.check("currency", Currency::parse(fallback)),
        },
    };
    let checked_in = currency.unwrap_or_default();
    let money = match amount {
        Amount::Text(v) => errors.check("value", Money::parse(v, checked_in.as_str())),
        Amount::Stored(v) => errors.check("value", Money::new(v, checked_in)),
    };
    currency.and(money)
}

pub(super) fn audit_diff(before: Option<&Deal>, after: Option<&Deal>) -> Value {
    let mut d = diff(before, after);
    if let Some(m) = d.as_object_mut() {
        // Names of other records: derived, and a contact's name is personal data.
        for k in ["contact", "company", "pipeline", "stage", "probability"] {
            m.remove(k);
        }
    }
    d
}

pub(super) fn split_ref(reference: &str) -> (Option<Uuid>, &str) {
    let r = reference.trim();
    (Uuid::parse_str(r).ok(), r)
}

/// The pipeline named by id or name (the default one when `None`) and the stage named by
/// id or name in it (its first stage when `None`); problems go to `errors`.
pub(super) async fn resolve_target(
    tx: &mut Tx,
    errors: &mut FieldErrors,
    pipeline: Option<&str>,
    stage: Option<&str>,
) -> Result<Option<(PipelineId, StageId)>> {
    let org = tx.org();
    let pipeline = pipeline.map(str::trim).filter(|s| !s.is_empty());
    let pipeline_id: Option<PipelineId> =
        match pipeline {
            None => sqlx::query_scalar(
                "select id from pipelines where org_id = $1 and is_default and deleted_at is null",
            )
            .bind(org)
            .fetch_optional(tx.conn())
            .await?,
            Some(r) => {
                let (id, name) = split_ref(r);
                sqlx::query_scalar(
                    "select id from pipelines where org_id = $1 and deleted_at is null \
                 and (id = $2 or lower(name) = lower($3)) \
                 order by coalesce(id = $2, false) desc, (name = $3) desc limit 1",
                )
                .bind(org)
                .bind(id)
                .bind(name)
                .fetch_optional(tx.conn())
                .await?
            }
        };
    let Some(pipeline_id) = pipeline_id else {
        errors.add(
            "pipeline",
            if pipeline.is_none() {
                "the organization has no default pipeline; name one"
            } else {
                "no such pipeline"
            },
        );
        return Ok(None);
    };
    let stage = stage.map(str::trim).filter(|s| !s.is_empty());
    let (id, name) = match stage {
        Some(r) => {
            let (id, name) = split_ref(r);
            (id, Some(name))
        }
        None => (None, None),
    };
    let stage_id: Option<StageId> = sqlx::query_scalar(
        "select id from stages where org_id = $1 and pipeline_id = $2 \
         and ($4::text is null or id = $3 or lower(name) = lower($4)) \
         order by coalesce(id = $3, false) desc, coalesce(name = $4, false) desc, position \
         limit 1",
    )
    .bind(org)
    .bind(pipeline_id)
    .bind(id)
    .bind(name)
    .fetch_optional(tx.conn())
    .await?;
    match stage_id {
        Some(s) => Ok(Some((pipeline_id, s))),
        None => {
            errors.add(
                "stage",
                if stage.is_none() {
                    "the pipeline has no stages"
                } else {
                    "no such stage in the pipeline"
                },
            );
            Ok(None)
        }
    }
}

/// Checks that the linked contact and company exist (and are not deleted) and that every
/// owner is a user of the organization. Only the given links are checked.
pub(super) async fn check_refs(
    tx: &mut Tx,
    errors: &mut FieldErrors,
    contact: Option<ContactId>,
    company: Option<CompanyId>,
    owners: Option<&[Owner]>,
) -> Result<()> {
    let mut users: Vec<Uuid> = owners
        .unwrap_or_default()
        .iter()
        .map(|o| o.user_id.uuid())
        .collect();
    users.sort();
    users.dedup();
    let (contact_ok, company_ok, found): (bool, bool, i64) = sqlx::query_as(
        "select ($2::uuid is null or exists(select 1 from contacts where org_id = $1 \
                  and id = $2 and deleted_at is null)), \
                ($3::uuid is null or exists(select 1 from companies where org_id = $1 \
                  and id = $3 and deleted_at is null)), \
                (select count(*) from users where org_id = $1 and id = any($4) \
                  and deleted_at is null)",
    )
    .bind(tx.org())
    .bind(contact)
    .bind(company)
    .bind(&users)
    .fetch_one(tx.conn())
    .await?;
    if !contact_ok {
        errors.add("contact_id", "no such contact");
    }
    if !company_ok {
        errors.add("company_id", "no such company");
    }
    if usize::try_from(found).unwrap_or(0) != users.len() {
        errors.add("owners", "names a user who is not in this organization");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_deal_reads_string_and_number_values() {
        let a: NewDeal = serde_json::from_str(r#"{"title":"A","value":"1.234,50"}"#).unwrap();
        assert_eq!(a.value.as_deref(), Some("1.234,50"));
        let b: NewDeal = serde_json::from_str(r#"{"title":"B","value":1200.5}"#).unwrap();
        assert_eq!(b.value.as_deref(), Some("1200.5"));
        let c: NewDeal = serde_json::from_str(r#"{"title":"C"}"#).unwrap();
        assert_eq!(c.value, None);
        assert!(serde_json::from_str::<NewDeal>(r#"{"title":"D","valeu":1}"#).is_err());
    }

    #[test]
    fn money_checks_report_value_and_currency() {
        let mut e = FieldErrors::new();
        let m = check_money(&mut e, Amount::Text("1.234,50"), None, "EUR").unwrap();
        assert_eq!(m.to_string(), "1234.50 EUR");
        assert!(e.is_empty());
        assert!(check_money(&mut e, Amount::Text("-1"), Some("XXX"), "EUR").is_none());
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["currency", "value"]);
        let mut e = FieldErrors::new();
        let jpy = check_money(
            &mut e,
            Amount::Stored(Decimal::new(1250, 2)),
            Some("JPY"),
            "EUR",
        );
        assert!(jpy.is_none());
        assert_eq!(e.0[0].field, "value");
    }
}
