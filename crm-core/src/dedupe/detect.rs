//! Finding likely duplicates: blocking keys in SQL, scoring per candidate pair, groups.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DetectOptions, Group, Kind, Member, Pair, Reason};
use crate::auth::Permission;
use crate::error::{Error, Result};
use crate::tenancy::{Scope, Tx};

/// Records sharing one blocking key beyond this many are not paired by it (a company
/// switchboard number, a shared team address): the key says nothing about them.
const MAX_BLOCK: i64 = 100;

/// What a pair of namesakes scores with nothing else in common (the same full name, or
/// swapped): [`score_contact_pair`]'s lowest score. Above it, no full-name key (`n`) is
/// built: a pair of namesakes scores more only at the same company, where the company
/// blocks of their name words ([`COMPANY_WORD_BLOCKS`]) find them (e-mail, phone and e-mail
/// domain count only through keys of their own), and blocks of common names across all
/// companies are what the key produced most: at a million generated contacts 14.2 of its
/// 14.5 million candidate pairs.
const NAMESAKE_SCORE: f64 = 0.60;

/// The candidate pairs of contacts and their features. Keys: `e` the e-mail address,
/// `p` the phone number, `c` company plus a name-word prefix, `d` e-mail domain plus a
/// name-word prefix, and with namesakes asked for ([`NAMESAKE_BLOCKS`]) `n` the normalised
/// full name (in either order). Names are compared as `crm_name_key` (German spellings
/// folded, accents and punctuation removed) by [`trigram_similarity`] in Rust, also first
/// and last name swapped. The names come from `contacts.name_key` (`crm_person_key`, kept
/// by the database).
///
/// Each kind of key is grouped straight from the tables (nothing is materialised), and
/// sorted rather than hashed: a sort keeps one block's ids in memory at a time where a hash
/// table keeps the id lists of a million keys and spills. Every key is sorted by a 64-bit
/// hash of itself first and then by its parts (`collate "C"`: bytes, not the locale's
/// rules): the sort compares integers, and the parts only where two hashes are equal, so
/// the blocks are exactly those of the keys themselves. The name words are split in the
/// select list (`unnest` there runs in step with the scan; in `from` it collects each
/// contact's words in a tuple store first). E-mail addresses and phone numbers are read
/// from `contact_emails` and `contact_phones` and the mirrors on `contacts` (which hold a
/// contact's one address and number where it has no rows); the e-mail domain of the
/// primary address from `contacts`, other addresses' from `contact_emails`. A deleted
/// contact's address may fill a block; its pairs are dropped by the final join with the
/// live contacts. Without namesakes, the full name at
/// one company (the `n` key at company level) is a company block of its words already; a
/// name of initials only (`j | k`) keeps its one-letter words for that. A record may hold a
/// key twice (two name words with one prefix, two addresses at one domain); that only
/// pairs it with itself, which `a < b` drops.
///
/// The keys are read in two halves ([`CONTACT_HALVES`]), each a query of its own with the
/// pairs it finds; [`detect`] runs them at once on two connections. At a million generated
/// contacts (one tenant, `crm contact duplicates --limit 100`) the whole query took 14.5 s
/// with each key sorted by its text, and 45 s with all 7 million keys in one table counted
/// at once; the pairs are the same.
const CONTACT_TOKENS: &str = "\
with tok as not materialized ( \
    select id, company_id, dom, left(w, 3) as t from ( \
        select x.id, x.company_id, split_part(x.email_norm, '@', 2) as dom, x.name_key, \
               unnest(string_to_array(x.name_key, ' ')) as w \
        from contacts x where x.org_id = $1 and x.deleted_at is null) u \
    where length(w) >= 2 or name_key !~ '[a-z0-9]{2}'), \
blocks as ( ";

/// The `e` blocks of [`CONTACT_TOKENS`]: a shared e-mail address. Every contact's mirror
/// is read with the rows (no anti-join on the rows per contact, whose plan hangs on the rows'
/// statistics): where a contact has rows, its mirror is the address of its primary row,
/// counted once by the `distinct`.
const EMAIL_BLOCKS: &str = "\
    select 'e' as k, array_agg(distinct contact_id) as ids from ( \
        select contact_id, email_norm from contact_emails where org_id = $1 \
        union all \
        select id, email_norm from contacts where org_id = $1 and email_norm is not null) a \
    group by hashtextextended(email_norm, 0), email_norm collate \"C\" \
    having count(distinct contact_id) between 2 and $2 ";

/// The `p` blocks: a shared phone number (in E.164 form; a mirror in that form, as
/// `contact_phone_list` reads it).
const PHONE_BLOCKS: &str = "\
    select 'p' as k, array_agg(distinct contact_id) as ids from ( \
        select contact_id, number_e164 from contact_phones \
        where org_id = $1 and number_e164 is not null \
        union all \
        select id, phone from contacts \
        where org_id = $1 and crm_is_e164(phone)) a \
    group by hashtextextended(number_e164, 0), number_e164 collate \"C\" \
    having count(distinct contact_id) between 2 and $2 ";

