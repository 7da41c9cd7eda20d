//! Explicit contact operations: search, link, unlink, import and push.

use crm_core::lexware::{Link, LinkTarget, links};
use crm_core::store::{company, contact};
use serde::Serialize;
use uuid::Uuid;

use super::reconcile::{fields_of, read_local};
use super::{Lexware, LinkReport};
use crate::client::contacts::{ContactQuery, ReadContact};
use crate::error::{LexwareError, Result};
use crate::mapping::{self, Prefer};

/// A Lexware contact found by a search, with the CRM record it is linked to.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    /// The Lexware id.
    pub id: Uuid,
    /// `company` or `person`.
    pub kind: &'static str,
    /// Company name or "First Last".
    pub name: String,
    /// First e-mail address.
    pub email: Option<String>,
    /// Customer number.
    pub customer_number: Option<i64>,
    /// Lexware version.
    pub version: Option<i32>,
    /// The linked CRM record, if any.
    pub linked: Option<LinkTarget>,
}

impl Lexware {
    /// Searches Lexware contacts: a number searches customer numbers, text with an `@`
    /// e-mail addresses, anything else names.
    pub async fn search(&self, query: &str) -> Result<Vec<Found>> {
        let q = query.trim();
        let mut cq = ContactQuery::default();
        if let Ok(n) = q.parse::<i64>() {
            cq.number = Some(n);
        } else if q.contains('@') {
            cq.email = Some(q.to_string());
        } else {
            cq.name = Some(q.to_string());
        }
        let hits = self.client.search_contacts(&cq).await?;
        let mut out = Vec::with_capacity(hits.len());
        for h in hits {
            let Some(id) = h.contact.id else { continue };
            let linked = self
                .scope
                .run(async |tx| links::find_by_lexware(tx, id).await)
                .await?
                .map(|l| l.target);
            out.push(Found {
                id,
                kind: if h.contact.company.is_some() {
                    "company"
                } else {
                    "person"
                },
                name: h.contact.display_name(),
                email: h.contact.first_email(),
                customer_number: h.contact.customer_number(),
                version: h.contact.version,
                linked,
            });
        }
        Ok(out)
    }

    /// Links a CRM record to a Lexware contact, then syncs it (fields empty on one side
    /// are filled from the other; differing fields are reported as conflicts).
    pub async fn link(&self, target: LinkTarget, lexware_id: Uuid) -> Result<LinkReport> {
        let remote = self.client.get_contact(lexware_id).await?;
        check_kind(target, &remote)?;
        let local = read_local(self, target).await?;
        let lex_fields = mapping::from_lexware(&remote.contact);
        // Agreed: the fields both sides already hold equally.
        let base: mapping::Base = fields_of(target)
            .into_iter()
            .filter(|f| local.fields.get(f) == lex_fields.get(f))
            .map(|f| {
                let v = local.fields.get(&f).cloned();
                (f, v)
            })
            .collect();
        let base = serde_json::to_value(base).unwrap_or_default();
        let version = remote.contact.version.unwrap_or(0);
        let link = self
            .scope
            .run(async |tx| {
                links::create(tx, target, lexware_id, version, Some(local.version), &base).await
            })
            .await?;
        self.reconcile(&link, Prefer::Neither).await
    }

    /// Removes the link of a CRM record or of a Lexware contact.
    pub async fn unlink(&self, link: &Link) -> Result<()> {
        let id = link.id;
        Ok(self
            .scope
            .run(async |tx| links::delete(tx, id).await)
            .await?)
    }

    /// Imports a Lexware contact: a company becomes a CRM company with its contact
    /// persons, a person a CRM contact, and the link is made. Already linked: the linked
    /// record is updated from Lexware (Lexware's values win conflicts: an explicit import).
    pub async fn import(&self, lexware_id: Uuid) -> Result<LinkReport> {
        let existing = self
            .scope
            .run(async |tx| links::find_by_lexware(tx, lexware_id).await)
            .await?;
        if let Some(link) = existing {
            return self.reconcile(&link, Prefer::Lexware).await;
        }
        let remote = self.client.get_contact(lexware_id).await?;
        let c = remote.contact.clone();
        let version = c.version.unwrap_or(0);
        let lex_fields = mapping::from_lexware(&c);
        let target = self
            .scope
            .run(async |tx| {
                let (target, local_version) = if c.company.is_some() {
                    let created = company::create(tx, mapping::new_company(&c)).await?;
                    for p in c.company.iter().flat_map(|co| co.contact_persons.iter()) {
                        if p.last_name.as_deref().is_some_and(|n| !n.trim().is_empty())
                            || p.first_name
                                .as_deref()
                                .is_some_and(|n| !n.trim().is_empty())
                        {
                            contact::create(tx, mapping::new_contact_person(p, created.id)).await?;
                        }
                    }
                    (LinkTarget::Company(created.id), created.version)
                } else {
                    let created = contact::create(tx, mapping::new_contact(&c)).await?;
                    (LinkTarget::Contact(created.id), created.version)
                };
                let base = serde_json::to_value(mapping::base_of(&fields_of(target), &lex_fields))
                    .unwrap_or_default();
                links::create(tx, target, lexware_id, version, Some(local_version), &base).await?;
                Ok(target)
            })
            .await?;
        let link = self
            .scope
            .run(async |tx| links::find_by_target(tx, target).await)
            .await?;
        Ok(LinkReport {
            link_id: link.map(|l| l.id),
            target: Some(target),
            lexware_id: Some(lexware_id),
            created_in_crm: true,
            pulled: lex_fields.keys().cloned().collect(),
            ..LinkReport::default()
        })
    }

