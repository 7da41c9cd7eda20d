//! Query-string encoding as the API requires: search strings of the contacts, vouchers
//! and voucherlist endpoints are first HTML-encoded (`&` → `&amp;`, `<` → `&lt;`,
//! `>` → `&gt;`), then every value is percent-encoded (`%20` for a space, not `+`).

/// HTML-encodes `&`, `<` and `>` in a search string.
pub fn html_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes the SQL-LIKE wildcards of the contact `name` / `email` filters (`_`, `%`, `\`),
/// so a search finds the text itself.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '_' | '%' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A contacts search string: LIKE-escaped, then HTML-encoded (not yet percent-encoded).
pub fn search_string(s: &str) -> String {
    html_encode(&like_escape(s.trim()))
}

/// Percent-encodes a query value: everything but `A-Z a-z 0-9 - . _ ~`.
pub fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string from pairs (`a=1&b=x%20y`).
pub fn query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent(k), percent(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_example_encodes_like_the_docs() {
        assert_eq!(
            query(&[("name", search_string("johnson & partner"))]),
            "name=johnson%20%26amp%3B%20partner"
        );
    }

    #[test]
    fn angle_brackets_and_wildcards_are_encoded() {
        assert_eq!(search_string("<a_b%>"), "&lt;a\\_b\\%&gt;");
        assert_eq!(percent("ä/ß"), "%C3%A4%2F%C3%9F");
    }
}
