//! Dates, times and durations as people type them, read in a time zone.
//!
//! One parser for command-line flags, JSON input and import (DESIGN.md, "Decisions for this
//! wave"). Accepted forms:
//!
//! | form | example |
//! |---|---|
//! | RFC 3339 | `2026-12-31T14:30:00+01:00`, `2026-12-31T13:30:00Z` |
//! | ISO date and local time | `2026-12-31`, `2026-12-31 14:30`, `2026-12-31T14:30:15` |
//! | German date and local time | `31.12.2026`, `31.12.2026 14:30`, `31.12.2026 14:30:15` |
//! | words | `now`, `today`, `tomorrow`, `yesterday` (also `heute`, `morgen`, `gestern`) |
//! | durations from now | `+2d`, `-3h`, `1h`, `90m`, `2w`, `30s` |
//!
//! A local time is read in a [`Zone`]: the acting user's, defaulting to the organization's,
//! defaulting to the machine's `TZ`. A bare date (and `today`, `tomorrow`, `yesterday`) is
//! that calendar day in the zone, and the caller says which end of it is meant with a
//! [`DayEnd`]: the start for a lower bound (`--since`, `--created-after`), the end (the last
//! microsecond) for a due time, an upper bound or an as-of. A duration with a sign is that
//! far from now; without a sign it points back for a lower bound (`--since 1h`: the last
//! hour) and ahead otherwise (`--due 2d`).

use std::fmt;

use chrono::{
    DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc,
};

use super::InvalidValue;

/// Inputs longer than this are refused before any parsing.
const MAX_LEN: usize = 64;

/// The time zone that local times and bare dates are read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    /// The machine's zone (the `TZ` environment variable, else the system setting).
    #[default]
    Machine,
    /// A named IANA zone, e.g. `Europe/Berlin`.
    Named(chrono_tz::Tz),
}

impl Zone {
    /// Parses an IANA zone name (`Europe/Berlin`, `UTC`), spelt as the zone database does
    /// (`utc` is taken too).
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let s = raw.trim();
        if s.is_empty() || s.len() > MAX_LEN {
            return Err(InvalidValue::new("is not a time zone name"));
        }
        let s = if s.eq_ignore_ascii_case("utc") {
            "UTC"
        } else {
            s
        };
        s.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
            InvalidValue::new("is not a known time zone (an IANA name like Europe/Berlin)")
        })
    }

    /// The zone's IANA name, or `None` for the machine's zone.
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Zone::Machine => None,
            Zone::Named(tz) => Some(tz.name()),
        }
    }

    /// The calendar day that `at` falls on in this zone.
    pub fn date_of(&self, at: DateTime<Utc>) -> NaiveDate {
        match self {
            Zone::Machine => at.with_timezone(&chrono::Local).date_naive(),
            Zone::Named(tz) => at.with_timezone(tz).date_naive(),
        }
    }

    /// The wall-clock time `local` in this zone, as an instant: the earlier one when clocks
    /// go back, `None` when the time does not exist (clocks go forward over it).
    pub fn instant(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        fn earliest<Z: TimeZone>(r: LocalResult<DateTime<Z>>) -> Option<DateTime<Utc>> {
            r.earliest().map(|t| t.with_timezone(&Utc))
        }
        match self {
            Zone::Machine => earliest(chrono::Local.from_local_datetime(&local)),
            Zone::Named(tz) => earliest(tz.from_local_datetime(&local)),
        }
    }

    /// The first instant of `day` in this zone (midnight, or the first existing time when
    /// the zone skips midnight that day).
    pub fn start_of(&self, day: NaiveDate) -> Option<DateTime<Utc>> {
        let midnight = day.and_time(NaiveTime::MIN);
        (0..=24 * 4).find_map(|quarter| self.instant(midnight + TimeDelta::minutes(15 * quarter)))
    }

    /// The last instant (microsecond) of `day` in this zone.
    pub fn end_of(&self, day: NaiveDate) -> Option<DateTime<Utc>> {
        let next = day.checked_add_days(Days::new(1))?;
        Some(self.start_of(next)? - TimeDelta::microseconds(1))
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name().unwrap_or("the machine's time zone"))
    }
}

/// Which instant of a bare date is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEnd {
    /// The start of the day: a lower bound (`--since`, `--created-after`).
    Start,
    /// The end of the day: a due time, an upper bound (`--until`, `--created-before`), an
    /// as-of.
    End,
}

/// What a time input turned out to be, before the zone and the day end apply.
enum Reading {
    /// An absolute instant (RFC 3339).
    Instant(DateTime<Utc>),
    /// A wall-clock time in the zone.
    Local(NaiveDateTime),
    /// A calendar day in the zone.
    Day(Day),
    /// A span from now; `signed` when the input said which direction.
    Span { delta: TimeDelta, signed: bool },
}