    /// Pushes a CRM record: linked, it is synced with the CRM's values winning conflicts
    /// (an explicit push); not linked, it is created in Lexware (version 0) and linked.
    pub async fn push(&self, target: LinkTarget) -> Result<LinkReport> {
        let existing = self
            .scope
            .run(async |tx| links::find_by_target(tx, target).await)
            .await?;
        if let Some(link) = existing {
            return self.reconcile(&link, Prefer::Crm).await;
        }
        self.create_remote(target).await
    }

    /// Creates the Lexware contact of an unlinked CRM record and links it.
    pub(super) async fn create_remote(&self, target: LinkTarget) -> Result<LinkReport> {
        let local = read_local(self, target).await?;
        let is_company = matches!(target, LinkTarget::Company(_));
        if !is_company && !local.fields.contains_key("last_name") {
            return Err(crm_core::Error::invalid(
                "last_name",
                "Lexware needs a last name for a person",
            )
            .into());
        }
        self.refuse_duplicate(&local.fields, is_company).await?;
        let body = mapping::create_body(&local.fields, is_company, &local.region);
        let created = self.client.create_contact(&body).await?;
        let base = serde_json::to_value(mapping::base_of(&fields_of(target), &local.fields))
            .unwrap_or_default();
        let version = created.version.unwrap_or(1);
        let lexware_id = created.id;
        let link = self
            .scope
            .run(async |tx| {
                links::create(tx, target, lexware_id, version, Some(local.version), &base).await
            })
            .await
            .map_err(|e| {
                LexwareError::Core(crm_core::Error::Conflict(format!(
                    "created Lexware contact {lexware_id} but could not link it ({e}); \
                     link it with `crm lexware link` instead of pushing again"
                )))
            })?;
        Ok(LinkReport {
            link_id: Some(link.id),
            target: Some(target),
            lexware_id: Some(lexware_id),
            created_in_lexware: true,
            pushed: local.fields.keys().cloned().collect(),
            ..LinkReport::default()
        })
    }
}

impl Lexware {
    /// Refuses to create a Lexware contact when an unlinked one with the same name exists
    /// (made by hand, or by an earlier create whose answer was lost to a timeout): linking
    /// it is the user's call, a second copy in the books is never wanted.
    async fn refuse_duplicate(&self, fields: &mapping::Fields, is_company: bool) -> Result<()> {
        let name = if is_company {
            fields.get("name").cloned()
        } else {
            fields.get("last_name").cloned()
        };
        let Some(name) = name.filter(|n| n.chars().count() >= 3) else {
            return Ok(());
        };
        let hits = self
            .client
            .search_contacts(&ContactQuery {
                name: Some(name),
                ..ContactQuery::default()
            })
            .await?;
        for h in hits {
            let same = mapping::from_lexware(&h.contact);
            let key = |f: &mapping::Fields| {
                if is_company {
                    (f.get("name").cloned(), None)
                } else {
                    (f.get("last_name").cloned(), f.get("first_name").cloned())
                }
            };
            let Some(id) = h.contact.id else { continue };
            if key(&same) == key(fields) && (h.contact.company.is_some() == is_company) {
                let linked = self
                    .scope
                    .run(async |tx| links::find_by_lexware(tx, id).await)
                    .await?;
                if linked.is_none() {
                    return Err(crm_core::Error::Conflict(format!(
                        "Lexware already has an unlinked contact with this name ({id}); \
                         link it with `crm lexware link` instead of creating a second one"
                    ))
                    .into());
                }
            }
        }
        Ok(())
    }
}

fn check_kind(target: LinkTarget, remote: &ReadContact) -> Result<()> {
    let is_company = remote.contact.company.is_some();
    match (target, is_company) {
        (LinkTarget::Company(_), true) | (LinkTarget::Contact(_), false) => Ok(()),
        (LinkTarget::Company(_), false) => Err(crm_core::Error::invalid(
            "lexware_id",
            "is a person in Lexware; link it to a CRM contact",
        )
        .into()),
        (LinkTarget::Contact(_), true) => Err(crm_core::Error::invalid(
            "lexware_id",
            "is a company in Lexware; link it to a CRM company",
        )
        .into()),
    }
}
