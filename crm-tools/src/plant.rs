//! Planted duplicates in a database: [`load`] writes the planted records of a
//! [`Duplicates`] into a tenant that holds the generated contacts (imported from the generated
//! file, as `crm bench` does) and returns the true pairs by record id; [`judge`] scores a
//! detection run against them. The benchmark and the detection quality test share both.

use std::collections::{HashMap, HashSet};

use crm_core::Tx;
use crm_core::error::{Error, Result};
use crm_core::store::company::{self, NewCompany};
use crm_core::store::contact::{self, NewContact, NewContactEmail};
use serde::Serialize;
use uuid::Uuid;

use crate::generate::Duplicates;

/// A pair of record ids, the smaller first (as detection reports pairs).
pub type IdPair = (Uuid, Uuid);

/// The pair of `a` and `b`, the smaller first.
pub fn pair(a: Uuid, b: Uuid) -> IdPair {
    if a < b { (a, b) } else { (b, a) }
}

/// The true duplicate pairs after [`load`].
#[derive(Debug, Clone, Default)]
pub struct Planted {
    /// Original and planted contact.
    pub contacts: HashSet<IdPair>,
    /// Original and planted company.
    pub companies: HashSet<IdPair>,
}

/// How well detection found the planted pairs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quality {
    /// True pairs planted.
    pub planted: usize,
    /// Pairs detection proposed that involve a record of a true pair (original or planted).
    pub judged: usize,
    /// True pairs among them.
    pub hits: usize,
    /// `hits / judged`: of the proposals about planted records, how many were right. Pairs
    /// among the other generated records are not judged: the generator makes colleagues
    /// with the same name at one company, which no rule can tell from a duplicate.
    pub precision: f64,
    /// `hits / planted`: of the planted duplicates, how many were found.
    pub recall: f64,
    /// Every pair detection proposed.
    pub found: usize,
}

/// Scores the pairs detection `found` against the `truth`.
pub fn judge(found: &HashSet<IdPair>, truth: &HashSet<IdPair>) -> Quality {
    let ids: HashSet<Uuid> = truth.iter().flat_map(|(a, b)| [*a, *b]).collect();
    let judged: Vec<&IdPair> = found
        .iter()
        .filter(|(a, b)| ids.contains(a) || ids.contains(b))
        .collect();
    let hits = judged.iter().filter(|p| truth.contains(p)).count();
    let ratio = |a: usize, b: usize| {
        if b == 0 {
            1.0
        } else {
            ((a as f64 / b as f64) * 1000.0).round() / 1000.0
        }
    };
    Quality {
        planted: truth.len(),
        judged: judged.len(),
        hits,
        precision: ratio(hits, judged.len()),
        recall: ratio(hits, truth.len()),
        found: found.len(),
    }
}

/// Writes the planted companies and contacts of `planted` through the store (as `crm company
/// add` and `crm contact add` would) and returns the true pairs.
///
/// The original contacts must be there already, found by their e-mail address (one no longer
/// there is not duplicated; with no original contact there at all, this is an error); the
/// original companies are found by name (a contact import creates them) and get their
/// generated domain, website and VAT id where they have none, or are created in full.
pub async fn load(tx: &mut Tx, planted: &Duplicates<'_>) -> Result<Planted> {
    let generator = planted.generator();
    let org = tx.org();
    let mut out = Planted::default();

    // Companies by name: the originals of planted companies and of planted contacts.
    let mut names: Vec<String> = planted
        .companies()
        .map(|p| generator.company(p.original).name)
        .collect();
    names.extend(planted.contacts().map(|p| p.company_name));
    let rows: Vec<(String, Uuid)> = sqlx::query_as(
        "select name, id from companies where org_id = $1 and deleted_at is null \
         and name = any($2)",
    )
    .bind(org)
    .bind(&names)
    .fetch_all(tx.conn())
    .await?;
    let mut company_ids: HashMap<String, Uuid> = rows.into_iter().collect();

    load_companies(tx, planted, &mut company_ids, &mut out).await?;
    load_contacts(tx, planted, &company_ids, &mut out).await?;
    if out.contacts.is_empty() && planted.contact_count() > 0 {
        return Err(Error::invalid(
            "contacts",
            "the generated contacts are not loaded: import the generated file first",
        ));
    }
    Ok(out)
}

