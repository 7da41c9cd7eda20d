//! Search folding of names and free text, the Rust twin of the SQL function `crm_fold`.

use super::unaccent::unaccent;

/// Folds text for searching, exactly as the SQL function `crm_fold` does:
///
/// 1. lower case, character by character;
/// 2. German spellings: `ä` → `ae`, `ö` → `oe`, `ü` → `ue`, `ß` → `ss`;
/// 3. other accents removed and special letters spelled out as PostgreSQL's `unaccent` does
///    (`é` → `e`, `ç` → `c`, `ł` → `l`, `ø` → `o`, `å` → `a`, `æ` → `ae`, combining marks
///    dropped, typographic quotes and dashes made plain, …);
/// 4. every run of whitespace becomes one space (not trimmed, like the SQL).
///
/// Whitespace means what PostgreSQL's `\s` matches in a UTF-8 database: tab, line breaks,
/// space, and the Unicode spaces except the no-break ones (U+00A0, U+2007, U+202F stay).
pub fn fold_for_search(text: &str) -> String {
    let mut folded = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => folded.push_str("ae"),
            'ö' => folded.push_str("oe"),
            'ü' => folded.push_str("ue"),
            'ß' => folded.push_str("ss"),
            c => match unaccent(c) {
                Some(replacement) => folded.push_str(replacement),
                None => folded.push(c),
            },
        }
    }
    collapse_whitespace(&folded)
}

/// Normalizes a name for duplicate detection, as the schema computes `name_norm`:
/// `crm_fold(btrim(name))`, that is [`fold_for_search`] of the name without leading and
/// trailing spaces. `"  Müller  GmbH "` → `"mueller gmbh"`.
///
/// Like SQL's `btrim`, only the space character is trimmed; names should be stored trimmed
/// with `str::trim` anyway.
pub fn normalize_name(name: &str) -> String {
    fold_for_search(name.trim_matches(' '))
}

/// Replaces every run of [`is_pg_space`] characters with one space.
fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_space = false;
    for c in s.chars() {
        if is_pg_space(c) {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

/// What `\s` matches in a PostgreSQL regular expression in a UTF-8 database (glibc's
/// `iswspace`).
fn is_pg_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | ' '
            | '\u{1680}'
            | '\u{2000}'..='\u{2006}'
            | '\u{2008}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_german_spellings() {
        assert_eq!(fold_for_search("Müller"), "mueller");
        assert_eq!(fold_for_search("MÜLLER"), "mueller");
        assert_eq!(fold_for_search("Größe"), "groesse");
        assert_eq!(fold_for_search("Äpfel Öl Übel"), "aepfel oel uebel");
        assert_eq!(fold_for_search("Straße"), "strasse");
        assert_eq!(fold_for_search("STRAẞE"), "strasse");
    }

    #[test]
    fn strips_other_accents() {
        assert_eq!(fold_for_search("Élodie Françoise"), "elodie francoise");
        assert_eq!(fold_for_search("Łukasz Wałęsa"), "lukasz walesa");
        assert_eq!(fold_for_search("Søren Ærø Åse"), "soren aero ase");
        assert_eq!(fold_for_search("Dvořák Škoda Žižka"), "dvorak skoda zizka");
        assert_eq!(fold_for_search("Đorđe Ħal Ðóra"), "dorde hal dora");
        assert_eq!(fold_for_search("Şahin Ğül İnci"), "sahin guel inci");
        assert_eq!(fold_for_search("Œuvre Ñandú"), "oeuvre nandu");
        assert_eq!(fold_for_search("Þór"), "thor");
        assert_eq!(fold_for_search("Ōsaka Ūdra Ėglė"), "osaka udra egle");
    }

    #[test]
    fn matches_unaccent_details() {
        // Decomposed umlaut: the combining mark is dropped, not spelled out.
        assert_eq!(fold_for_search("Mu\u{308}ller"), "muller");
        // Typographic punctuation made plain.
        assert_eq!(fold_for_search("O’Brien – „Zitat“"), "o'brien - ,,zitat\"");
        assert_eq!(fold_for_search("ﬁrma"), "firma");
        assert_eq!(fold_for_search("½"), "1/2");
    }

    #[test]
    fn collapses_whitespace_like_postgres() {
        assert_eq!(fold_for_search("  Anna \t\n Schmidt  "), " anna schmidt ");
        assert_eq!(fold_for_search("a\u{2003}\u{3000}b"), "a b");
        // No-break spaces are not `\s` in PostgreSQL.
        assert_eq!(fold_for_search("a\u{a0}b"), "a\u{a0}b");
        assert_eq!(fold_for_search("a\u{202f}b"), "a\u{202f}b");
        assert_eq!(fold_for_search(""), "");
    }

    #[test]
    fn keeps_other_text() {
        assert_eq!(fold_for_search("ACME GmbH & Co. KG"), "acme gmbh & co. kg");
        assert_eq!(
            fold_for_search("anna@example.com +49 30"),
            "anna@example.com +49 30"
        );
        assert_eq!(fold_for_search("中文"), "中文");
    }

    #[test]
    fn normalize_name_trims_like_btrim() {
        assert_eq!(normalize_name("  Müller  GmbH "), "mueller gmbh");
        assert_eq!(normalize_name("Café"), normalize_name("CAFE"));
        assert_eq!(normalize_name("\tAnna"), " anna");
        assert_eq!(normalize_name("   "), "");
    }
}