/// The `c` blocks: the same company and name-word prefix.
const COMPANY_WORD_BLOCKS: &str = "\
    union all \
    select 'c', array_agg(id) from tok where company_id is not null \
    group by uuid_hash_extended(company_id, hashtext(t)), company_id, t collate \"C\" \
    having count(*) between 2 and $2 ";

/// The `d` blocks: the same e-mail domain (of any address) and name-word prefix.
const DOMAIN_WORD_BLOCKS: &str = "\
    union all \
    select 'd', array_agg(id) from ( \
        select id, dom, t from tok where dom <> '' \
        union all \
        select x.id, e.domain, left(w, 3) \
        from contact_emails e \
        join contacts x on x.org_id = $1 and x.id = e.contact_id and x.deleted_at is null, \
        unnest(string_to_array(x.name_key, ' ')) w \
        where e.org_id = $1 and not e.is_primary and length(w) >= 2) d \
    group by hashtextextended(dom || ' ' || t, 0), dom collate \"C\", t collate \"C\" \
    having count(*) between 2 and $2 ";

/// The two halves of the contact blocks, each of about the same cost (at a million
/// contacts 7.4 s and 8.2 s run at once, against 13.4 s for all blocks in one query):
/// e-mail addresses and company blocks, phone numbers and e-mail domain blocks. A pair
/// found in both halves is merged by [`merge_contact_rows`].
const CONTACT_HALVES: [[&str; 2]; 2] = [
    [EMAIL_BLOCKS, COMPANY_WORD_BLOCKS],
    [PHONE_BLOCKS, DOMAIN_WORD_BLOCKS],
];

/// The `n` blocks: namesakes across companies (with the first half).
const NAMESAKE_BLOCKS: &str = "\
    union all \
    select 'n', array_agg(id) from ( \
        select id, btrim(split_part(name_key, '|', 1)) as fn, \
               btrim(split_part(name_key, '|', 2)) as ln \
        from contacts where org_id = $1 and deleted_at is null) n \
    where fn <> '' and ln <> '' \
    group by least(fn, ln) || ' ' || greatest(fn, ln) collate \"C\" \
    having count(*) between 2 and $2 ";

/// The pairs of the blocks ([`CONTACT_TOKENS`]) with what they have in common, among live
/// contacts.
const CONTACT_PAIRS: &str = "), \
pairs as ( \
    select a, b, bool_or(k = 'e') as email, bool_or(k = 'p') as phone, \
           bool_or(k = 'd') as domain \
    from blocks, unnest(ids) a, unnest(ids) b where a < b group by a, b) \
select p.a, p.b, p.email, p.phone, p.domain, \
       coalesce(x.company_id = y.company_id, false) as same_company, \
       btrim(split_part(x.name_key, '|', 1)), btrim(split_part(x.name_key, '|', 2)), \
       btrim(split_part(y.name_key, '|', 1)), btrim(split_part(y.name_key, '|', 2)) \
from pairs p join contacts x on x.org_id = $1 and x.id = p.a and x.deleted_at is null \
     join contacts y on y.org_id = $1 and y.id = p.b and y.deleted_at is null \
where not exists (select 1 from duplicate_dismissals d where d.org_id = $1 \
                  and d.contact_id = p.a and d.other_contact_id = p.b)";

/// The candidate pairs of companies and their features. Keys: `v` the VAT id (letters and
/// digits), `w` the web domain (from `domain`, else the website's host, without `www.`),
/// `n` the name without legal form (`companies.name_key`, `crm_company_key`, and without the
/// Austrian forms it keeps), and for typos `t`: that name with one of its words (four
/// letters or more) replaced by its first half, by its second half, and by the word without
/// its middle two letters (each with the word's length: `reinhardt <praezisi17 nord`). Two
/// neighbouring letters swapped lie in one half or are the middle two, so one of the three
/// stays. A word of eight letters or more is also cut to its first and last four
/// (`reinhardt prae*hnik nord`: a letter more or less in between keeps it), and every word
/// is written without doubled letters (`gama logistik` for `gamma logistik`). Names that
/// differ in another word share none of them, so the blocks stay small at any size; the
/// pairs are scored by [`company_names_close`].
const COMPANY_PAIRS: &str = "\
with c as materialized ( \
    select s.*, string_to_array(s.core, ' ') as ws from ( \
        select id, coalesce(name_key, '') as nk, \
               crm_company_core(coalesce(name_key, '')) as core, \
               nullif(upper(regexp_replace(coalesce(vat_id, ''), '[^A-Za-z0-9]', '', 'g')), '') as vat, \
               nullif(regexp_replace(lower(btrim(coalesce(domain, \
                      substring(website from '^(?:[A-Za-z]+://)?([^/:?#]+)')))), '^www\\.', ''), '') as dom \
        from companies where org_id = $1 and deleted_at is null) s), \
words as ( \
    select c.id, u.w, length(u.w) as n, length(u.w) / 2 as h, \
           array_to_string(c.ws[:u.i - 1], ' ') || ' ' as pre, \
           ' ' || array_to_string(c.ws[u.i + 1:], ' ') as post \
    from c, unnest(c.ws) with ordinality u(w, i) where length(u.w) >= 4), \
keys as ( \
    select id, 'v' as k, vat as key from c where vat is not null \
    union all select id, 'w', dom from c where dom is not null \
    union all select id, 'n', core from c where core <> '' \
    union all select id, 't', pre || '<' || left(w, h) || n || post from words \
    union all select id, 't', pre || '>' || right(w, n - h) || n || post from words \
    union all select id, 't', pre || '=' || left(w, h - 1) || right(w, n - h - 1) || n || post \
              from words \
    union all select id, 't', pre || left(w, 4) || '*' || right(w, 4) || post from words \
              where n >= 8 \
    union all select id, 't', pre || '2' || regexp_replace(w, '(.)\\1+', '\\1', 'g') || post \
              from words), \
shared as ( \
    select k, key collate \"C\" as key from keys group by k, key collate \"C\" \
    having count(*) between 2 and $2), \
blocks as ( \
    select k, array_agg(id) as ids from keys join shared using (k, key) group by k, key), \
pairs as ( \
    select a, b, bool_or(k = 'v') as vat, bool_or(k = 'w') as domain, \
           bool_or(k = 'n') as same_name \
    from blocks, unnest(ids) a, unnest(ids) b where a < b group by a, b) \
select p.a, p.b, p.vat, p.domain, p.same_name, x.nk, y.nk \
from pairs p join c x on x.id = p.a join c y on y.id = p.b \
where not exists (select 1 from duplicate_dismissals d where d.org_id = $1 \
                  and d.company_id = p.a and d.other_company_id = p.b)";

