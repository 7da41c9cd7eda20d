//! The sync of one link: read both sides, merge three-way from the agreed state, write
//! what changed on one side to the other, report what changed on both.

use std::collections::BTreeMap;

use crm_core::lexware::{Link, LinkTarget, SyncState, links};
use crm_core::store::{company, contact};
use serde_json::{Value, json};

use super::{Lexware, LinkReport};
use crate::client::contacts::ReadContact;
use crate::error::{LexwareError, Result};
use crate::mapping::{self, Base, Fields, Plan, Prefer};

/// The CRM side as read: mapped values, version and default country.
pub(super) struct Local {
    pub fields: Fields,
    pub version: i32,
    pub region: String,
}

pub(super) async fn read_local(lx: &Lexware, target: LinkTarget) -> Result<Local> {
    Ok(lx
        .scope
        .run(async |tx| {
            let region = tx.default_region().to_string();
            Ok(match target {
                LinkTarget::Company(id) => {
                    let c = company::get(tx, id).await?;
                    Local {
                        fields: mapping::from_company(&c),
                        version: c.version,
                        region,
                    }
                }
                LinkTarget::Contact(id) => {
                    let c = contact::get(tx, id).await?;
                    Local {
                        fields: mapping::from_contact(&c),
                        version: c.version,
                        region,
                    }
                }
            })
        })
        .await?)
}

pub(super) fn fields_of(target: LinkTarget) -> Vec<String> {
    match target {
        LinkTarget::Company(_) => mapping::company_fields(),
        LinkTarget::Contact(_) => mapping::person_fields(),
    }
}

fn base_of(link: &Link) -> Base {
    serde_json::from_value(link.base.clone()).unwrap_or_default()
}

impl Lexware {
    /// Syncs one link both ways. A stale Lexware version is re-read and re-merged once;
    /// a second one is reported. Conflicts are reported unless `prefer` names a winner.
    pub async fn reconcile(&self, link: &Link, prefer: Prefer) -> Result<LinkReport> {
        let mut report = LinkReport {
            link_id: Some(link.id),
            target: Some(link.target),
            lexware_id: Some(link.lexware_id),
            ..LinkReport::default()
        };
        let mut base = base_of(link);
        for attempt in 0..3 {
            let remote = self.client.get_contact(link.lexware_id).await?;
            let local = read_local(self, link.target).await?;
            let fields = fields_of(link.target);
            let lex_fields = mapping::from_lexware(&remote.contact);
            let mut plan = mapping::merge(&fields, &base, &local.fields, &lex_fields, prefer);
            let blocked = mapping::not_updatable(&remote.contact);
            let mut version = remote.contact.version.unwrap_or(link.lexware_version);
            if !plan.to_lexware.is_empty() {
                if let Some(why) = &blocked {
                    // Not written: the agreed state keeps the old values, so the change
                    // stays pending and is reported again until Lexware can take it.
                    for f in plan.to_lexware.keys() {
                        match base.get(f) {
                            Some(b) => plan.base.insert(f.clone(), b.clone()),
                            None => plan.base.remove(f),
                        };
                    }
                    report.not_updatable = Some(why.clone());
                    plan.to_lexware.clear();
                } else {
                    match self.put_remote(&remote, &plan, &local.region).await {
                        Ok(v) => {
                            version = v;
                            report.pushed.extend(plan.to_lexware.keys().cloned());
                        }
                        Err(LexwareError::VersionConflict) if attempt < 2 => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
            match self
                .write_local(
                    link,
                    &remote,
                    &plan,
                    local.version,
                    version,
                    blocked.is_none(),
                )
                .await
            {
                Ok(()) => {}
                // The CRM record changed meanwhile: read both sides again. What was just
                // pushed now agrees on both sides.
                Err(LexwareError::Core(crm_core::Error::Conflict(_))) if attempt < 2 => {
                    base = plan.base.clone();
                    continue;
                }
                Err(e) => return Err(e),
            }
            report.pulled.extend(plan.to_crm.keys().cloned());
            report.conflicts = plan.conflicts;
            return Ok(report);
        }
        Err(LexwareError::VersionConflict)
    }

    async fn put_remote(&self, remote: &ReadContact, plan: &Plan, region: &str) -> Result<i32> {
        let mut raw = remote.raw.clone();
        mapping::apply_to_lexware(&mut raw, &plan.to_lexware, region);
        let id = remote
            .contact
            .id
            .ok_or_else(|| LexwareError::BadResponse("GET /v1/contacts".into()))?;
        let done = self.client.update_contact(id, &raw).await?;
        Ok(done
            .version
            .unwrap_or(remote.contact.version.unwrap_or(0) + 1))
    }

    /// Writes Lexware's values into the CRM record and the new agreed state into the link,
    /// in one transaction.
    async fn write_local(
        &self,
        link: &Link,
        remote: &ReadContact,
        plan: &Plan,
        local_version: i32,
        lexware_version: i32,
        updatable: bool,
    ) -> Result<()> {
        let number = remote.contact.customer_number();
        let to_crm: BTreeMap<String, Option<String>> = plan.to_crm.clone();
        let base = serde_json::to_value(&plan.base).unwrap_or(Value::Null);
        let conflicts = json!(plan.conflicts);
        let target = link.target;
        let link_id = link.id;
        self.scope
            .run(async |tx| {
                let new_version = match target {
                    LinkTarget::Company(id) => {
                        let c = company::get(tx, id).await?;
                        if c.version != local_version {
                            return Err(crm_core::Error::stale("company"));
                        }
                        let patch = mapping::company_patch(&c, &to_crm, number);
                        if to_crm.is_empty() && patch.custom.is_none() {
                            c.version
                        } else {
                            company::update(tx, id, patch).await?.version
                        }
                    }
                    LinkTarget::Contact(id) => {
                        let c = contact::get(tx, id).await?;
                        if c.version != local_version {
                            return Err(crm_core::Error::stale("contact"));
                        }
                        let patch = mapping::contact_patch(&c, &to_crm, number);
                        if to_crm.is_empty() && patch.custom.is_none() {
                            c.version
                        } else {
                            contact::update(tx, id, patch).await?.version
                        }
                    }
                };
                let state = SyncState {
                    lexware_version,
                    local_version: Some(new_version),
                    base: base.clone(),
                    conflicts: conflicts.clone(),
                    updatable,
                    last_error: None,
                };
                links::save_state(tx, link_id, &state).await
            })
            .await?;
        Ok(())
    }
}
