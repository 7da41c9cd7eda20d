//! The fixed enumerations of DESIGN.md "Vocabulary": stored keys plus English and German
//! labels.

use super::InvalidValue;

/// Declares a vocabulary enum: each variant with its stored key and its English and German
/// labels. Generates the enum (serde in `snake_case`, which must equal the key; a test checks
/// it), `ALL`, `as_str`, `label_en`, `label_de`, `Display` (the key) and `FromStr` (key or
/// either label, ignoring case, with spaces and dashes read as underscores). The store binds
/// and decodes these types as their keys (`store/vocab.rs`), so no SQL code passes strings.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $key:literal, $en:literal, $de:literal;
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in the order of DESIGN.md.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The value whose stored key is exactly `key` (no labels, no case folding):
            /// for reading the database, where only keys are stored.
            pub fn from_key(key: &str) -> Option<Self> {
                match key {
                    $($key => Some(Self::$variant),)+
                    _ => None,
                }
            }

            #[doc = concat!("The stored key: ", $("`", $key, "` "),+)]
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $key,)+
                }
            }

            /// The English label.
            pub fn label_en(&self) -> &'static str {
                match self {
                    $(Self::$variant => $en,)+
                }
            }

            /// The German label.
            pub fn label_de(&self) -> &'static str {
                match self {
                    $(Self::$variant => $de,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = super::InvalidValue;

            /// Reads the key or the English or German label, ignoring case.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                super::vocab::parse_term(s, Self::ALL, |v| [v.as_str(), v.label_en(), v.label_de()])
            }
        }
    };
}

pub(super) use vocabulary;

/// Finds the value whose key or label matches `input`; the error lists the keys.
pub(super) fn parse_term<T: Copy>(
    input: &str,
    all: &[T],
    names: impl Fn(T) -> [&'static str; 3],
) -> Result<T, InvalidValue> {
    let wanted = fold_term(input);
    all.iter()
        .copied()
        .find(|&v| names(v).iter().any(|n| fold_term(n) == wanted))
        .ok_or_else(|| {
            let keys: Vec<&str> = all.iter().map(|&v| names(v)[0]).collect();
            InvalidValue::new(format!("must be one of: {}", keys.join(", ")))
        })
}

/// Lower case, trimmed, `ß` as `ss`, spaces and dashes as underscores: `Read only` →
/// `read_only`, `GROSS` → `gross` (like `Groß`).
fn fold_term(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        match c {
            ' ' | '-' => out.push('_'),
            'ß' => out.push_str("ss"),
            c => out.push(c),
        }
    }
    out
}

/// Checks the key of an entry in an admin-configurable list (industries, account types,
/// relationship types, lost reasons): 1 to 64 of `a-z`, `0-9` and `_`.
pub fn check_list_key(key: &str) -> Result<(), InvalidValue> {
    let ok = (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(InvalidValue::new(
            "must be 1 to 64 of the characters a-z, 0-9 and _",
        ))
    }
}

vocabulary! {
    /// Whether a contact or company is in use.
    #[derive(Default)]
    pub enum EntityStatus {
        /// In use (the default).
        #[default]
        Active = "active", "Active", "Aktiv";
        /// No longer in use, kept for the record.
        Inactive = "inactive", "Inactive", "Inaktiv";
        /// Must not be contacted or sold to.
        Blocked = "blocked", "Blocked", "Gesperrt";
    }
}

vocabulary! {
    /// How a contact came to the organization.
    #[derive(Default)]
    pub enum ContactSource {
        /// The organization's web site.
        Website = "website", "Website", "Webseite";
        /// Recommended by someone.
        Referral = "referral", "Referral", "Empfehlung";
        /// Met at an event.
        Event = "event", "Event", "Veranstaltung";
        /// Contacted without prior relation.
        ColdOutreach = "cold_outreach", "Cold outreach", "Kaltakquise";
        /// Brought in by a partner.
        Partner = "partner", "Partner", "Partner";
        /// Created by a file import.
        Import = "import", "Import", "Import";
        /// Synchronized from Lexware Office.
        Lexware = "lexware", "Lexware", "Lexware";
        /// Anything else (the default).
        #[default]
        Other = "other", "Other", "Sonstige";
    }
}

vocabulary! {
    /// A company's size by head count.
    #[derive(Default)]
    pub enum CompanySize {
        /// Fewer than 10 employees.
        Micro = "micro", "Micro", "Kleinst";
        /// 10 to 49 employees.
        Small = "small", "Small", "Klein";
        /// 50 to 249 employees.
        Medium = "medium", "Medium", "Mittel";
        /// 250 employees or more.
        Large = "large", "Large", "Groß";
        /// Not known (the default).
        #[default]
        Unknown = "unknown", "Unknown", "Unbekannt";
    }
}

impl CompanySize {
    /// The size class for a head count.
    pub fn from_employees(employees: u32) -> Self {
        match employees {
            0..=9 => Self::Micro,
            10..=49 => Self::Small,
            50..=249 => Self::Medium,
            _ => Self::Large,
        }
    }
}

