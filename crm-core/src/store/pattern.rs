//! `LIKE` patterns from user text: one escaping rule for every filter of the store.

/// Escapes `%`, `_` and `\` (PostgreSQL's default `LIKE` escape) so that `s` matches only
/// itself.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A `LIKE` pattern matching any text that contains `s` literally.
pub(crate) fn contains_pattern(s: &str) -> String {
    format!("%{}%", like_escape(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_the_escape_character_are_escaped() {
        assert_eq!(like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(like_escape("Müller"), "Müller");
        assert_eq!(contains_pattern("50%_off"), "%50\\%\\_off%");
        assert_eq!(contains_pattern("Rahmen"), "%Rahmen%");
    }
}
