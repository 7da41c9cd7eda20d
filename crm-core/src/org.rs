//! Organizations (tenants): creation with their first owner and default lists, and the
//! lookups front-ends need before they have a scope.

use serde::Serialize;
use sqlx::{Acquire as _, Connection as _, PgConnection};

use crate::db::Crm;
use crate::domain::{Email, UserRole};
use crate::error::{Error, FieldErrors, Result};
use crate::ids::{ListEntryId, OrgId, PipelineId, StageId, UserId};

/// An organization.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Organization {
    /// Its id.
    pub id: OrgId,
    /// Display name.
    pub name: String,
    /// Short unique name used on the command line (`--org SLUG`).
    pub slug: String,
    /// Days soft-deleted records are kept before retention purges them.
    pub retention_days: i32,
    /// Currency used when none is given.
    pub default_currency: String,
    /// Region used to parse phone numbers without a country code.
    pub default_region: String,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What is needed to create an organization.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    /// Display name.
    pub name: String,
    /// Slug; derived from the name when `None`.
    pub slug: Option<String>,
    /// The first owner's e-mail address.
    pub owner_email: String,
    /// The first owner's first name.
    pub owner_first_name: String,
    /// The first owner's last name.
    pub owner_last_name: String,
    /// The first owner's password hash (PHC string), if a password was set.
    pub owner_password_hash: Option<String>,
}

/// A created organization and its first owner.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedOrganization {
    /// The organization.
    pub organization: Organization,
    /// The owner's user id.
    pub owner_id: UserId,
    /// The default pipeline.
    pub pipeline_id: PipelineId,
}

/// Default entries of the admin-configurable lists: (key, English, German).
pub const DEFAULT_INDUSTRIES: &[(&str, &str, &str)] = &[
    ("software", "Software & IT", "Software & IT"),
    ("manufacturing", "Manufacturing", "Produktion"),
    (
        "mechanical_engineering",
        "Mechanical engineering",
        "Maschinenbau",
    ),
    ("automotive", "Automotive", "Automobil"),
    ("retail", "Retail", "Einzelhandel"),
    ("wholesale", "Wholesale", "Großhandel"),
    ("finance", "Finance", "Finanzen"),
    ("insurance", "Insurance", "Versicherung"),
    ("healthcare", "Healthcare", "Gesundheitswesen"),
    ("construction", "Construction", "Bauwesen"),
    ("consulting", "Consulting", "Beratung"),
    ("logistics", "Logistics", "Logistik"),
    ("energy", "Energy", "Energie"),
    ("public_sector", "Public sector", "Öffentlicher Sektor"),
    ("education", "Education", "Bildung"),
    ("media", "Media", "Medien"),
    ("hospitality", "Hospitality", "Gastgewerbe"),
    ("other", "Other", "Sonstige"),
];
/// Default account types.
pub const DEFAULT_ACCOUNT_TYPES: &[(&str, &str, &str)] = &[
    ("prospect", "Prospect", "Interessent"),
    ("customer", "Customer", "Kunde"),
    ("partner", "Partner", "Partner"),
    ("supplier", "Supplier", "Lieferant"),
    ("reseller", "Reseller", "Wiederverkäufer"),
    ("competitor", "Competitor", "Wettbewerber"),
    ("other", "Other", "Sonstige"),
];
/// Default company relationship types.
pub const DEFAULT_RELATIONSHIP_TYPES: &[(&str, &str, &str)] = &[
    ("parent_of", "Parent company of", "Muttergesellschaft von"),
    ("partner_of", "Partner of", "Partner von"),
    ("supplier_of", "Supplier of", "Lieferant von"),
    ("customer_of", "Customer of", "Kunde von"),
    ("reseller_of", "Reseller of", "Wiederverkäufer von"),
];
/// Default lost reasons.
pub const DEFAULT_LOST_REASONS: &[(&str, &str, &str)] = &[
    ("price", "Price", "Preis"),
    ("competitor", "Lost to competitor", "Wettbewerber"),
    ("no_budget", "No budget", "Kein Budget"),
    ("no_decision", "No decision", "Keine Entscheidung"),
    ("timing", "Timing", "Zeitpunkt"),
    ("product_fit", "Product fit", "Produkt passt nicht"),
    ("unresponsive", "Unresponsive", "Keine Rückmeldung"),
    ("other", "Other", "Sonstiges"),
];
/// Stages of the default pipeline: (name, win probability in percent).
pub const DEFAULT_STAGES: &[(&str, u32)] = &[
    ("Lead", 10),
    ("Qualified", 25),
    ("Proposal", 50),
    ("Negotiation", 75),
    ("Commit", 90),
];