vocabulary! {
    /// What an e-mail address is used for.
    #[derive(Default)]
    pub enum EmailKind {
        /// At work (the default).
        #[default]
        Work = "work", "Work", "Geschäftlich";
        /// Private.
        Personal = "personal", "Personal", "Privat";
        /// Anything else.
        Other = "other", "Other", "Sonstige";
    }
}

vocabulary! {
    /// What kind of line a phone number is.
    #[derive(Default)]
    pub enum PhoneKind {
        /// A landline at work (the default).
        #[default]
        Office = "office", "Office", "Büro";
        /// A mobile phone.
        Mobile = "mobile", "Mobile", "Mobil";
        /// A fax machine.
        Fax = "fax", "Fax", "Fax";
        /// Anything else.
        Other = "other", "Other", "Sonstige";
    }
}

vocabulary! {
    /// A user's part in a contact, company or deal.
    #[derive(Default)]
    pub enum OwnerRole {
        /// Responsible for it (the default).
        #[default]
        Owner = "owner", "Owner", "Verantwortlich";
        /// Works on it.
        Member = "member", "Member", "Mitglied";
        /// Follows it.
        Watcher = "watcher", "Watcher", "Beobachter";
    }
}

vocabulary! {
    /// A user's role in an organization, which decides what they may do.
    pub enum UserRole {
        /// Owns the organization; everything, including deleting it.
        Owner = "owner", "Owner", "Inhaber";
        /// Manages users and settings.
        Admin = "admin", "Admin", "Administrator";
        /// Sees and changes all records.
        Manager = "manager", "Manager", "Manager";
        /// Works with records.
        User = "user", "User", "Benutzer";
        /// Only reads.
        ReadOnly = "read_only", "Read only", "Nur lesen";
    }
}

vocabulary! {
    /// The kind of an activity in a record's timeline.
    #[derive(Default)]
    pub enum ActivityType {
        /// A note (the default).
        #[default]
        Note = "note", "Note", "Notiz";
        /// A phone call.
        Call = "call", "Call", "Anruf";
        /// An e-mail.
        Email = "email", "E-mail", "E-Mail";
        /// A meeting.
        Meeting = "meeting", "Meeting", "Termin";
        /// Something to do.
        Task = "task", "Task", "Aufgabe";
        /// A reminder to follow up.
        Followup = "followup", "Follow-up", "Wiedervorlage";
    }
}

vocabulary! {
    /// Whether a person has given or withdrawn consent (recorded with time, source and
    /// purpose).
    pub enum ConsentStatus {
        /// Consent given.
        Granted = "granted", "Granted", "Erteilt";
        /// Consent withdrawn.
        Revoked = "revoked", "Revoked", "Widerrufen";
    }
}