/// The planted companies, each beside its original (completed or created).
async fn load_companies(
    tx: &mut Tx,
    planted: &Duplicates<'_>,
    company_ids: &mut HashMap<String, Uuid>,
    out: &mut Planted,
) -> Result<()> {
    let generator = planted.generator();
    let org = tx.org();
    for p in planted.companies() {
        let o = generator.company(p.original);
        let original = match company_ids.get(&o.name) {
            Some(&id) => {
                sqlx::query(
                    "update companies set domain = coalesce(domain, $3), \
                         website = coalesce(website, $4), vat_id = coalesce(vat_id, $5) \
                     where org_id = $1 and id = $2",
                )
                .bind(org)
                .bind(id)
                .bind(&o.domain)
                .bind(&o.website)
                .bind(&o.vat_id)
                .execute(tx.conn())
                .await?;
                id
            }
            None => {
                let id = company::create(
                    tx,
                    NewCompany {
                        name: o.name.clone(),
                        domain: Some(o.domain.clone()),
                        website: Some(o.website.clone()),
                        vat_id: Some(o.vat_id.clone()),
                        ..NewCompany::default()
                    },
                )
                .await?
                .id
                .uuid();
                company_ids.insert(o.name.clone(), id);
                id
            }
        };
        let c = &p.company;
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let created = company::create(
            tx,
            NewCompany {
                name: c.name.clone(),
                domain: some(&c.domain),
                website: some(&c.website),
                vat_id: some(&c.vat_id),
                ..NewCompany::default()
            },
        )
        .await?;
        out.companies.insert(pair(original, created.id.uuid()));
    }

    Ok(())
}

/// The planted contacts, each beside its original (found by e-mail address).
async fn load_contacts(
    tx: &mut Tx,
    planted: &Duplicates<'_>,
    company_ids: &HashMap<String, Uuid>,
    out: &mut Planted,
) -> Result<()> {
    let generator = planted.generator();
    let org = tx.org();
    // Contacts: the originals by e-mail address.
    let emails: Vec<String> = planted
        .contacts()
        .map(|p| generator.contact(p.original).email)
        .collect();
    let rows: Vec<(String, Uuid)> = sqlx::query_as(
        "select email_norm, id from contacts where org_id = $1 and deleted_at is null \
         and email_norm = any($2)",
    )
    .bind(org)
    .bind(&emails)
    .fetch_all(tx.conn())
    .await?;
    let contact_ids: HashMap<String, Uuid> = rows.into_iter().collect();
    for p in planted.contacts() {
        let email = generator.contact(p.original).email;
        let Some(&original) = contact_ids.get(&email) else {
            // Changed or erased since the import: nothing to duplicate.
            continue;
        };
        let company_id = match p.company_index {
            Some(_) => company_ids.get(&p.company_name).copied(),
            None => None,
        };
        let created = contact::create(
            tx,
            NewContact {
                first_name: p.first_name.clone(),
                last_name: p.last_name.clone(),
                email: Some(p.email.clone()),
                emails: p
                    .email2
                    .iter()
                    .map(|e| NewContactEmail {
                        email: e.clone(),
                        ..NewContactEmail::default()
                    })
                    .collect(),
                phone: (!p.phone.is_empty()).then(|| p.phone.clone()),
                company_id: company_id.map(Into::into),
                job_title: Some(p.job_title.to_string()),
                city: Some(p.city.to_string()),
                ..NewContact::default()
            },
        )
        .await?;
        out.contacts.insert(pair(original, created.id.uuid()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judging_counts_only_pairs_about_planted_records() {
        let id = Uuid::from_u128;
        let truth: HashSet<IdPair> = [pair(id(1), id(2)), pair(id(3), id(4))].into();
        // One hit, one wrong pair with a planted record, one pair elsewhere (not judged).
        let found: HashSet<IdPair> =
            [pair(id(1), id(2)), pair(id(3), id(5)), pair(id(8), id(9))].into();
        let q = judge(&found, &truth);
        assert_eq!((q.planted, q.judged, q.hits, q.found), (2, 2, 1, 3));
        assert_eq!((q.precision, q.recall), (0.5, 0.5));
    }
}