/// Derives a slug from a name: lower-case ASCII letters, digits and dashes.
pub fn slugify(name: &str) -> String {
    let folded = crate::domain::fold_for_search(name);
    let mut slug = String::new();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    slug.chars().take(63).collect()
}

impl Crm {
    /// Creates an organization with its first owner, the default lists and a default
    /// pipeline, in one transaction.
    pub async fn create_organization(&self, new: NewOrganization) -> Result<CreatedOrganization> {
        let mut errors = FieldErrors::new();
        let name = new.name.trim().to_string();
        if name.is_empty() {
            errors.add("name", "must not be empty");
        }
        let slug = new.slug.clone().unwrap_or_else(|| slugify(&name));
        if !valid_slug(&slug) {
            errors.add("slug", "must be 1-63 lower-case letters, digits or dashes, starting with a letter or digit");
        }
        let email = errors.check("email", Email::parse(&new.owner_email));
        errors.into_result()?;
        let Some(email) = email else {
            return Err(Error::invalid("email", "is required"));
        };

        let org_id = OrgId::new();
        let owner_id = UserId::new();
        // An operator's task: the application role may not create organizations.
        let mut conn = self.owner_connection().await?;
        let mut tx = sqlx::Connection::begin(&mut conn).await?;
        let organization: Organization = sqlx::query_as(
            "insert into organizations (id, name, slug) values ($1, $2, $3) \
             returning id, name, slug, retention_days, default_currency::text as default_currency, \
                       default_region::text as default_region, created_at",
        )
        .bind(org_id)
        .bind(&name)
        .bind(&slug)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("select crm_set_tenant($1, $2)")
            .bind(org_id)
            .bind(owner_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "insert into users (org_id, id, email, email_norm, first_name, last_name, role, password_hash) \
             values ($1, $2, $3, $4, $5, $6, 'owner', $7)",
        )
        .bind(org_id)
        .bind(owner_id)
        .bind(email.as_str())
        .bind(email.normalized())
        .bind(new.owner_first_name.trim())
        .bind(new.owner_last_name.trim())
        .bind(&new.owner_password_hash)
        .execute(&mut *tx)
        .await?;
        for (table, rows) in [
            ("industries", DEFAULT_INDUSTRIES),
            ("account_types", DEFAULT_ACCOUNT_TYPES),
            ("relationship_types", DEFAULT_RELATIONSHIP_TYPES),
            ("lost_reasons", DEFAULT_LOST_REASONS),
        ] {
            seed_list(&mut tx, org_id, table, rows).await?;
        }
        let pipeline_id = PipelineId::new();
        sqlx::query(
            "insert into pipelines (org_id, id, name, is_default) values ($1, $2, 'Sales', true)",
        )
        .bind(org_id)
        .bind(pipeline_id)
        .execute(&mut *tx)
        .await?;
        for (pos, (stage, prob)) in DEFAULT_STAGES.iter().enumerate() {
            sqlx::query(
                "insert into stages (org_id, id, pipeline_id, name, position, probability) \
                 values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(org_id)
            .bind(StageId::new())
            .bind(pipeline_id)
            .bind(stage)
            .bind(pos as i32)
            .bind(rust_decimal::Decimal::from(*prob))
            .execute(&mut *tx)
            .await?;
        }
        let payload = serde_json::json!({ "slug": slug, "owner_id": owner_id });
        sqlx::query("select crm_audit('organization', $1, 'create', $2), crm_emit('organization.created', 'organization', $1, $2)")
            .bind(org_id.uuid())
            .bind(&payload)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(CreatedOrganization {
            organization,
            owner_id,
            pipeline_id,
        })
    }

    /// All organizations, by name. An operator's view: it reads on the owner's connection
    /// (the application role sees only the organization of its transaction), so it fails
    /// when the handle connects as a least-privileged login (`crm db create-app-login`).
    pub async fn organizations(&self) -> Result<Vec<Organization>> {
        let mut conn = self.owner_connection().await?;
        let list = sqlx::query_as(
            "select id, name, slug, retention_days, default_currency::text as default_currency, \
                    default_region::text as default_region, created_at \
             from organizations order by name, slug",
        )
        .fetch_all(&mut conn)
        .await?;
        conn.close().await.ok();
        Ok(list)
    }

    /// The organization with `slug` (the application role may turn a slug into an id, and
    /// then reads that organization only).
    pub async fn organization_by_slug(&self, slug: &str) -> Result<Organization> {
        let mut conn = self.pool().acquire().await?;
        let mut tx = conn.begin().await?;
        let id: Option<OrgId> = sqlx::query_scalar("select crm_org_id_by_slug($1)")
            .bind(slug)
            .fetch_one(&mut *tx)
            .await?;
        let id = id.ok_or(Error::NotFound {
            entity: "organization",
        })?;
        set_org(&mut tx, id).await?;
        let org = sqlx::query_as(
            "select id, name, slug, retention_days, default_currency::text as default_currency, \
                    default_region::text as default_region, created_at \
             from organizations where id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound {
            entity: "organization",
        })?;
        tx.commit().await?;
        Ok(org)
    }

