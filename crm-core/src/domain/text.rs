//! Free text from people: what a single-line field may hold, and how any text is shown on
//! a terminal.
//!
//! A name like `ESC ] 0 ; ... BEL` would retitle or repaint the terminal of whoever lists
//! it. Single-line fields (names, titles, subjects, cities, tags, ...) therefore refuse
//! control characters on input ([`check_single_line`]), and every human-facing output
//! escapes what is left (multi-line notes, bodies, data stored before this rule) with
//! [`escape_for_terminal`].

use std::borrow::Cow;

use super::InvalidValue;

/// The message for a single-line field that holds a control character.
pub const CONTROL_MESSAGE: &str =
    "must not contain control characters (line breaks, tabs, terminal escape sequences)";

/// Whether `c` must not reach a terminal raw: the C0 and C1 control characters and DEL
/// (Unicode category Cc), and the bidirectional overrides and isolates that reorder what
/// is shown (U+202A–U+202E, U+2066–U+2069).
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks a single-line field: fails when it holds a control character (or a
/// bidirectional override). The message does not quote the input.
pub fn check_single_line(value: &str) -> Result<(), InvalidValue> {
    if value.chars().any(is_unsafe_char) {
        Err(InvalidValue::new(CONTROL_MESSAGE))
    } else {
        Ok(())
    }
}

/// A cell of an import file for a single-line field: each run of line breaks and tabs
/// (with the spaces around it) becomes one space, as spreadsheets put line breaks into
/// cells (`Head of⏎Sales`). Other control characters stay, for [`check_single_line`] to
/// refuse.
pub fn fold_line_breaks(text: &str) -> Cow<'_, str> {
    if !text.contains(['\r', '\n', '\t']) {
        return Cow::Borrowed(text);
    }
    let parts: Vec<&str> = text
        .split(['\r', '\n', '\t'])
        .map(|p| p.trim_matches(' '))
        .filter(|p| !p.is_empty())
        .collect();
    Cow::Owned(parts.join(" "))
}

/// `text` safe to print on a terminal: every control character (and bidirectional
/// override) is written as a visible escape (`\n`, `\t`, `\r`, `\u{1b}`), and a backslash
/// stays as it is. With `multi_line`, line breaks and tabs are kept as they are (for
/// notes and bodies shown over several lines).
pub fn escape_for_terminal(text: &str, multi_line: bool) -> Cow<'_, str> {
    let keep = |c: char| multi_line && matches!(c, '\n' | '\t');
    if !text.chars().any(|c| is_unsafe_char(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe_char(c) || keep(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_in_single_line_fields() {
        for bad in [
            "Mal\u{1b}]0;pwned\u{7}lory",
            "a\nb",
            "tab\there",
            "cr\r",
            "nul\0",
            "del\u{7f}",
            "csi\u{9b}31m",
            "rtl\u{202e}fdp.exe",
        ] {
            let e = check_single_line(bad).unwrap_err();
            assert_eq!(e.message(), CONTROL_MESSAGE);
            assert!(!e.message().contains("pwned"));
        }
        for good in ["Jürgen Müller", "O'Brien-Smith", "Zoë 🎉", "", "北京"] {
            check_single_line(good).unwrap();
        }
    }

    #[test]
    fn line_breaks_in_import_cells_fold_to_one_space() {
        assert_eq!(fold_line_breaks("Head of\nSales"), "Head of Sales");
        assert_eq!(fold_line_breaks("a \r\n\t b\n"), "a b");
        assert_eq!(fold_line_breaks("x\u{1b}y"), "x\u{1b}y");
        assert!(matches!(fold_line_breaks("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn terminal_output_shows_escapes_instead_of_running_them() {
        assert_eq!(
            escape_for_terminal("Mal\u{1b}]0;x\u{7}lory", false),
            "Mal\\u{1b}]0;x\\u{7}lory"
        );
        assert_eq!(escape_for_terminal("a\nb\tc", false), "a\\nb\\tc");
        assert_eq!(escape_for_terminal("a\nb\tc", true), "a\nb\tc");
        assert_eq!(escape_for_terminal("a\r\u{1b}[2J", true), "a\\r\\u{1b}[2J");
        assert!(matches!(
            escape_for_terminal("Müller", false),
            Cow::Borrowed("Müller")
        ));
    }
}
