//! The time zone a user's local times and bare dates are read in: the user's own, else the
//! organization's, else the machine's (DESIGN.md, "Decisions for this wave").

use serde_json::json;

use crate::auth::Permission;
use crate::domain::Zone;
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::tenancy::Tx;

/// The acting user's time zone: their own setting, else the organization's, else the
/// machine's ([`Zone::Machine`]). A stored name this build does not know counts as unset.
pub async fn acting(tx: &mut Tx) -> Result<Zone> {
    let (user, org): (Option<String>, Option<String>) = sqlx::query_as(
        "select u.time_zone, o.time_zone from users u \
         join organizations o on o.id = u.org_id \
         where u.org_id = $1 and u.id = $2",
    )
    .bind(tx.org())
    .bind(tx.actor().id)
    .fetch_optional(tx.conn())
    .await?
    .unwrap_or_default();
    Ok([user, org]
        .into_iter()
        .flatten()
        .find_map(|name| Zone::parse(&name).ok())
        .unwrap_or_default())
}

/// Sets (or with `None` clears) a user's own time zone. Users may set their own; setting
/// another's needs [`Permission::ManageUsers`]. Audited as `user.time_zone_changed`.
pub async fn set_for_user(tx: &mut Tx, id: UserId, zone: Option<Zone>) -> Result<()> {
    if id != tx.actor().id {
        tx.require(Permission::ManageUsers)?;
    }
    let name = zone.and_then(|z| z.name());
    let before: Option<Option<String>> =
        sqlx::query_scalar("select time_zone from users where org_id = $1 and id = $2 for update")
            .bind(tx.org())
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    let Some(before) = before else {
        return Err(Error::NotFound { entity: "user" });
    };
    if before.as_deref() == name {
        return Ok(());
    }
    sqlx::query("update users set time_zone = $3 where org_id = $1 and id = $2")
        .bind(tx.org())
        .bind(id)
        .bind(name)
        .execute(tx.conn())
        .await?;
    let change = json!({ "time_zone": { "before": before, "after": name } });
    tx.record(
        "user",
        Some(id.uuid()),
        "set_time_zone",
        &change,
        Some("user.time_zone_changed"),
        &json!({ "id": id, "time_zone": name }),
    )
    .await
}

/// Sets (or with `None` clears) the organization's time zone, the default of its users.
/// Needs [`Permission::Configure`]. Audited as `organization.time_zone_changed`.
pub async fn set_for_org(tx: &mut Tx, zone: Option<Zone>) -> Result<()> {
    tx.require(Permission::Configure)?;
    let name = zone.and_then(|z| z.name());
    let before: Option<String> =
        sqlx::query_scalar("select time_zone from organizations where id = $1 for update")
            .bind(tx.org())
            .fetch_one(tx.conn())
            .await?;
    if before.as_deref() == name {
        return Ok(());
    }
    sqlx::query("update organizations set time_zone = $2 where id = $1")
        .bind(tx.org())
        .bind(name)
        .execute(tx.conn())
        .await?;
    let org = tx.org();
    tx.record(
        "organization",
        Some(org.uuid()),
        "set_time_zone",
        &json!({ "time_zone": { "before": before, "after": name } }),
        Some("organization.time_zone_changed"),
        &json!({ "id": org, "time_zone": name }),
    )
    .await
}