    /// Finds an active user of `org` by e-mail (case-insensitive) and returns their id and
    /// role. Runs without an actor: for front-ends resolving `--as`.
    pub async fn user_by_email(&self, org: OrgId, email: &str) -> Result<(UserId, UserRole)> {
        let mut conn = self.pool().acquire().await?;
        let mut tx = conn.begin().await?;
        set_org(&mut tx, org).await?;
        let row: Option<(UserId, UserRole, bool)> = sqlx::query_as(
            "select id, role, active from users where org_id = $1 and email_norm = lower(btrim($2)) \
             and deleted_at is null",
        )
        .bind(org)
        .bind(email)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        match row {
            Some((id, role, true)) => Ok((id, role)),
            Some((_, _, false)) => Err(Error::PermissionDenied(
                "this user is deactivated and cannot act".into(),
            )),
            None => Err(Error::NotFound { entity: "user" }),
        }
    }

    /// The organization's first active owner (by creation): the default actor of an
    /// interactive admin.
    pub async fn first_owner(&self, org: OrgId) -> Result<UserId> {
        let mut conn = self.pool().acquire().await?;
        let mut tx = conn.begin().await?;
        set_org(&mut tx, org).await?;
        let id: Option<UserId> = sqlx::query_scalar(
            "select id from users where org_id = $1 and role = 'owner' and active \
             and deleted_at is null order by created_at, id limit 1",
        )
        .bind(org)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        id.ok_or_else(|| {
            Error::Tenancy("the organization has no active owner; name a user with --as".into())
        })
    }
}

pub(crate) async fn set_org(conn: &mut PgConnection, org: OrgId) -> Result<()> {
    // `set local` (through crm_set_tenant), which Citus forwards to its workers; the actor
    // already named for the transaction, if any, stays.
    sqlx::query(
        "select crm_set_tenant($1, nullif(current_setting('crm.actor_id', true), '')::uuid)",
    )
    .bind(org)
    .execute(conn)
    .await?;
    Ok(())
}

fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
}

async fn seed_list(
    conn: &mut PgConnection,
    org: OrgId,
    table: &str,
    rows: &[(&str, &str, &str)],
) -> Result<()> {
    let ids: Vec<uuid::Uuid> = rows.iter().map(|_| ListEntryId::new().uuid()).collect();
    let keys: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let en: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let de: Vec<&str> = rows.iter().map(|r| r.2).collect();
    // `table` is one of four fixed names, never input.
    let sql = format!(
        "insert into {table} (org_id, id, key, label_en, label_de, position) \
         select $1, u.id, u.key, u.en, u.de, u.pos::int - 1 \
         from unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) with ordinality \
              as u(id, key, en, de, pos)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(&ids)
        .bind(&keys)
        .bind(&en)
        .bind(&de)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Müller & Söhne GmbH"), "mueller-soehne-gmbh");
        assert_eq!(slugify("  ACME  "), "acme");
        assert!(valid_slug("acme-2"));
        assert!(!valid_slug("-acme"));
        assert!(!valid_slug("Acme"));
    }
}
