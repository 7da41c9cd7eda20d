//! Deal status and its state machine, and the lost-reason rule.

use super::InvalidValue;
use super::vocab::{check_list_key, vocabulary};

vocabulary! {
    /// Where a deal stands. Changes follow [`DealStatus::transition`].
    #[derive(Default)]
    pub enum DealStatus {
        /// Being worked on (the default).
        #[default]
        Open = "open", "Open", "Offen";
        /// Closed as won.
        Won = "won", "Won", "Gewonnen";
        /// Closed as lost; needs a lost reason.
        Lost = "lost", "Lost", "Verloren";
    }
}

impl DealStatus {
    /// Whether the deal is closed (won or lost).
    pub fn is_closed(&self) -> bool {
        !matches!(self, Self::Open)
    }

    /// Whether a deal may go from `self` to `to`: open → won, open → lost, and reopening
    /// (won → open, lost → open). A closed deal must be reopened before it is closed the other
    /// way, and a change to the same status is no change.
    pub fn can_transition(&self, to: DealStatus) -> bool {
        matches!(
            (self, to),
            (Self::Open, Self::Won | Self::Lost) | (Self::Won | Self::Lost, Self::Open)
        )
    }

    /// Checks a status change and returns the new status; the error names both states.
    pub fn transition(self, to: DealStatus) -> Result<DealStatus, InvalidValue> {
        if self.can_transition(to) {
            return Ok(to);
        }
        let hint = if self == to {
            " (it already is)"
        } else {
            "; reopen it first"
        };
        Err(InvalidValue::new(format!(
            "cannot change a deal from {} to {}{hint}",
            self.as_str(),
            to.as_str()
        )))
    }
}

/// Checks the lost-reason rule of a deal in `status`, given the key of its lost reason
/// (blank counts as none): a lost deal needs one, an open or won deal must not have one
/// (the schema's `deals_lost_needs_reason` and `deals_reason_only_when_lost`). A given key
/// must be a well-formed list key; whether it exists is for the database to say.
pub fn check_close(status: DealStatus, lost_reason_key: Option<&str>) -> Result<(), InvalidValue> {
    let key = lost_reason_key.map(str::trim).filter(|k| !k.is_empty());
    match (status, key) {
        (DealStatus::Lost, None) => Err(InvalidValue::new("a lost deal needs a lost reason")),
        (DealStatus::Lost, Some(key)) => check_list_key(key),
        (DealStatus::Open | DealStatus::Won, None) => Ok(()),
        (DealStatus::Open | DealStatus::Won, Some(_)) => {
            Err(InvalidValue::new("only a lost deal can have a lost reason"))
        }
    }
}

/// One entry of the default lost-reason list that a new organization is seeded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LostReasonDefault {
    /// The stable key, e.g. `no_budget`.
    pub key: &'static str,
    /// The English label.
    pub label_en: &'static str,
    /// The German label.
    pub label_de: &'static str,
}

/// The default lost reasons of DESIGN.md, in display order.
pub const DEFAULT_LOST_REASONS: &[LostReasonDefault] = &[
    LostReasonDefault {
        key: "price",
        label_en: "Price",
        label_de: "Preis",
    },
    LostReasonDefault {
        key: "competitor",
        label_en: "Competitor",
        label_de: "Wettbewerber",
    },
    LostReasonDefault {
        key: "no_budget",
        label_en: "No budget",
        label_de: "Kein Budget",
    },
    LostReasonDefault {
        key: "no_decision",
        label_en: "No decision",
        label_de: "Keine Entscheidung",
    },
    LostReasonDefault {
        key: "timing",
        label_en: "Timing",
        label_de: "Zeitpunkt",
    },
    LostReasonDefault {
        key: "product_fit",
        label_en: "Product fit",
        label_de: "Produkt passt nicht",
    },
    LostReasonDefault {
        key: "unresponsive",
        label_en: "Unresponsive",
        label_de: "Keine Rückmeldung",
    },
    LostReasonDefault {
        key: "other",
        label_en: "Other",
        label_de: "Sonstiges",
    },
];

#[cfg(test)]
mod tests {
    use super::super::vocab::check_vocabulary;
    use super::*;

    use DealStatus::{Lost, Open, Won};

    #[test]
    fn vocabulary() {
        check_vocabulary(DealStatus::ALL);
        let keys: Vec<&str> = DealStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(keys, ["open", "won", "lost"]);
        assert_eq!("Gewonnen".parse::<DealStatus>().unwrap(), Won);
        assert_eq!("VERLOREN".parse::<DealStatus>().unwrap(), Lost);
        assert_eq!(DealStatus::default(), Open);
        assert_eq!(Won.label_en(), "Won");
        assert_eq!(Lost.label_de(), "Verloren");
        assert!(!Open.is_closed());
        assert!(Won.is_closed() && Lost.is_closed());
    }

    #[test]
    fn allowed_transitions() {
        assert_eq!(Open.transition(Won), Ok(Won));
        assert_eq!(Open.transition(Lost), Ok(Lost));
        assert_eq!(Won.transition(Open), Ok(Open));
        assert_eq!(Lost.transition(Open), Ok(Open));
    }

    #[test]
    fn refused_transitions_name_both_states() {
        let e = Won.transition(Lost).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot change a deal from won to lost; reopen it first"
        );
        let e = Lost.transition(Won).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot change a deal from lost to won; reopen it first"
        );
        for s in DealStatus::ALL {
            let e = s.transition(*s).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("cannot change a deal from {s} to {s} (it already is)")
            );
        }
        let allowed = DealStatus::ALL
            .iter()
            .flat_map(|a| DealStatus::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_transition(*b))
            .count();
        assert_eq!(allowed, 4);
    }

    #[test]
    fn lost_needs_a_reason() {
        assert!(check_close(Lost, Some("price")).is_ok());
        assert!(check_close(Lost, Some(" no_budget ")).is_ok());
        let e = check_close(Lost, None).unwrap_err();
        assert_eq!(e.to_string(), "a lost deal needs a lost reason");
        assert!(check_close(Lost, Some("  ")).is_err());
        assert!(check_close(Lost, Some("Kein Budget")).is_err());
    }

    #[test]
    fn only_lost_has_a_reason() {
        assert!(check_close(Open, None).is_ok());
        assert!(check_close(Won, None).is_ok());
        assert!(check_close(Won, Some("")).is_ok());
        let e = check_close(Won, Some("price")).unwrap_err();
        assert_eq!(e.to_string(), "only a lost deal can have a lost reason");
        assert!(check_close(Open, Some("price")).is_err());
    }

    #[test]
    fn default_lost_reasons() {
        let keys: Vec<&str> = DEFAULT_LOST_REASONS.iter().map(|r| r.key).collect();
        assert_eq!(
            keys,
            [
                "price",
                "competitor",
                "no_budget",
                "no_decision",
                "timing",
                "product_fit",
                "unresponsive",
                "other"
            ]
        );
        for r in DEFAULT_LOST_REASONS {
            assert!(check_list_key(r.key).is_ok());
            assert!(!r.label_en.is_empty() && !r.label_de.is_empty());
        }
    }
}
