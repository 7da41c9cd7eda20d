//! Duplicates: finding records that are probably the same person or company, merging two or
//! more of them into one survivor, and undoing a merge.
//!
//! - [`detect`] finds candidate groups with a score and the reasons, in set-based SQL:
//!   every live record gets blocking keys (normalised e-mail, E.164 phone, company or e-mail
//!   domain plus a name-word prefix; for companies VAT id, domain, name without legal form and
//!   that name with one word cut so that one typo keeps the key), records sharing a key
//!   become candidate pairs (oversized blocks are skipped), and each pair is scored on its
//!   features (trigram similarity of the normalised names, swapped names, initials; company
//!   names only count as similar one typo apart). Pairs marked "not a duplicate" ([`dismiss`]) are never
//!   proposed again. Pairs are joined into groups (connected components).
//! - [`merge`] folds the other records into the first in one transaction: per-field choices
//!   (`take`), otherwise the survivor's value, else the newest non-empty one; e-mails, phones,
//!   tags and owners united; every relation moved. The merged-away records become tombstones
//!   (`merged_into_id`), and a merge record keeps a snapshot of every row the merge changed.
//! - [`likely_duplicates`] checks records on the way in (`add`, imports): the same signals
//!   and scores for a few new records, through indexes.
//! - [`unmerge`] restores from that snapshot while nothing the merge touched has changed
//!   since; otherwise it fails with a conflict naming what changed.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

mod apply;
mod detect;
mod dismiss;
mod likely;
mod merge;
mod spec;
mod unmerge;

pub use detect::{
    CompanyFeatures, ContactFeatures, NameFeatures, company_core, company_names_close, detect,
    detect_in, osa_distance, score_company_pair, score_contact_pair, trigram_similarity,
};
pub use dismiss::{dismiss, undismiss};
pub use likely::{Likely, likely_duplicates};
pub(crate) use likely::{company_import_warning, import_warnings};
pub use merge::merge;
pub use unmerge::unmerge;

/// What kind of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Contacts (people).
    Contact,
    /// Companies.
    Company,
}

impl Kind {
    /// `contact` or `company`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Contact => "contact",
            Kind::Company => "company",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why two records look like duplicates (a pair has one or more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// They share an e-mail address (ignoring case and surrounding spaces).
    Email,
    /// They share a phone number (compared in E.164).
    Phone,
    /// Their normalised names are similar (umlaut spellings, typos).
    SimilarName,
    /// Their names are equal once normalised (for companies: without the legal form).
    SameName,
    /// One has an initial where the other has the first name (`J. Müller`).
    Initials,
    /// First and last name are swapped.
    SwappedName,
    /// They work for the same company.
    SameCompany,
    /// Their e-mail addresses share the domain.
    SameEmailDomain,
    /// They have the same VAT id.
    VatId,
    /// They have the same web domain.
    Domain,
}

impl Reason {
    /// The stable key (`email`, `similar_name`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Email => "email",
            Reason::Phone => "phone",
            Reason::SimilarName => "similar_name",
            Reason::SameName => "same_name",
            Reason::Initials => "initials",
            Reason::SwappedName => "swapped_name",
            Reason::SameCompany => "same_company",
            Reason::SameEmailDomain => "same_email_domain",
            Reason::VatId => "vat_id",
            Reason::Domain => "domain",
        }
    }

    /// Every reason.
    pub const ALL: [Reason; 10] = [
        Reason::Email,
        Reason::Phone,
        Reason::SimilarName,
        Reason::SameName,
        Reason::Initials,
        Reason::SwappedName,
        Reason::SameCompany,
        Reason::SameEmailDomain,
        Reason::VatId,
        Reason::Domain,
    ];
}

impl FromStr for Reason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reason::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                let keys: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown reason; one of {}", keys.join(", "))
            })
    }
}

/// The score at or above which [`detect`] proposes a pair by default.
pub const DEFAULT_MIN_SCORE: f64 = 0.75;

