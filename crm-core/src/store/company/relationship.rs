//! Company-to-company relationships.

use super::*;

#[derive(sqlx::FromRow)]
pub(super) struct RelationshipRow {
    id: Uuid,
    from_company_id: CompanyId,
    to_company_id: CompanyId,
    type_key: String,
    type_label_en: String,
    type_label_de: String,
    note: Option<String>,
    created_at: DateTime<Utc>,
    outgoing: bool,
    other_company_id: CompanyId,
    other_company_name: String,
}

impl From<RelationshipRow> for Relationship {
    fn from(r: RelationshipRow) -> Self {
        Relationship {
            id: r.id,
            from_company_id: r.from_company_id,
            to_company_id: r.to_company_id,
            type_key: r.type_key,
            type_label_en: r.type_label_en,
            type_label_de: r.type_label_de,
            note: r.note,
            created_at: r.created_at,
            direction: if r.outgoing {
                Direction::Outgoing
            } else {
                Direction::Incoming
            },
            other_company_id: r.other_company_id,
            other_company_name: r.other_company_name,
        }
    }
}

/// Relationships of company `$2` in both directions, seen from it; `$3` narrows to one
/// relationship when not null. Relationships to soft-deleted companies are hidden.
pub(super) const RELATIONSHIPS: &str = "select r.id, r.from_company_id, r.to_company_id, \
        t.key as type_key, t.label_en as type_label_en, t.label_de as type_label_de, r.note, \
        r.created_at, (r.from_company_id = $2) as outgoing, o.id as other_company_id, \
        o.name as other_company_name \
    from company_relationships r \
    join relationship_types t on t.org_id = r.org_id and t.id = r.type_id \
    join companies o on o.org_id = r.org_id and o.deleted_at is null \
        and o.id = case when r.from_company_id = $2 then r.to_company_id else r.from_company_id end \
    where r.org_id = $1 and (r.from_company_id = $2 or r.to_company_id = $2) \
      and ($3::uuid is null or r.id = $3) \
    order by t.position, t.key, o.name_norm, r.id";

/// Relates two live companies: `from` is `type_key` of `to` (type by key or label of the
/// relationship types list). Relating a company to itself is a validation error; the same
/// relationship twice is a conflict.
pub async fn relate(
    tx: &mut Tx,
    from: CompanyId,
    to: CompanyId,
    type_key: &str,
    note: Option<String>,
) -> Result<Relationship> {
    tx.require(Permission::Write)?;
    let mut errors = FieldErrors::new();
    if from == to {
        errors.add("to_company_id", "a company cannot be related to itself");
    }
    let note = clean(note.as_deref());
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        errors.add("note", "is longer than 2000 characters");
    }
    let type_id = list_entry(
        tx,
        &mut errors,
        ListKind::RelationshipType,
        "type",
        type_key,
        None,
    )
    .await?;
    errors.into_result()?;
    let Some(type_id) = type_id else {
        return Err(Error::invalid("type", "is required"));
    };
    let org = tx.org();
    let live: i64 = sqlx::query_scalar(
        "select count(*) from companies where org_id = $1 and id = any($2) and deleted_at is null",
    )
    .bind(org)
    .bind(vec![from.uuid(), to.uuid()])
    .fetch_one(tx.conn())
    .await?;
    if live != 2 {
        return Err(Error::NotFound { entity: "company" });
    }
    let id: Option<Uuid> = sqlx::query_scalar(
        "insert into company_relationships (org_id, id, from_company_id, to_company_id, type_id, note) \
         values ($1, $2, $3, $4, $5, $6) \
         on conflict (org_id, from_company_id, to_company_id, type_id) do nothing returning id",
    )
    .bind(org)
    .bind(Uuid::now_v7())
    .bind(from)
    .bind(to)
    .bind(type_id)
    .bind(&note)
    .fetch_optional(tx.conn())
    .await?;
    let Some(id) = id else {
        return Err(Error::Conflict(
            "the companies already have this relationship".to_string(),
        ));
    };
    let row: RelationshipRow = sqlx::query_as(RELATIONSHIPS)
        .bind(org)
        .bind(from)
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    let rel = Relationship::from(row);
    tx.record(
        "company",
        Some(from.uuid()),
        "relate",
        &json!({
            "relationship_id": id,
            "from_company_id": from,
            "to_company_id": to,
            "type": rel.type_key,
            "note": rel.note,
        }),
        Some("company.related"),
        &json!({
            "id": id,
            "from_company_id": from,
            "to_company_id": to,
            "type": rel.type_key,
        }),
    )
    .await?;
    Ok(rel)
}

/// Removes a relationship.
pub async fn unrelate(tx: &mut Tx, relationship_id: Uuid) -> Result<()> {
    tx.require(Permission::Write)?;
    let removed: Option<(CompanyId, CompanyId, String, Option<String>)> = sqlx::query_as(
        "delete from company_relationships r using relationship_types t \
         where r.org_id = $1 and r.id = $2 and t.org_id = r.org_id and t.id = r.type_id \
         returning r.from_company_id, r.to_company_id, t.key, r.note",
    )
    .bind(tx.org())
    .bind(relationship_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some((from, to, type_key, note)) = removed else {
        return Err(Error::NotFound {
            entity: "relationship",
        });
    };
    tx.record(
        "company",
        Some(from.uuid()),
        "unrelate",
        &json!({
            "relationship_id": relationship_id,
            "from_company_id": from,
            "to_company_id": to,
            "type": type_key,
            "note": note,
        }),
        Some("company.unrelated"),
        &json!({
            "id": relationship_id,
            "from_company_id": from,
            "to_company_id": to,
            "type": type_key,
        }),
    )
    .await
}

/// The relationships of a live company in both directions, with the other company's name
/// and the type's key and labels; relationships to soft-deleted companies are left out.
pub async fn relationships(tx: &mut Tx, company: CompanyId) -> Result<Vec<Relationship>> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let exists: bool = sqlx::query_scalar(
        "select exists(select 1 from companies where org_id = $1 and id = $2 and deleted_at is null)",
    )
    .bind(org)
    .bind(company)
    .fetch_one(tx.conn())
    .await?;
    if !exists {
        return Err(Error::NotFound { entity: "company" });
    }
    let rows: Vec<RelationshipRow> = sqlx::query_as(RELATIONSHIPS)
        .bind(org)
        .bind(company)
        .bind(None::<Uuid>)
        .fetch_all(tx.conn())
        .await?;
    Ok(rows.into_iter().map(Relationship::from).collect())
}