/// What a contact pair has in common.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ContactFeatures {
    /// They share an e-mail address.
    pub email: bool,
    /// They share a phone number.
    pub phone: bool,
    /// Their e-mail addresses share a domain.
    pub domain: bool,
    /// They work for the same company.
    pub same_company: bool,
    /// Trigram similarity of the normalised full names (the better of both orders), 0–1.
    pub similarity: f64,
    /// The lower similarity of first names and of last names (the better of both orders):
    /// a shared long last name alone does not make Josef and Jonas the same person.
    pub part_similarity: f64,
    /// The normalised full names are equal.
    pub same_name: bool,
    /// Same last name, and one first name is the initial of the other.
    pub initials: bool,
    /// First and last name swapped.
    pub swapped: bool,
    /// First and last name each equal or one typo apart (a letter wrong, missing, extra, or
    /// two neighbours swapped; two such for names of eight letters or more).
    pub close: bool,
}

/// What two normalised names (`crm_name_key` parts) have in common.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NameFeatures {
    /// The full names are equal.
    pub same: bool,
    /// Same last name, and one first name is the other's initial (`j` / `juergen`; an
    /// umlaut initial folds to two letters: `oe` / `oezlem`).
    pub initials: bool,
    /// First and last name swapped.
    pub swapped: bool,
    /// Each part equal or a typo apart.
    pub close: bool,
}

impl NameFeatures {
    /// Compares first name `fa`, last name `la` with `fb`, `lb`.
    pub fn of(fa: &str, la: &str, fb: &str, lb: &str) -> Self {
        let same = !la.is_empty() && fa == fb && la == lb;
        let initial = |short: &str, long: &str| {
            !short.is_empty()
                && short.chars().count() <= 2
                && long.chars().count() > short.chars().count()
                && long.starts_with(short)
        };
        let initials =
            !la.is_empty() && la == lb && fa != fb && (initial(fa, fb) || initial(fb, fa));
        let swapped = !fa.is_empty() && fa != la && fa == lb && la == fb;
        let near = |x: &str, y: &str| {
            let limit = if x.chars().count().min(y.chars().count()) >= 8 {
                2
            } else {
                1
            };
            x == y || (!x.is_empty() && !y.is_empty() && osa_distance(x, y) <= limit)
        };
        let close = !la.is_empty()
            && !lb.is_empty()
            && !same
            && near(la, lb)
            && (near(fa, fb) || fa.is_empty() || fb.is_empty());
        Self {
            same,
            initials,
            swapped,
            close,
        }
    }
}

/// pg_trgm's `similarity`, computed here for the candidate pairs (in the database it was a
/// third of a detection run at a million contacts): the share of trigrams two texts have in
/// common, over the trigrams of both. As pg_trgm counts them: each word (a run of letters and
/// digits, lower-cased) padded with two blanks before and one after, every three characters
/// in a row once, and the ratio taken in single precision, so thresholds compare alike.
pub fn trigram_similarity(a: &str, b: &str) -> f64 {
    similarity_of(&trigrams(a), &trigrams(b))
}

/// [`trigram_similarity`] of two texts given as their [`trigrams`].
fn similarity_of(x: &[[char; 3]], y: &[[char; 3]]) -> f64 {
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    f64::from(common as f32 / (x.len() + y.len() - common) as f32)
}

/// The trigrams of two texts joined by a blank: each word's trigrams are its own, so they
/// are the union of both texts' trigrams, in either order (`Jürgen Müller`, `Müller Jürgen`).
fn joined(x: &[[char; 3]], y: &[[char; 3]]) -> Vec<[char; 3]> {
    let mut out = [x, y].concat();
    out.sort_unstable();
    out.dedup();
    out
}

