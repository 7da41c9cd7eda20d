//! `crm remind`: fires the reminders of due activities as events (`activity.due_soon` when
//! an activity's due time comes within the window, `activity.overdue` once it has passed),
//! each exactly once per activity and due time, even with two runs at once. For cron, or
//! with `--watch` as a long-running loop. Consumers read the events with
//! `crm events tail --follow`.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use crm_core::remind::{self, Reminded};

use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};

/// Arguments of `crm remind`.
#[derive(Debug, Args)]
pub struct RemindArgs {
    /// Fire `activity.due_soon` for open activities due within this time from now
    /// (`30m`, `1h`, `2d`; at most 366 days).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub window: Duration,
    /// Keep running, one run every --every, until interrupted (Ctrl-C).
    #[arg(long)]
    pub watch: bool,
    /// How often --watch runs.
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = parse_duration,
          requires = "watch")]
    pub every: Duration,
}

/// A duration: a whole number with a unit, `s`, `m`, `h`, `d` or `w` (`90s`, `30m`, `1h`,
/// `2d`, `1w`), optionally after a `+`.
///
/// Note: crm-core's shared date/time parser (cli-toolkit) reads durations too; once it is
/// on main, this moves there.
pub(crate) fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    const HINT: &str = "expected a duration such as 30m, 1h, 2d or 1w";
    let t = s.trim().trim_start_matches('+').trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().map_err(|_| HINT.to_string())?;
    let secs = match unit.trim().to_ascii_lowercase().as_str() {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(HINT.into()),
    };
    n.checked_mul(secs)
        .filter(|s| *s <= 100 * 366 * 86_400)
        .map(Duration::from_secs)
        .ok_or_else(|| "that duration is too long".to_string())
}

impl Row for Reminded {
    fn headers() -> Vec<&'static str> {
        vec!["due_soon", "overdue"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.due_soon.to_string(), self.overdue.to_string()]
    }
}

pub async fn run(args: RemindArgs, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    let window = args.window;
    loop {
        let fired = scope.run(async |tx| remind::run(tx, window).await).await?;
        if !args.watch {
            output::one(ctx.format(), &fired)?;
            return Ok(exit::OK);
        }
        if fired != Reminded::default() {
            // One line per run that fired something: NDJSON unless a table was asked for.
            let format = match ctx.format() {
                Format::Table => Format::Table,
                _ => Format::Ndjson,
            };
            output::list(format, std::slice::from_ref(&fired))?;
        }
        tokio::select! {
            _ = tokio::time::sleep(args.every) => {}
            _ = tokio::signal::ctrl_c() => return Ok(exit::OK),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_their_unit() {
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("+2d"), Ok(Duration::from_secs(2 * 86_400)));
        assert_eq!(parse_duration(" 30m "), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1w"), Ok(Duration::from_secs(604_800)));
        for bad in ["", "h", "1", "1y", "-1h", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
