//! Times, dates and amounts on the command line, read by crm-core's one parser for each
//! (DESIGN.md, "Decisions for this wave"): German forms (`31.12.2026 14:30`), ISO, RFC 3339,
//! `today`, `tomorrow`, `now`, durations (`+2d`, `1h`), in the acting user's time zone.
//!
//! clap checks the form when it parses the flags (a malformed time is a usage error, exit 2);
//! the value is read once the acting user, and so their time zone, is known.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use crm_core::Scope;
use crm_core::auth::zone;
use crm_core::domain::{self, DayEnd, Zone};

use crate::exit;

/// A time as typed on the command line, checked for its form.
#[derive(Debug, Clone)]
pub struct TimeArg(String);

/// A calendar day as typed on the command line, checked for its form.
#[derive(Debug, Clone)]
pub struct DateArg(String);

/// clap's parser for [`TimeArg`].
pub fn time_arg(s: &str) -> std::result::Result<TimeArg, String> {
    domain::parse_time(s, Zone::Machine, DayEnd::End, Utc::now())
        .map(|_| TimeArg(s.to_string()))
        .map_err(|e| e.to_string())
}

/// clap's parser for [`DateArg`].
pub fn date_arg(s: &str) -> std::result::Result<DateArg, String> {
    domain::parse_date(s, Zone::Machine, Utc::now())
        .map(|_| DateArg(s.to_string()))
        .map_err(|e| e.to_string())
}

/// The acting user's time zone (theirs, else the organization's, else the machine's).
pub async fn zone_of(scope: &Scope) -> Result<Zone> {
    Ok(scope.run(async |tx| zone::acting(tx).await).await?)
}

impl TimeArg {
    /// `today`: as a due time or an upper bound, the end of today.
    pub fn today() -> Self {
        TimeArg("today".into())
    }

    /// The instant, in `zone`; a bare date is the start or the end of the day as `end`
    /// says (the start for lower bounds, the end for due times, upper bounds and as-of).
    pub fn at(&self, zone: Zone, end: DayEnd) -> Result<DateTime<Utc>> {
        domain::parse_time(&self.0, zone, end, Utc::now())
            .map_err(|e| exit::usage(format!("the time {e}")))
    }
}

impl DateArg {
    /// The calendar day, with `today` read in `zone`.
    pub fn on(&self, zone: Zone) -> Result<NaiveDate> {
        domain::parse_date(&self.0, zone, Utc::now())
            .map_err(|e| exit::usage(format!("the date {e}")))
    }
}

/// Reads an optional time flag in `zone`.
pub fn opt_time(arg: &Option<TimeArg>, zone: Zone, end: DayEnd) -> Result<Option<DateTime<Utc>>> {
    arg.as_ref().map(|t| t.at(zone, end)).transpose()
}

/// Reads an optional date flag in `zone`.
pub fn opt_date(arg: &Option<DateArg>, zone: Zone) -> Result<Option<NaiveDate>> {
    arg.as_ref().map(|d| d.on(zone)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_take_every_form_of_the_shared_parser_and_refuse_others() {
        for ok in [
            "31.12.2026",
            "31.12.2026 14:30",
            "2026-12-31",
            "today",
            "+2d",
            "1h",
            "now",
        ] {
            assert!(time_arg(ok).is_ok(), "{ok}");
        }
        for ok in ["31.12.2026", "2026-12-31", "tomorrow", "+1w"] {
            assert!(date_arg(ok).is_ok(), "{ok}");
        }
        assert!(time_arg("31.31.2026").is_err());
        assert!(date_arg("31.12.2026 14:30").is_err());
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        let t = time_arg("31.12.2026").unwrap();
        assert_eq!(
            t.at(berlin, DayEnd::End).unwrap().to_rfc3339(),
            "2026-12-31T22:59:59.999999+00:00"
        );
        assert_eq!(
            t.at(berlin, DayEnd::Start).unwrap().to_rfc3339(),
            "2026-12-30T23:00:00+00:00"
        );
    }
}
