//! The word lists behind the generator: first and last names per region, cities with postal
//! code ranges, area codes and register courts, street names, company name parts, job titles
//! and the phrases of deals and activities.
//!
//! Lists that are picked from with a front-heavy distribution are ordered by frequency,
//! most common first.

mod activity;
mod business;
mod names;
mod places;

pub(super) use activity::*;
pub(super) use business::*;
pub(super) use names::*;
pub(super) use places::*;

/// The three countries the generator covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Country {
    De,
    At,
    Ch,
}

impl Country {
    /// The ISO 3166 code.
    pub(super) fn code(self) -> &'static str {
        match self {
            Self::De => "DE",
            Self::At => "AT",
            Self::Ch => "CH",
        }
    }

    /// The international calling code, with `+`.
    pub(super) fn calling_code(self) -> &'static str {
        match self {
            Self::De => "+49",
            Self::At => "+43",
            Self::Ch => "+41",
        }
    }

    /// The cities of the country.
    pub(super) fn cities(self) -> &'static [City] {
        match self {
            Self::De => CITIES_DE,
            Self::At => CITIES_AT,
            Self::Ch => CITIES_CH,
        }
    }
}

/// A city a company or contact can be in.
#[derive(Debug)]
pub(super) struct City {
    /// The name as written locally.
    pub name: &'static str,
    /// The lowest and highest postal code handed out here.
    pub plz: (u32, u32),
    /// The area code without the trunk prefix 0 (`30` for Berlin).
    pub area: &'static str,
    /// The court (or Swiss cantonal office) keeping the commercial register.
    pub court: &'static str,
    /// Relative weight, roughly the population in ten thousands.
    pub weight: u32,
    /// Whether the city is French-speaking (Romandie).
    pub french: bool,
}

const fn c(
    name: &'static str,
    lo: u32,
    hi: u32,
    area: &'static str,
    court: &'static str,
    weight: u32,
) -> City {
    City {
        name,
        plz: (lo, hi),
        area,
        court,
        weight,
        french: false,
    }
}

const fn fr(
    name: &'static str,
    lo: u32,
    hi: u32,
    area: &'static str,
    court: &'static str,
    weight: u32,
) -> City {
    City {
        name,
        plz: (lo, hi),
        area,
        court,
        weight,
        french: true,
    }
}