/// The distinct trigrams of `s`, sorted (see [`trigram_similarity`]).
fn trigrams(s: &str) -> Vec<[char; 3]> {
    let mut out = Vec::new();
    let mut padded = Vec::new();
    for word in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        padded.clear();
        padded.extend([' ', ' ']);
        padded.extend(word.chars().flat_map(char::to_lowercase));
        padded.push(' ');
        out.extend(padded.windows(3).map(|w| [w[0], w[1], w[2]]));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Edit distance counting a swap of two neighbouring letters as one edit (optimal string
/// alignment).
pub fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

/// The score and reasons of a contact pair, or `None` when the features say nothing.
///
/// A shared e-mail is near certain (0.98); a shared phone with a similar name 0.95; a
/// similar name (similarity ≥ 0.55 with first and last names alike, initials or swapped) at the same company 0.80–0.95, with
/// the same e-mail domain 0.70–0.80; a shared phone alone 0.70; the same full name with
/// nothing else in common 0.60 (namesakes: below the default threshold).
pub fn score_contact_pair(f: &ContactFeatures) -> Option<(f64, Vec<Reason>)> {
    let name_match = f.same_name
        || f.initials
        || f.swapped
        || f.close
        || (f.similarity >= 0.55 && f.part_similarity >= 0.35);
    let name_strength = if f.same_name || f.swapped {
        1.0
    } else if f.initials || f.close {
        0.9
    } else {
        f.similarity
    };
    let mut reasons = Vec::new();
    if f.email {
        reasons.push(Reason::Email);
    }
    if f.phone {
        reasons.push(Reason::Phone);
    }
    if name_match {
        reasons.push(if f.same_name {
            Reason::SameName
        } else {
            Reason::SimilarName
        });
        if f.initials {
            reasons.push(Reason::Initials);
        }
        if f.swapped {
            reasons.push(Reason::SwappedName);
        }
    }
    if f.same_company {
        reasons.push(Reason::SameCompany);
    }
    if f.domain {
        reasons.push(Reason::SameEmailDomain);
    }
    let score = if f.email {
        if name_match { 0.99 } else { 0.98 }
    } else if f.phone && name_match {
        0.95
    } else if name_match && f.same_company {
        0.80 + 0.15 * name_strength
    } else if name_match && f.domain {
        0.70 + 0.10 * name_strength
    } else if f.phone {
        0.70
    } else if f.same_name || f.swapped {
        0.60
    } else {
        return None;
    };
    Some((round(score), reasons))
}

/// What a company pair has in common.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CompanyFeatures {
    /// Same VAT id.
    pub vat: bool,
    /// Same web domain.
    pub domain: bool,
    /// Same name without legal form.
    pub same_name: bool,
    /// Trigram similarity of the names without legal form, 0–1.
    pub similarity: f64,
    /// The names differ by one typo ([`company_names_close`]): the only way two different
    /// names count as similar. Names a word apart (`Zugspitz Bau Vertrieb` / `Zugspitz
    /// Verlag Vertrieb`) or a letter apart in a short word (`Kraus` / `Krause`, `Berger` /
    /// `Bergner`) are other companies, however high their trigram similarity.
    pub close: bool,
}

/// Legal forms the database's name key keeps (Austrian ones), as its words: removed from the
/// end of a key before names are compared (in SQL by `crm_company_core`, the same rule).
const MORE_LEGAL_FORMS: [&str; 6] = ["og", "e u", "eu", "keg", "oeg", "gesmbh"];

/// A company name key (`companies.name_key`) without a trailing legal form the database's
/// key keeps (`OG`, `e.U.`, `GesmbH`: `nordlicht e u` → `nordlicht`).
pub fn company_core(key: &str) -> &str {
    let key = key.trim();
    for form in MORE_LEGAL_FORMS {
        if let Some(rest) = key.strip_suffix(form)
            && let Some(rest) = rest.strip_suffix(' ')
            && !rest.trim().is_empty()
        {
            return rest.trim_end();
        }
    }
    key
}

/// Whether two company name keys differ by one typo: the same words but one, and that one
/// with two neighbouring letters swapped (`logistik` / `lgoistik`, four letters or more) or
/// one letter more or less (in a word of eight letters or more, or a doubled letter:
/// `gamma` / `gama`; `Berger` / `Bergner` and `Lange` / `Langer` are different family
/// names). A changed letter does not count: `Möller` and `Müller` are different names.
pub fn company_names_close(a: &str, b: &str) -> bool {
    let (wa, wb): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    if a == b || wa.len() != wb.len() {
        return false;
    }
    let differing: Vec<(&str, &str)> = wa.into_iter().zip(wb).filter(|(x, y)| x != y).collect();
    let [(x, y)] = differing[..] else {
        return false;
    };
    let (cx, cy): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
    if cx.len() == cy.len() {
        let diff: Vec<usize> = (0..cx.len()).filter(|&i| cx[i] != cy[i]).collect();
        cx.len() >= 4
            && matches!(diff[..], [i, j] if j == i + 1 && cx[i] == cy[j] && cx[j] == cy[i])
    } else {
        // One letter more or less: anywhere in a long word, else only a doubled letter
        // (`gamma` / `gama`).
        let undoubled = |w: &[char]| {
            let mut out = w.to_vec();
            out.dedup();
            out
        };
        osa_distance(x, y) == 1
            && (cx.len().min(cy.len()) >= 8
                || (cx.len().min(cy.len()) >= 3 && undoubled(&cx) == undoubled(&cy)))
    }
}

/// The score and reasons of a company pair, or `None`.
///
/// The same VAT id is near certain (0.99); the same domain with a similar name 0.97, alone
/// 0.85; the same name without legal form 0.92; one typo apart 0.85–0.90.
pub fn score_company_pair(f: &CompanyFeatures) -> Option<(f64, Vec<Reason>)> {
    let similar = f.close;
    let mut reasons = Vec::new();
    if f.vat {
        reasons.push(Reason::VatId);
    }
    if f.domain {
        reasons.push(Reason::Domain);
    }
    if f.same_name {
        reasons.push(Reason::SameName);
    } else if similar {
        reasons.push(Reason::SimilarName);
    }
    let score = if f.vat {
        0.99
    } else if f.domain && (f.same_name || f.close || f.similarity >= 0.5) {
        0.97
    } else if f.same_name {
        0.92
    } else if f.domain {
        0.85
    } else if similar {
        (0.55 + 0.35 * f.similarity).max(0.85)
    } else {
        return None;
    };
    Some((round(score), reasons))
}

/// A candidate contact pair as the pair queries return it: ids, the signals (same e-mail,
/// phone, e-mail domain, company) and both names (first, last; `crm_name_key` parts).
pub(super) type ContactPairRow = (
    Uuid,
    Uuid,
    bool,
    bool,
    bool,
    bool,
    String,
    String,
    String,
    String,
);

/// A candidate company pair as the pair queries return it: ids, same VAT id, domain and
/// name key, and both name keys.
pub(super) type CompanyPairRow = (Uuid, Uuid, bool, bool, bool, String, String);

/// Scores a contact pair row (detection and the one-record check share it).
pub(super) fn score_contact_row(row: ContactPairRow) -> (Uuid, Uuid, Option<(f64, Vec<Reason>)>) {
    let (a, b, email, phone, domain, same_company, fa, la, fb, lb) = row;
    let names = NameFeatures::of(&fa, &la, &fb, &lb);
    // Each name part's trigrams once (the full names' are their union).
    let (ta, tla, tb, tlb) = (trigrams(&fa), trigrams(&la), trigrams(&fb), trigrams(&lb));
    let similarity = similarity_of(&joined(&ta, &tla), &joined(&tb, &tlb));
    let parts = if fa.is_empty() || fb.is_empty() {
        similarity_of(&tla, &tlb)
    } else {
        (similarity_of(&ta, &tb).min(similarity_of(&tla, &tlb)))
            .max(similarity_of(&ta, &tlb).min(similarity_of(&tla, &tb)))
    };
    let f = ContactFeatures {
        email,
        phone,
        domain,
        same_company,
        similarity,
        part_similarity: parts,
        same_name: names.same,
        initials: names.initials,
        swapped: names.swapped,
        close: names.close,
    };
    (a, b, score_contact_pair(&f))
}

/// Scores a company pair row (detection and the one-record check share it).
pub(super) fn score_company_row(row: CompanyPairRow) -> (Uuid, Uuid, Option<(f64, Vec<Reason>)>) {
    let (a, b, vat, domain, same_name, ka, kb) = row;
    // As pg_trgm's similarity of the name keys.
    let similarity = trigram_similarity(&ka, &kb);
    let (ca, cb) = (company_core(&ka), company_core(&kb));
    let f = CompanyFeatures {
        vat,
        domain,
        same_name: same_name || (!ca.is_empty() && ca == cb),
        similarity,
        close: company_names_close(ca, cb),
    };
    (a, b, score_company_pair(&f))
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Candidate duplicate groups of `kind` among the live records, best first (see the module
/// documentation of [`super`] for how they are found).
///
/// Contacts are read through two read-only transactions of `scope` at once, the second
/// importing the first one's snapshot (`pg_export_snapshot`), so both see the same data:
/// each runs one half of the blocking keys ([`CONTACT_HALVES`]) on a core of its own.
/// Companies are read in one transaction (their keys take one query). Use
/// [`detect_in`] to detect inside a transaction of your own (one connection, the halves one
/// after the other: the same groups).
pub async fn detect(scope: &Scope, kind: Kind, opts: &DetectOptions) -> Result<Vec<Group>> {
    if kind == Kind::Company {
        return scope.run(async |tx| detect_in(tx, kind, opts).await).await;
    }
    check_options(opts)?;
    let (mut first, snapshot) = scope.begin_snapshot(None).await?;
    first.require(Permission::Read)?;
    let (mut second, _) = scope.begin_snapshot(Some(&snapshot)).await?;
    let pairs = contact_pairs(&mut first, Some(&mut second), opts).await?;
    second.rollback().await?;
    let groups = finish(&mut first, kind, pairs, opts).await?;
    first.rollback().await?;
    Ok(groups)
}

/// [`detect`] inside the caller's transaction `tx`, on its one connection: the same groups,
/// the contact halves read one after the other. The planner settings detection changes are
/// as they were when it returns.
pub async fn detect_in(tx: &mut Tx, kind: Kind, opts: &DetectOptions) -> Result<Vec<Group>> {
    tx.require(Permission::Read)?;
    check_options(opts)?;
    let saved: (String, String, String) = sqlx::query_as(
        "select current_setting('enable_nestloop'), current_setting('work_mem'), \
                current_setting('enable_hashagg')",
    )
    .fetch_one(tx.conn())
    .await?;
    let pairs = match kind {
        Kind::Contact => contact_pairs(tx, None, opts).await?,
        Kind::Company => company_pairs(tx, opts).await?,
    };
    sqlx::query(
        "select set_config('enable_nestloop', $1, true), set_config('work_mem', $2, true), \
                set_config('enable_hashagg', $3, true)",
    )
    .bind(&saved.0)
    .bind(&saved.1)
    .bind(&saved.2)
    .execute(tx.conn())
    .await?;
    finish(tx, kind, pairs, opts).await
}

/// The scored candidate pairs of contacts that `opts` asks for: the two halves of the
/// blocks at once when a `second` transaction (seeing the same snapshot) is given, else one
/// after the other in `first`.
async fn contact_pairs(
    first: &mut Tx,
    second: Option<&mut Tx>,
    opts: &DetectOptions,
) -> Result<Vec<Pair>> {
    let halves = match second {
        Some(second) => {
            let (one, two) =
                tokio::try_join!(contact_half(first, 0, opts), contact_half(second, 1, opts))?;
            [one, two]
        }
        None => [
            contact_half(first, 0, opts).await?,
            contact_half(first, 1, opts).await?,
        ],
    };
    Ok(scored_contact_pairs(merge_contact_rows(halves), opts))
}

fn check_options(opts: &DetectOptions) -> Result<()> {
    if !(0.0..=1.0).contains(&opts.min_score) {
        return Err(Error::invalid("min_score", "a score is between 0 and 1"));
    }
    Ok(())
}

/// Sets the planner up for the detection queries of `kind`, for the rest of `tx`.
///
/// The company CTEs' row estimates are poor (functions of the tenant setting): without this
/// the planner picks nested loops over them, quadratic in the organization's records. Hash
/// joins over whole-tenant scans are what they need, with the memory to count the keys in
/// one pass. The contact blocks are grouped by sorting (see [`CONTACT_TOKENS`]): a hash
/// table holding an id list per key of a million contacts outgrows any `work_mem` and
/// spills; their pairs find the contacts by primary key (at a million contacts 10 % faster
/// than hash joins over the whole table).
async fn plan_for(tx: &mut Tx, kind: Kind) -> Result<()> {
    sqlx::query(
        "select set_config('enable_nestloop', case when $1 then 'on' else 'off' end, true), \
                set_config('work_mem', '256MB', true), \
                set_config('enable_hashagg', case when $1 then 'off' else 'on' end, true)",
    )
    .bind(kind == Kind::Contact)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The candidate pairs of one half of the contact blocks ([`CONTACT_HALVES`], `half` 0 or
/// 1), with the namesake blocks in the first half when the threshold reaches them.
async fn contact_half(
    tx: &mut Tx,
    half: usize,
    opts: &DetectOptions,
) -> Result<Vec<ContactPairRow>> {
    plan_for(tx, Kind::Contact).await?;
    let [first, second] = CONTACT_HALVES[half];
    let namesakes = if half == 0 && opts.min_score <= NAMESAKE_SCORE {
        NAMESAKE_BLOCKS
    } else {
        ""
    };
    // Constants only: nothing of the caller's goes into the text.
    let sql = format!("{CONTACT_TOKENS}{first}{second}{namesakes}{CONTACT_PAIRS}");
    let org = tx.org();
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(MAX_BLOCK)
        .fetch_all(tx.conn())
        .await?)
}

/// The pairs of both halves, each once: what a pair shares is what either half found.
fn merge_contact_rows(halves: [Vec<ContactPairRow>; 2]) -> Vec<ContactPairRow> {
    let [one, two] = halves;
    let mut at: HashMap<(Uuid, Uuid), usize> = HashMap::with_capacity(one.len());
    let mut rows = one;
    for (i, row) in rows.iter().enumerate() {
        at.insert((row.0, row.1), i);
    }
    for row in two {
        match at.get(&(row.0, row.1)) {
            Some(&i) => {
                let kept = &mut rows[i];
                kept.2 |= row.2;
                kept.3 |= row.3;
                kept.4 |= row.4;
            }
            None => {
                at.insert((row.0, row.1), rows.len());
                rows.push(row);
            }
        }
    }
    rows
}

/// Scores contact pair rows; keeps those `opts` asks for.
fn scored_contact_pairs(rows: Vec<ContactPairRow>, opts: &DetectOptions) -> Vec<Pair> {
    rows.into_iter()
        .filter_map(|row| {
            let (a, b, scored) = score_contact_row(row);
            wanted(a, b, scored, opts)
        })
        .collect()
}

/// The scored candidate pairs of companies that `opts` asks for.
async fn company_pairs(tx: &mut Tx, opts: &DetectOptions) -> Result<Vec<Pair>> {
    plan_for(tx, Kind::Company).await?;
    let rows: Vec<CompanyPairRow> = sqlx::query_as(COMPANY_PAIRS)
        .bind(tx.org())
        .bind(MAX_BLOCK)
        .fetch_all(tx.conn())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let (a, b, scored) = score_company_row(row);
            wanted(a, b, scored, opts)
        })
        .collect())
}

/// A scored pair, if it reaches the threshold and has the reason asked for.
fn wanted(
    a: Uuid,
    b: Uuid,
    scored: Option<(f64, Vec<Reason>)>,
    opts: &DetectOptions,
) -> Option<Pair> {
    let (score, reasons) = scored?;
    (score >= opts.min_score && opts.reason.is_none_or(|r| reasons.contains(&r))).then_some(Pair {
        ids: [a, b],
        score,
        reasons,
    })
}

/// The groups of `pairs`, at most as many as `opts` asks for, with their members.
async fn finish(
    tx: &mut Tx,
    kind: Kind,
    pairs: Vec<Pair>,
    opts: &DetectOptions,
) -> Result<Vec<Group>> {
    let mut groups = group(kind, pairs);
    groups.truncate(opts.limit.clamp(1, 100_000) as usize);
    fill_members(tx, kind, &mut groups).await?;
    Ok(groups)
}

/// Joins pairs into connected groups, best score first.
fn group(kind: Kind, pairs: Vec<Pair>) -> Vec<Group> {
    let mut parent: HashMap<Uuid, Uuid> = HashMap::new();
    fn find(parent: &mut HashMap<Uuid, Uuid>, x: Uuid) -> Uuid {
        let mut root = x;
        while let Some(&p) = parent.get(&root) {
            if p == root {
                break;
            }
            root = p;
        }
        let mut cur = x;
        while cur != root {
            let next = parent[&cur];
            parent.insert(cur, root);
            cur = next;
        }
        root
    }
    for p in &pairs {
        for id in p.ids {
            parent.entry(id).or_insert(id);
        }
        let (ra, rb) = (find(&mut parent, p.ids[0]), find(&mut parent, p.ids[1]));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent.insert(hi, lo);
        }
    }
    let mut by_root: BTreeMap<Uuid, Vec<Pair>> = BTreeMap::new();
    for p in pairs {
        let r = find(&mut parent, p.ids[0]);
        by_root.entry(r).or_default().push(p);
    }
    let mut groups: Vec<Group> = by_root
        .into_values()
        .map(|mut pairs| {
            pairs.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.ids.cmp(&b.ids)));
            let ids: BTreeSet<Uuid> = pairs.iter().flat_map(|p| p.ids).collect();
            let reasons: BTreeSet<Reason> = pairs
                .iter()
                .flat_map(|p| p.reasons.iter().copied())
                .collect();
            Group {
                kind,
                score: pairs.first().map_or(0.0, |p| p.score),
                reasons: reasons.into_iter().collect(),
                ids: ids.into_iter().collect(),
                members: Vec::new(),
                pairs,
            }
        })
        .collect();
    groups.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.ids.cmp(&b.ids)));
    groups
}