/// Checks, for one vocabulary enum, everything the macro promises: serde names equal the keys,
/// every key and label parses back to its value, and keys and labels are unambiguous.
#[cfg(test)]
pub(super) fn check_vocabulary<T>(all: &[T])
where
    T: Copy
        + PartialEq
        + std::fmt::Debug
        + std::fmt::Display
        + std::str::FromStr
        + serde::Serialize
        + serde::de::DeserializeOwned,
    T::Err: std::fmt::Debug,
{
    for &v in all {
        let key = v.to_string();
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(
            json,
            format!("\"{key}\""),
            "serde name and key differ for {v:?}"
        );
        let back: T = serde_json::from_str(&format!("\"{key}\"")).unwrap();
        assert_eq!(back, v);
        assert_eq!(key.parse::<T>().unwrap(), v);
        assert_eq!(key.to_uppercase().parse::<T>().unwrap(), v);
        assert_eq!(format!("  {key} ").parse::<T>().unwrap(), v);
        assert!(
            key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "key {key} is not snake_case"
        );
    }
    assert!("".parse::<T>().is_err());
    assert!("no such value".parse::<T>().is_err());
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    /// Labels parse back, and no key or label of one value matches another value.
    fn check_labels<T>(all: &[T], names: impl Fn(T) -> [&'static str; 3])
    where
        T: Copy + PartialEq + std::fmt::Debug + FromStr,
        T::Err: std::fmt::Debug,
    {
        for &v in all {
            for name in names(v) {
                assert_eq!(name.parse::<T>().unwrap(), v, "{name}");
                assert_eq!(name.to_lowercase().parse::<T>().unwrap(), v, "{name}");
                assert_eq!(name.to_uppercase().parse::<T>().unwrap(), v, "{name}");
                for &other in all {
                    if other != v {
                        let clash = names(other).iter().any(|n| fold_term(n) == fold_term(name));
                        assert!(!clash, "{name} is ambiguous between {v:?} and {other:?}");
                    }
                }
            }
        }
    }

    macro_rules! check_all {
        ($($t:ty),+) => {$(
            check_vocabulary(<$t>::ALL);
            check_labels(<$t>::ALL, |v| [v.as_str(), v.label_en(), v.label_de()]);
        )+};
    }

    #[test]
    fn every_vocabulary_is_consistent() {
        check_all!(
            EntityStatus,
            ContactSource,
            CompanySize,
            EmailKind,
            PhoneKind,
            OwnerRole,
            UserRole,
            ActivityType,
            ConsentStatus
        );
    }

    fn keys<T: std::fmt::Display>(all: &[T]) -> String {
        all.iter().map(T::to_string).collect::<Vec<_>>().join(",")
    }

    #[test]
    fn keys_match_design() {
        assert_eq!(keys(EntityStatus::ALL), "active,inactive,blocked");
        assert_eq!(
            keys(ContactSource::ALL),
            "website,referral,event,cold_outreach,partner,import,lexware,other"
        );
        assert_eq!(keys(CompanySize::ALL), "micro,small,medium,large,unknown");
        assert_eq!(keys(EmailKind::ALL), "work,personal,other");
        assert_eq!(keys(PhoneKind::ALL), "office,mobile,fax,other");
        assert_eq!(keys(OwnerRole::ALL), "owner,member,watcher");
        assert_eq!(keys(UserRole::ALL), "owner,admin,manager,user,read_only");
        assert_eq!(
            keys(ActivityType::ALL),
            "note,call,email,meeting,task,followup"
        );
        assert_eq!(keys(ConsentStatus::ALL), "granted,revoked");
    }

    #[test]
    fn parses_labels_and_variants() {
        assert_eq!(
            "Kaltakquise".parse::<ContactSource>().unwrap(),
            ContactSource::ColdOutreach
        );
        assert_eq!(
            "cold outreach".parse::<ContactSource>().unwrap(),
            ContactSource::ColdOutreach
        );
        assert_eq!(
            "COLD-OUTREACH".parse::<ContactSource>().unwrap(),
            ContactSource::ColdOutreach
        );
        assert_eq!("Nur lesen".parse::<UserRole>().unwrap(), UserRole::ReadOnly);
        assert_eq!("read-only".parse::<UserRole>().unwrap(), UserRole::ReadOnly);
        assert_eq!("GROSS".parse::<CompanySize>().unwrap(), CompanySize::Large);
        assert_eq!("groß".parse::<CompanySize>().unwrap(), CompanySize::Large);
        assert_eq!(
            "GESCHÄFTLICH".parse::<EmailKind>().unwrap(),
            EmailKind::Work
        );
        assert_eq!("büro".parse::<PhoneKind>().unwrap(), PhoneKind::Office);
        assert_eq!(
            "Wiedervorlage".parse::<ActivityType>().unwrap(),
            ActivityType::Followup
        );
        assert_eq!(
            "follow-up".parse::<ActivityType>().unwrap(),
            ActivityType::Followup
        );
        assert_eq!(
            "e-mail".parse::<ActivityType>().unwrap(),
            ActivityType::Email
        );
        assert_eq!(
            "Widerrufen".parse::<ConsentStatus>().unwrap(),
            ConsentStatus::Revoked
        );
    }

    #[test]
    fn unknown_values_list_the_keys() {
        let e = "archived".parse::<EntityStatus>().unwrap_err();
        assert_eq!(e.to_string(), "must be one of: active, inactive, blocked");
        assert!(serde_json::from_str::<EntityStatus>("\"Active\"").is_err());
    }

    #[test]
    fn serde_uses_snake_case_keys() {
        assert_eq!(
            serde_json::to_string(&UserRole::ReadOnly).unwrap(),
            "\"read_only\""
        );
        assert_eq!(
            serde_json::to_string(&ContactSource::ColdOutreach).unwrap(),
            "\"cold_outreach\""
        );
        let v: ActivityType = serde_json::from_str("\"followup\"").unwrap();
        assert_eq!(v, ActivityType::Followup);
    }

    #[test]
    fn defaults_match_the_schema() {
        assert_eq!(EntityStatus::default(), EntityStatus::Active);
        assert_eq!(ContactSource::default(), ContactSource::Other);
        assert_eq!(CompanySize::default(), CompanySize::Unknown);
        assert_eq!(EmailKind::default(), EmailKind::Work);
        assert_eq!(PhoneKind::default(), PhoneKind::Office);
        assert_eq!(OwnerRole::default(), OwnerRole::Owner);
        assert_eq!(ActivityType::default(), ActivityType::Note);
    }

    #[test]
    fn company_size_from_employees() {
        assert_eq!(CompanySize::from_employees(0), CompanySize::Micro);
        assert_eq!(CompanySize::from_employees(9), CompanySize::Micro);
        assert_eq!(CompanySize::from_employees(10), CompanySize::Small);
        assert_eq!(CompanySize::from_employees(49), CompanySize::Small);
        assert_eq!(CompanySize::from_employees(50), CompanySize::Medium);
        assert_eq!(CompanySize::from_employees(249), CompanySize::Medium);
        assert_eq!(CompanySize::from_employees(250), CompanySize::Large);
        assert_eq!(CompanySize::from_employees(u32::MAX), CompanySize::Large);
    }

    #[test]
    fn list_keys() {
        for ok in ["price", "no_budget", "a", "x1", &"k".repeat(64)] {
            assert!(check_list_key(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Price",
            "no budget",
            "no-budget",
            "preis€",
            &"k".repeat(65),
        ] {
            assert!(check_list_key(bad).is_err(), "{bad}");
        }
    }
}
