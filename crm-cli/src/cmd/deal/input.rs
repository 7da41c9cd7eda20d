//! Reading a deal from flags or JSON: `NewDeal` for `add`, `DealPatch` for `edit`.

use anyhow::Result;
use crm_core::auth::zone;
use crm_core::domain::OwnerRole;
use crm_core::store::deal::{DealPatch, NewDeal};
use crm_core::store::owner::Owner;
use crm_core::{Crm, Error, OrgId, Tx};
use serde_json::{Map, Value};

use super::{AddArgs, Clearable, FieldArgs};
use crate::input::{from_json, refuse_given_and_cleared, set, take_reference, version_required};
use crate::resolve::{
    resolve_company_opt, resolve_company_taken, resolve_contact_opt, resolve_contact_taken,
    resolve_user,
};

/// Keys of `deal show` that the CRM sets or derives; input ignores them.
const READ_ONLY: [&str; 12] = [
    "id",
    "probability",
    "status",
    "lost_reason",
    "lost_reason_text",
    "closed_at",
    "created_at",
    "updated_at",
    "deleted_at",
    "stage_history",
    "version",
    "lexware_open_amounts",
];

/// The users named by `--owner`, as owners.
pub(super) async fn owners_from(crm: &Crm, org: OrgId, emails: &[String]) -> Result<Vec<Owner>> {
    let mut owners = Vec::with_capacity(emails.len());
    for email in emails {
        owners.push(Owner {
            user_id: resolve_user(crm, org, email, "--owner").await?,
            role: OwnerRole::Owner,
        });
    }
    Ok(owners)
}

/// The deal `add` makes from its flags (contact and company resolved).
pub(super) async fn new_from_flags(
    tx: &mut Tx,
    args: AddArgs,
    owners: Vec<Owner>,
) -> Result<NewDeal> {
    let f = args.fields;
    let contact_id = resolve_contact_opt(tx, f.contact.as_deref()).await?;
    let company_id = resolve_company_opt(tx, f.company.as_deref()).await?;
    Ok(NewDeal {
        title: f.title.unwrap_or_default(),
        value: f.value,
        currency: f.currency,
        pipeline: args.pipeline,
        stage: args.stage,
        contact_id,
        company_id,
        expected_close_date: crate::time::opt_date(&f.close_date, zone::acting(tx).await?)?,
        owners,
        ..NewDeal::default()
    })
}

/// The deal `add --json` reads: the keys `deal show` prints; the pipeline and stage ids win.
pub(super) async fn new_from_json(tx: &mut Tx, mut obj: Map<String, Value>) -> Result<NewDeal> {
    for key in READ_ONLY {
        obj.remove(key);
    }
    // `deal show` prints both the names and the ids of pipeline and stage: the ids win.
    for (id_key, key) in [("pipeline_id", "pipeline"), ("stage_id", "stage")] {
        match obj.remove(id_key) {
            Some(Value::Null) | None => {}
            Some(id) => {
                obj.insert(key.into(), id);
            }
        }
    }
    let contact = take_reference(&mut obj, "contact", "contact_id");
    let company = take_reference(&mut obj, "company", "company_id");
    let mut new: NewDeal = from_json(obj)?;
    if let Some(Some(id)) = resolve_contact_taken(tx, contact).await? {
        new.contact_id = Some(id);
    }
    if let Some(Some(id)) = resolve_company_taken(tx, company).await? {
        new.company_id = Some(id);
    }
    Ok(new)
}

/// The change `edit` makes from its flags and `--clear`, at `version`.
pub(super) async fn patch_from_flags(
    tx: &mut Tx,
    version: i32,
    f: FieldArgs,
    clear: &[Clearable],
    owners: Vec<Owner>,
) -> Result<DealPatch> {
    let cleared = |c: Clearable| clear.contains(&c);
    let given = [
        (Clearable::Contact, f.contact.is_some()),
        (Clearable::Company, f.company.is_some()),
        (Clearable::CloseDate, f.close_date.is_some()),
    ];
    refuse_given_and_cleared(&given, clear)?;
    let contact_id = resolve_contact_opt(tx, f.contact.as_deref()).await?;
    let company_id = resolve_company_opt(tx, f.company.as_deref()).await?;
    Ok(DealPatch {
        version,
        title: f.title,
        value: f.value,
        currency: f.currency,
        contact_id: set(contact_id, cleared(Clearable::Contact)),
        company_id: set(company_id, cleared(Clearable::Company)),
        expected_close_date: set(
            crate::time::opt_date(&f.close_date, zone::acting(tx).await?)?,
            cleared(Clearable::CloseDate),
        ),
        owners: if owners.is_empty() {
            None
        } else {
            Some(owners)
        },
        custom: None,
    })
}

/// The change `edit --json` reads; the stage and pipeline change with `deal move` only.
pub(super) async fn patch_from_json(
    tx: &mut Tx,
    mut obj: Map<String, Value>,
    version: Option<i32>,
) -> Result<DealPatch> {
    let version = match (version, obj.get("version").and_then(Value::as_i64)) {
        (Some(v), _) => v,
        (None, Some(v)) => i32::try_from(v).map_err(|_| Error::invalid("version", "too large"))?,
        (None, None) => {
            return Err(version_required("deal"));
        }
    };
    for key in READ_ONLY {
        obj.remove(key);
    }
    // The stage and pipeline change with `deal move`.
    for key in ["pipeline", "pipeline_id", "stage", "stage_id"] {
        obj.remove(key);
    }
    let contact = take_reference(&mut obj, "contact", "contact_id");
    let company = take_reference(&mut obj, "company", "company_id");
    obj.insert("version".into(), version.into());
    let mut patch: DealPatch = from_json(obj)?;
    if let Some(id) = resolve_contact_taken(tx, contact).await? {
        patch.contact_id = Some(id);
    }
    if let Some(id) = resolve_company_taken(tx, company).await? {
        patch.company_id = Some(id);
    }
    Ok(patch)
}