/// Loads names for the groups' records and orders each group's ids oldest first.
async fn fill_members(tx: &mut Tx, kind: Kind, groups: &mut [Group]) -> Result<()> {
    let ids: Vec<Uuid> = groups.iter().flat_map(|g| g.ids.iter().copied()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let sql = match kind {
        Kind::Contact => {
            "select id, btrim(first_name || ' ' || last_name), email, created_at, updated_at \
             from contacts where org_id = $1 and id = any($2)"
        }
        Kind::Company => {
            "select id, name, coalesce(domain, vat_id), created_at, updated_at \
             from companies where org_id = $1 and id = any($2)"
        }
    };
    type R = (Uuid, String, Option<String>, DateTime<Utc>, DateTime<Utc>);
    let rows: Vec<R> = sqlx::query_as(sql)
        .bind(tx.org())
        .bind(&ids)
        .fetch_all(tx.conn())
        .await?;
    let by_id: HashMap<Uuid, &R> = rows.iter().map(|r| (r.0, r)).collect();
    for g in groups.iter_mut() {
        g.ids.sort_by_key(|id| by_id.get(id).map(|r| (r.3, *id)));
        g.members = g
            .ids
            .iter()
            .filter_map(|id| by_id.get(id))
            .map(|r| Member {
                id: r.0,
                name: r.1.clone(),
                detail: r.2.clone(),
                updated_at: r.4,
            })
            .collect();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_scores_follow_the_signals() {
        let email = ContactFeatures {
            email: true,
            ..Default::default()
        };
        assert_eq!(score_contact_pair(&email).unwrap().0, 0.98);
        let typo_at_company = ContactFeatures {
            same_company: true,
            similarity: 0.6,
            part_similarity: 0.45,
            ..Default::default()
        };
        let (s, r) = score_contact_pair(&typo_at_company).unwrap();
        assert!(s >= 0.75, "{s}");
        assert!(r.contains(&Reason::SimilarName) && r.contains(&Reason::SameCompany));
        // Colleagues with different names are no duplicates.
        let colleagues = ContactFeatures {
            same_company: true,
            similarity: 0.2,
            ..Default::default()
        };
        assert_eq!(score_contact_pair(&colleagues), None);
        let initials = ContactFeatures {
            domain: true,
            initials: true,
            similarity: 0.4,
            ..Default::default()
        };
        let (s, r) = score_contact_pair(&initials).unwrap();
        assert!(s >= 0.75 && r.contains(&Reason::Initials), "{s}");
        // A shared phone alone stays under the default threshold.
        let phone = ContactFeatures {
            phone: true,
            ..Default::default()
        };
        assert!(score_contact_pair(&phone).unwrap().0 < crate::dedupe::DEFAULT_MIN_SCORE);
    }

    #[test]
    fn the_trigrams_of_a_full_name_are_those_of_its_parts_in_either_order() {
        let names = [
            ("juergen", "mueller"),
            ("", "mueller"),
            ("j", "weber"),
            ("anna maria", "schulz meyer"),
            ("lukas", "lukas"),
            ("", ""),
        ];
        for (fa, la) in names {
            for (fb, lb) in names {
                let full = trigram_similarity(&format!("{fa} {la}"), &format!("{fb} {lb}"));
                let swapped = trigram_similarity(&format!("{fa} {la}"), &format!("{lb} {fb}"));
                let a = joined(&trigrams(fa), &trigrams(la));
                let b = joined(&trigrams(fb), &trigrams(lb));
                assert_eq!(similarity_of(&a, &b), full, "{fa} {la} / {fb} {lb}");
                assert_eq!(full, swapped, "{fa} {la} / {lb} {fb}");
            }
        }
    }

    #[test]
    fn names_compare_typos_initials_and_swaps() {
        assert_eq!(osa_distance("moser", "moesr"), 1);
        assert_eq!(osa_distance("josef", "jonas"), 3);
        assert!(NameFeatures::of("oezlem", "moser", "oezlem", "moesr").close);
        assert!(!NameFeatures::of("josef", "baumgartner", "jonas", "baumgartner").close);
        assert!(NameFeatures::of("oe", "moser", "oezlem", "moser").initials);
        assert!(NameFeatures::of("j", "weber", "johann", "weber").initials);
        assert!(NameFeatures::of("lukas", "hartmann", "hartmann", "lukas").swapped);
        assert!(NameFeatures::of("anna", "becker", "anna", "becker").same);
        assert_eq!(
            NameFeatures::of("anna", "becker", "tom", "wagner"),
            NameFeatures::default()
        );
    }

    #[test]
    fn company_scores_follow_the_signals() {
        let vat = CompanyFeatures {
            vat: true,
            ..Default::default()
        };
        assert_eq!(score_company_pair(&vat).unwrap().0, 0.99);
        let unrelated = CompanyFeatures {
            similarity: 0.4,
            ..Default::default()
        };
        assert_eq!(score_company_pair(&unrelated), None);
        // Alike, but not a typo apart: another company.
        let alike = CompanyFeatures {
            similarity: 0.85,
            ..Default::default()
        };
        assert_eq!(score_company_pair(&alike), None);
        let typo = CompanyFeatures {
            similarity: 0.3,
            close: true,
            ..Default::default()
        };
        let (s, r) = score_company_pair(&typo).unwrap();
        assert!(s >= crate::dedupe::DEFAULT_MIN_SCORE && r == [Reason::SimilarName]);
    }

    #[test]
    fn company_names_close_by_one_typo_only() {
        assert!(company_names_close("eifel logistik", "eifel lgoistik"));
        assert!(company_names_close("witt bau", "wtit bau"));
        assert!(company_names_close("harz verlagshaus", "harz verlagsshaus"));
        assert!(company_names_close("harz verlag", "harz verlagg"));
        assert!(company_names_close("gamma logistik", "gama logistik"));
        assert!(!company_names_close(
            "berger solartechnik",
            "bergner solartechnik"
        ));
        assert!(!company_names_close(
            "lange grosshandel",
            "langer grosshandel"
        ));
        // A changed letter is another name; two changed words are other companies.
        assert!(!company_names_close("moeller bau", "mueller bau"));
        assert!(!company_names_close("eifel logistik", "eifle lgoistik"));
        assert!(!company_names_close("bau", "bau"));
        assert!(!company_names_close("hahn bau", "hahn bau nord"));
        assert_eq!(
            company_core("nordlicht personalberatung e u"),
            "nordlicht personalberatung"
        );
        assert_eq!(company_core("alpen og"), "alpen");
        assert_eq!(company_core("og"), "og");
        assert_eq!(company_core("hoch bau"), "hoch bau");
    }

    #[test]
    fn pairs_join_into_groups() {
        let id = Uuid::from_u128;
        let p = |a, b, s| Pair {
            ids: [id(a), id(b)],
            score: s,
            reasons: vec![Reason::Email],
        };
        let groups = group(
            Kind::Contact,
            vec![p(1, 2, 0.8), p(5, 6, 0.99), p(2, 3, 0.9)],
        );
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].ids, [id(5), id(6)]);
        assert_eq!(groups[1].ids, [id(1), id(2), id(3)]);
        assert_eq!(groups[1].score, 0.9);
    }
}