/// A calendar day, given or relative to today.
enum Day {
    /// This date.
    On(NaiveDate),
    /// So many days from today (in the zone).
    FromToday(i64),
}

const EXPECTED: &str = "is not a time: use 31.12.2026, 31.12.2026 14:30, 2026-12-31, \
                        2026-12-31T14:30:00+01:00, today, tomorrow, now or +2d";

/// Reads a time as people type it (see the module documentation), in `zone`, with `now` as
/// the present. A bare date means the start or the end of that day, as `end` says.
pub fn parse_time(
    raw: &str,
    zone: Zone,
    end: DayEnd,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, InvalidValue> {
    let out_of_range = || InvalidValue::new("is out of range");
    match read(raw)? {
        Reading::Instant(t) => Ok(t),
        Reading::Local(t) => zone.instant(t).ok_or_else(|| {
            InvalidValue::new("does not exist in this time zone (the clocks go forward then)")
        }),
        Reading::Day(day) => {
            let day = resolve_day(day, zone, now)?;
            match end {
                DayEnd::Start => zone.start_of(day),
                DayEnd::End => zone.end_of(day),
            }
            .ok_or_else(out_of_range)
        }
        Reading::Span { delta, signed } => {
            let delta = if !signed && end == DayEnd::Start {
                -delta
            } else {
                delta
            };
            now.checked_add_signed(delta).ok_or_else(out_of_range)
        }
    }
}

/// Reads a calendar day (a close date, a birthday) as people type it: the date forms and
/// words of [`parse_time`], or a signed whole number of days or weeks from today (`+2d`,
/// `-1w`). An input with a time of day is refused.
pub fn parse_date(raw: &str, zone: Zone, now: DateTime<Utc>) -> Result<NaiveDate, InvalidValue> {
    let not_a_date = || InvalidValue::new("is not a date: use 31.12.2026, 2026-12-31 or today");
    match read(raw)? {
        Reading::Day(day) => resolve_day(day, zone, now),
        Reading::Span {
            delta,
            signed: true,
        } if delta.num_seconds() % 86_400 == 0 => zone
            .date_of(now)
            .checked_add_signed(delta)
            .ok_or_else(|| InvalidValue::new("is out of range")),
        _ => Err(not_a_date()),
    }
}

/// Reads a positive duration: a whole number and a unit, `30s`, `90m` (or `90min`), `12h`,
/// `30d`, `2w`. A number without a unit means days.
pub fn parse_duration(raw: &str) -> Result<TimeDelta, InvalidValue> {
    let s = raw.trim();
    if s.len() > MAX_LEN {
        return Err(InvalidValue::new("is too long"));
    }
    let with_unit = if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
        format!("{s}d")
    } else {
        s.to_string()
    };
    match span(&with_unit) {
        Some(Ok(d)) if d > TimeDelta::zero() => Ok(d),
        Some(Ok(_)) => Err(InvalidValue::new("must be positive")),
        Some(Err(e)) => Err(e),
        None => Err(InvalidValue::new(
            "is not a duration: use 30d, 12h, 2w, 90m or 30s",
        )),
    }
}

/// The calendar day `day` names, in `zone` when it is relative to today.
fn resolve_day(day: Day, zone: Zone, now: DateTime<Utc>) -> Result<NaiveDate, InvalidValue> {
    match day {
        Day::On(d) => Ok(d),
        Day::FromToday(n) => zone
            .date_of(now)
            .checked_add_signed(TimeDelta::days(n))
            .ok_or_else(|| InvalidValue::new("is out of range")),
    }
}

/// Classifies the input without a zone.
fn read(raw: &str) -> Result<Reading, InvalidValue> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(InvalidValue::new("must not be empty"));
    }
    if s.len() > MAX_LEN {
        return Err(InvalidValue::new("is too long"));
    }
    let word = s.to_lowercase();
    let relative = |days: i64| Ok(Reading::Day(Day::FromToday(days)));
    match word.as_str() {
        "now" | "jetzt" => {
            return Ok(Reading::Span {
                delta: TimeDelta::zero(),
                signed: true,
            });
        }
        "today" | "heute" => return relative(0),
        "tomorrow" | "morgen" => return relative(1),
        "yesterday" | "gestern" => return relative(-1),
        _ => {}
    }
    if let Some(result) = span(&word) {
        let signed = word.starts_with(['+', '-']);
        return result.map(|delta| Reading::Span { delta, signed });
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Reading::Instant(t.with_timezone(&Utc)));
    }
    for format in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%d.%m.%Y %H:%M",
        "%d.%m.%Y %H:%M:%S",
        "%d.%m.%Y, %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(Reading::Local(t));
        }
    }
    for format in ["%Y-%m-%d", "%d.%m.%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, format) {
            return Ok(Reading::Day(Day::On(d)));
        }
    }
    Err(InvalidValue::new(EXPECTED))
}

