//! Walking a whole keyset-paginated list one page at a time: what every aggregate's
//! `for_each_batch` does (exports, bulk edits, subject exports), written once.

use super::{Page, PageRequest};
use crate::error::Result;

/// Fetches page after page with `fetch` (pages of `batch` records, clamped to 1..=10,000)
/// and hands each non-empty page to `f`, so that memory holds one page however many
/// records there are. Stops at the first error of either and returns it; else returns how
/// many records were passed on.
pub(crate) async fn walk<T>(
    batch: u32,
    mut fetch: impl AsyncFnMut(PageRequest) -> Result<Page<T>>,
    mut f: impl AsyncFnMut(Vec<T>) -> Result<()>,
) -> Result<u64> {
    let mut request = PageRequest {
        limit: batch.clamp(1, 10_000),
        after: None,
    };
    let mut total = 0u64;
    loop {
        let page = fetch(request).await?;
        total += page.items.len() as u64;
        if !page.items.is_empty() {
            f(page.items).await?;
        }
        match page.next {
            Some(cursor) => request.after = Some(cursor),
            None => return Ok(total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    /// A list of `n` numbered records served in pages as the store's lists do.
    async fn serve(n: u128, request: PageRequest) -> Result<Page<u128>> {
        let start = request.after.map_or(0, |c| c.0.as_u128() + 1);
        let rows: Vec<u128> = (start..n).take(request.sql_limit() as usize).collect();
        Ok(request.finish(rows, |&i| Uuid::from_u128(i)))
    }

    #[tokio::test]
    async fn every_record_is_passed_once_in_order_one_page_at_a_time() {
        for (n, batch) in [(0u128, 10u32), (1, 10), (10, 10), (11, 10), (25, 7), (5, 0)] {
            let mut seen = Vec::new();
            let mut pages = Vec::new();
            let total = walk(
                batch,
                async |r| serve(n, r).await,
                async |items: Vec<u128>| {
                    pages.push(items.len());
                    seen.extend(items);
                    Ok(())
                },
            )
            .await
            .unwrap();
            assert_eq!(total, n as u64, "n={n} batch={batch}");
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n={n} batch={batch}");
            let limit = batch.clamp(1, 10_000) as usize;
            assert!(pages.iter().all(|&p| p > 0 && p <= limit), "{pages:?}");
        }
    }

    #[tokio::test]
    async fn an_error_of_the_consumer_stops_the_walk() {
        let mut calls = 0;
        let err = walk(
            2,
            async |r| serve(10, r).await,
            async |_items: Vec<u128>| {
                calls += 1;
                Err(crate::error::Error::invalid("x", "stop"))
            },
        )
        .await;
        assert!(err.is_err());
        assert_eq!(calls, 1);
    }
}