/// What [`detect`] looks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectOptions {
    /// Only pairs scoring at least this (0 to 1).
    pub min_score: f64,
    /// Only pairs with this reason among theirs.
    pub reason: Option<Reason>,
    /// At most this many groups (the best first).
    pub limit: u32,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            min_score: DEFAULT_MIN_SCORE,
            reason: None,
            limit: 100,
        }
    }
}

/// Two records that look like duplicates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    /// The two record ids (the smaller first).
    pub ids: [Uuid; 2],
    /// How likely they are the same, 0 to 1.
    pub score: f64,
    /// Why.
    pub reasons: Vec<Reason>,
}

/// One record of a candidate group, as shown to a user.
#[derive(Clone, PartialEq, Serialize)]
pub struct Member {
    /// Its id.
    pub id: Uuid,
    /// The contact's full name or the company's name.
    pub name: String,
    /// The primary e-mail (contacts) or the domain (companies).
    pub detail: Option<String>,
    /// When it was last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl fmt::Debug for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Member")
            .field("id", &self.id)
            .field("name", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Records that are probably the same: every record is linked to another by a [`Pair`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Contacts or companies.
    pub kind: Kind,
    /// The best score of its pairs.
    pub score: f64,
    /// Every reason of its pairs.
    pub reasons: Vec<Reason>,
    /// The record ids, the oldest first (the usual survivor of a merge).
    pub ids: Vec<Uuid>,
    /// The records, in the order of `ids`.
    pub members: Vec<Member>,
    /// The pairs that make up the group.
    pub pairs: Vec<Pair>,
}

/// A merge to do: `ids[0]` survives, the others are merged into it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MergeRequest {
    /// The records: the survivor first.
    pub ids: Vec<Uuid>,
    /// Per-field choices: field name (see [`fields`]) to the id of the record whose value
    /// wins.
    pub take: BTreeMap<String, Uuid>,
    /// The versions the records were read at (from a preview): a record changed since is a
    /// conflict and nothing is merged.
    pub versions: BTreeMap<Uuid, i32>,
    /// Only show what would happen: nothing is changed.
    pub dry_run: bool,
}

/// What a merge did (or would do, for a dry run).
#[derive(Debug, Clone, Serialize)]
pub struct MergeOutcome {
    /// The id of the merge (for `unmerge`); none for a dry run.
    pub merge_id: Option<Uuid>,
    /// Contacts or companies.
    pub kind: Kind,
    /// The survivor.
    pub survivor_id: Uuid,
    /// The records merged into it (now tombstones pointing at it).
    pub merged_ids: Vec<Uuid>,
    /// For every field group, the record whose value the survivor has now.
    pub taken: BTreeMap<String, Uuid>,
    /// How many related rows moved to the survivor, by kind (`deals`, `activities`, ...).
    pub moved: BTreeMap<String, u64>,
    /// The versions the records had before (for a later merge of exactly this state).
    pub versions: BTreeMap<Uuid, i32>,
    /// Whether this was only a preview.
    pub dry_run: bool,
    /// The survivor as it is after the merge (the `contact show` / `company show` JSON).
    pub record: Value,
}

/// What an unmerge restored.
#[derive(Debug, Clone, Serialize)]
pub struct UnmergeOutcome {
    /// The merge undone.
    pub merge_id: Uuid,
    /// Contacts or companies.
    pub kind: Kind,
    /// The survivor, restored to its state before the merge.
    pub survivor_id: Uuid,
    /// The records brought back.
    pub restored_ids: Vec<Uuid>,
}

/// The field names `take` accepts for a kind, each with what it covers.
pub fn fields(kind: Kind) -> Vec<(&'static str, &'static str)> {
    let spec = spec::Spec::of(kind);
    let mut out: Vec<(&'static str, &'static str)> =
        spec.fields.iter().map(|f| (f.name, f.help)).collect();
    if kind == Kind::Contact {
        out.push(("name", "first and last name together"));
    }
    out.extend(spec::SPECIAL_FIELDS.iter().copied());
    out
}
