//! The child rows contacts and companies share (e-mail addresses, phone numbers, tags,
//! owners), generic over the record kind: each kind names its child table and the column
//! naming the record in it (`contact_tags`, `contact_id`).

use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use uuid::Uuid;

use crate::error::Result;
use crate::tenancy::Tx;

/// Groups `(record id, child)` rows by record, keeping their order within a record.
pub(crate) fn group<V>(rows: impl IntoIterator<Item = (Uuid, V)>) -> HashMap<Uuid, Vec<V>> {
    let mut map: HashMap<Uuid, Vec<V>> = HashMap::new();
    for (id, v) in rows {
        map.entry(id).or_default().push(v);
    }
    map
}

/// The tag names of the records `ids`, by record, in tag order. `table` is the record
/// kind's tag link table and `fk` its column naming the record (both constants).
pub(crate) async fn tag_names(
    tx: &mut Tx,
    table: &'static str,
    fk: &'static str,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<String>>> {
    let tags: Vec<(Uuid, String)> = sqlx::query_as(AssertSqlSafe(format!(
        "select x.{fk}, t.name from {table} x \
         join tags t on t.org_id = x.org_id and t.id = x.tag_id \
         where x.org_id = $1 and x.{fk} = any($2) order by x.{fk}, t.name_norm"
    )))
    .bind(tx.org())
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    Ok(group(tags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_keeps_the_order_within_a_record() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let map = group([(a, 1), (b, 2), (a, 3)]);
        assert_eq!(map[&a], vec![1, 3]);
        assert_eq!(map[&b], vec![2]);
    }
}