/// Reads `[+-]N unit`; `None` when the input does not look like a duration at all.
fn span(s: &str) -> Option<Result<TimeDelta, InvalidValue>> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let (number, unit) = rest.split_at(digits);
    let unit_seconds: i64 = match unit.trim() {
        "s" | "sec" => 1,
        "m" | "min" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    let too_long = || InvalidValue::new("is too long a duration");
    let n: i64 = match number.parse() {
        Ok(n) => n,
        Err(_) => return Some(Err(too_long())),
    };
    // At most about a thousand years: far beyond any use, far within chrono's range.
    let seconds = n
        .checked_mul(unit_seconds)
        .filter(|s| *s <= 1_000 * 366 * 86_400);
    Some(match seconds {
        Some(s) => Ok(TimeDelta::seconds(if negative { -s } else { s })),
        None => Err(too_long()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn berlin() -> Zone {
        Zone::parse("Europe/Berlin").unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// 2026-12-02 10:00 in Berlin.
    fn now() -> DateTime<Utc> {
        at("2026-12-02T09:00:00Z")
    }

    fn time(raw: &str, end: DayEnd) -> DateTime<Utc> {
        parse_time(raw, berlin(), end, now()).unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    #[test]
    fn german_iso_and_rfc3339_forms_meet() {
        let expected = at("2026-12-31T13:30:00Z");
        for raw in [
            "31.12.2026 14:30",
            "31.12.2026 14:30:00",
            "31.12.2026, 14:30",
            "2026-12-31 14:30",
            "2026-12-31T14:30",
            "2026-12-31T14:30:00",
            "2026-12-31T14:30:00+01:00",
            "2026-12-31T13:30:00Z",
            " 2026-12-31t13:30:00z ",
        ] {
            assert_eq!(time(raw, DayEnd::Start), expected, "{raw}");
            assert_eq!(time(raw, DayEnd::End), expected, "{raw}");
        }
    }

    #[test]
    fn a_bare_date_is_the_start_or_the_end_of_that_day_in_the_zone() {
        for raw in ["31.12.2026", "2026-12-31", "1.7.2026"] {
            let start = time(raw, DayEnd::Start);
            let end = time(raw, DayEnd::End);
            assert_eq!(end - start, TimeDelta::days(1) - TimeDelta::microseconds(1));
        }
        assert_eq!(
            time("31.12.2026", DayEnd::Start),
            at("2026-12-30T23:00:00Z")
        );
        assert_eq!(
            time("31.12.2026", DayEnd::End),
            at("2026-12-31T22:59:59.999999Z")
        );
        // Summer time: UTC+2.
        assert_eq!(
            time("2026-07-01", DayEnd::Start),
            at("2026-06-30T22:00:00Z")
        );
        let utc = Zone::parse("utc").unwrap();
        assert_eq!(
            parse_time("2026-12-31", utc, DayEnd::Start, now()).unwrap(),
            at("2026-12-31T00:00:00Z")
        );
    }

    #[test]
    fn words_are_days_relative_to_today_in_the_zone() {
        assert_eq!(time("now", DayEnd::End), now());
        assert_eq!(time("NOW", DayEnd::Start), now());
        assert_eq!(time("today", DayEnd::Start), at("2026-12-01T23:00:00Z"));
        assert_eq!(
            time("heute", DayEnd::End),
            at("2026-12-02T22:59:59.999999Z")
        );
        assert_eq!(
            time("Tomorrow", DayEnd::End),
            at("2026-12-03T22:59:59.999999Z")
        );
        assert_eq!(time("yesterday", DayEnd::Start), at("2026-11-30T23:00:00Z"));
        // 23:30 UTC is already the next day in Berlin.
        let late = at("2026-12-02T23:30:00Z");
        assert_eq!(
            parse_date("today", berlin(), late).unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
        );
    }

    #[test]
    fn durations_point_back_for_lower_bounds_and_ahead_otherwise() {
        assert_eq!(time("+2d", DayEnd::Start), now() + TimeDelta::days(2));
        assert_eq!(time("-3h", DayEnd::End), now() - TimeDelta::hours(3));
        assert_eq!(time("1h", DayEnd::Start), now() - TimeDelta::hours(1));
        assert_eq!(time("1h", DayEnd::End), now() + TimeDelta::hours(1));
        assert_eq!(time("90m", DayEnd::End), now() + TimeDelta::minutes(90));
        assert_eq!(time("2w", DayEnd::End), now() + TimeDelta::weeks(2));
        assert_eq!(time("+30 min", DayEnd::End), now() + TimeDelta::minutes(30));
    }

    #[test]
    fn local_times_in_the_spring_gap_are_refused_and_the_autumn_overlap_takes_the_first() {
        let e = parse_time("29.03.2026 02:30", berlin(), DayEnd::End, now()).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert_eq!(
            time("25.10.2026 02:30", DayEnd::End),
            at("2026-10-25T00:30:00Z")
        );
        // A day of 23 hours still ends just before the next midnight.
        assert_eq!(
            time("29.03.2026", DayEnd::End),
            at("2026-03-29T21:59:59.999999Z")
        );
    }

    #[test]
    fn bad_times_are_refused_without_quoting_them() {
        for bad in [
            "",
            "   ",
            "31.13.2026",
            "30.02.2026",
            "2026-12-31 25:00",
            "12/31/2026",
            "soon",
            "+d",
            "5x",
            "99999999999999999999d",
            "2026-12-31T14:30:00+25:00",
            "secret@example.com",
        ] {
            let e = parse_time(bad, berlin(), DayEnd::End, now()).unwrap_err();
            if !bad.trim().is_empty() {
                assert!(!e.to_string().contains(bad.trim()), "{bad}: {e}");
            }
        }
        let long = "1".repeat(MAX_LEN + 1);
        assert!(parse_time(&long, berlin(), DayEnd::End, now()).is_err());
    }

    #[test]
    fn dates_take_date_forms_and_whole_days_only() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        for (raw, expected) in [
            ("31.12.2026", d(2026, 12, 31)),
            ("2026-12-31", d(2026, 12, 31)),
            ("today", d(2026, 12, 2)),
            ("morgen", d(2026, 12, 3)),
            ("+2d", d(2026, 12, 4)),
            ("-1w", d(2026, 11, 25)),
        ] {
            assert_eq!(parse_date(raw, berlin(), now()).unwrap(), expected, "{raw}");
        }
        for bad in ["31.12.2026 14:30", "+3h", "2d", "2026-12-31T00:00:00Z", "x"] {
            assert!(parse_date(bad, berlin(), now()).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d").unwrap(), TimeDelta::days(30));
        assert_eq!(parse_duration("30").unwrap(), TimeDelta::days(30));
        assert_eq!(parse_duration("12h").unwrap(), TimeDelta::hours(12));
        assert_eq!(parse_duration("90m").unwrap(), TimeDelta::minutes(90));
        assert_eq!(parse_duration("2w").unwrap(), TimeDelta::weeks(2));
        assert_eq!(parse_duration("45s").unwrap(), TimeDelta::seconds(45));
        for bad in ["", "0d", "-3d", "d", "3y", "1e3d", "99999999999999999999"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn zones() {
        assert_eq!(berlin().name(), Some("Europe/Berlin"));
        assert_eq!(
            Zone::parse(" Europe/Zurich ").unwrap().name(),
            Some("Europe/Zurich")
        );
        assert_eq!(Zone::default(), Zone::Machine);
        assert_eq!(Zone::Machine.name(), None);
        for bad in [
            "",
            "Mars/Olympus",
            "europe/berlin",
            "Europe/Berlin/x",
            &"x".repeat(100),
        ] {
            assert!(Zone::parse(bad).is_err(), "{bad}");
        }
        assert!(
            Zone::Machine
                .start_of(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
                .is_some()
        );
    }

    proptest! {
        #[test]
        fn no_input_panics(raw in "\\PC{0,40}", end in prop_oneof![Just(DayEnd::Start), Just(DayEnd::End)]) {
            let _ = parse_time(&raw, berlin(), end, now());
            let _ = parse_date(&raw, berlin(), now());
            let _ = parse_duration(&raw);
            let _ = Zone::parse(&raw);
        }

        #[test]
        fn no_time_shaped_input_panics(raw in "[-+0-9.:T Zdhmsw]{0,30}") {
            let _ = parse_time(&raw, Zone::Machine, DayEnd::End, now());
            let _ = parse_date(&raw, Zone::Machine, now());
            let _ = parse_duration(&raw);
        }

        #[test]
        fn german_and_iso_dates_agree(y in 1i32..9999, m in 1u32..=12, d in 1u32..=28,
                                      h in 0u32..24, min in 0u32..60) {
            let german = format!("{d:02}.{m:02}.{y:04} {h:02}:{min:02}");
            let iso = format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}");
            let utc = Zone::parse("UTC").unwrap();
            let a = parse_time(&german, utc, DayEnd::End, now()).unwrap();
            let b = parse_time(&iso, utc, DayEnd::Start, now()).unwrap();
            prop_assert_eq!(a, b);
            prop_assert_eq!(&a.format("%d.%m.%Y %H:%M").to_string(), &german);
            let day = parse_date(&german[..10], utc, now()).unwrap();
            prop_assert_eq!(day, a.date_naive());
        }
    }
}
