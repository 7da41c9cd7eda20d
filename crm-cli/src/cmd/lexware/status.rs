//! The integration itself: `lexware status`, `configure` and `sync`.

use std::io::Read as _;
use std::time::Duration;

use anyhow::Result;
use crm_core::Scope;
use crm_core::lexware::{links, settings};
use crm_lexware::sync::{Lexware, SyncOptions};
use crm_lexware::{Client, Config, Limiter};
use serde_json::json;

use super::SyncArgs;
use super::client::{connect, lx_error, summary};
use crate::ctx::Ctx;
use crate::exit;

/// `lexware status`: configured, reachable, links, conflicts, last sync.
pub(super) async fn status(ctx: &Ctx, scope: &Scope) -> Result<u8> {
    let env_key = Config::env_has_key();
    let stored = if env_key {
        None
    } else {
        // Reading the stored key needs an owner or admin; others see it as unknown.
        scope
            .run(async |tx| settings::api_key(tx).await)
            .await
            .ok()
            .flatten()
    };
    let all = scope.run(async |tx| links::list(tx).await).await?;
    let conflicts = all
        .iter()
        .filter(|l| l.conflicts.as_array().is_some_and(|a| !a.is_empty()))
        .count();
    let not_updatable = all.iter().filter(|l| !l.updatable).count();
    let failing = all.iter().filter(|l| l.last_error.is_some()).count();
    let last_sync = all.iter().filter_map(|l| l.synced_at).max();
    let mut out = json!({
        "configured": env_key || stored.is_some(),
        "base_url": crm_lexware::config::base_url_from_env(),
        "key_source": if env_key { Some("LEXWARE_API_KEY") } else if stored.is_some() { Some("stored") } else { None },
        "links": all.len(),
        "conflicts": conflicts,
        "not_updatable": not_updatable,
        "failing": failing,
        "last_sync": last_sync,
    });
    if env_key || stored.is_some() {
        let config = Config::from_env(stored).map_err(lx_error)?;
        let mut config = config;
        config.timeout = Duration::from_secs(10);
        config.retry.max_tries = 2;
        let client = Client::new(config, Limiter::database(scope.clone())).map_err(lx_error)?;
        match client.ping().await {
            Ok(()) => out["reachable"] = json!(true),
            Err(e) => {
                out["reachable"] = json!(false);
                out["error"] = json!(e.to_string());
            }
        }
    }
    summary(ctx.format(), &out)?;
    Ok(exit::OK)
}

/// `lexware configure`: stores or removes the API key.
pub(super) async fn configure(ctx: &Ctx, scope: &Scope, stdin: bool, remove: bool) -> Result<u8> {
    if remove {
        let removed = scope
            .run(async |tx| settings::clear_api_key(tx).await)
            .await?;
        ctx.note(if removed {
            "the stored API key was removed"
        } else {
            "no API key was stored"
        });
        return Ok(exit::OK);
    }
    if !stdin {
        return Err(exit::usage(
            "pass the key on standard input with --api-key-stdin",
        ));
    }
    let mut key = String::new();
    std::io::stdin().read_to_string(&mut key)?;
    let key = key.trim().to_string();
    scope
        .run(async |tx| settings::set_api_key(tx, &key).await)
        .await?;
    // Make the integration actor now, while an owner or admin is acting.
    Lexware::integration_scope(scope).await.map_err(lx_error)?;
    ctx.note("API key stored; `crm lexware status` checks that Lexware Office accepts it");
    Ok(exit::OK)
}

/// `lexware sync`: once, or again and again with `--watch`.
pub(super) async fn sync(ctx: &Ctx, scope: &Scope, args: SyncArgs) -> Result<u8> {
    let lx = connect(scope).await?;
    let opts = SyncOptions {
        pull_limit: args.limit,
        vouchers: !args.no_vouchers,
        ..SyncOptions::default()
    };
    loop {
        let s = lx.sync(&opts).await.map_err(lx_error)?;
        summary(ctx.format(), &s)?;
        if !args.watch {
            return Ok(if s.failed > 0 {
                exit::ERROR
            } else if s.conflicts > 0 {
                exit::CONFLICT
            } else {
                exit::OK
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(args.interval.max(1))) => {}
            _ = tokio::signal::ctrl_c() => return Ok(exit::OK),
        }
    }
}
