//! Text helpers: ASCII folding, slugs and numbers without allocating.

/// The ASCII spelling of a letter: `ä` → `ae`, `ß` → `ss`, `é` → `e`, …; empty for
/// anything that is not a letter or digit.
pub(super) fn fold_char(c: char) -> &'static str {
    match c {
        'ä' | 'Ä' | 'æ' | 'Æ' => "ae",
        'ö' | 'Ö' | 'œ' | 'Œ' => "oe",
        'ü' | 'Ü' => "ue",
        'ß' => "ss",
        'à' | 'á' | 'â' | 'ã' | 'å' | 'À' | 'Á' | 'Â' => "a",
        'ç' | 'ć' | 'č' | 'Ç' | 'Ć' | 'Č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ę' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ı' | 'Î' | 'İ' => "i",
        'ñ' | 'ń' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'Ó' | 'Ô' => "o",
        'ù' | 'ú' | 'û' | 'Ú' | 'Û' => "u",
        'ş' | 'ś' | 'š' | 'Ş' | 'Ś' | 'Š' => "s",
        'ğ' | 'Ğ' => "g",
        'ł' | 'Ł' => "l",
        'ź' | 'ż' | 'ž' | 'Ž' => "z",
        'đ' | 'Đ' => "d",
        'ř' => "r",
        'ÿ' => "y",
        _ => "",
    }
}

/// Appends `s` folded for an e-mail local part: ASCII lower case letters, digits and
/// hyphens; other characters (spaces, apostrophes, dots) dropped.
pub(super) fn fold_into(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            'a'..='z' | '0'..='9' | '-' => out.push(ch),
            'A'..='Z' => out.push(ch.to_ascii_lowercase()),
            _ => out.push_str(fold_char(ch)),
        }
    }
}

/// Appends `s` as a domain label: folded to ASCII, every run of other characters one `-`,
/// none at either end.
pub(super) fn slug_into(s: &str, out: &mut String) {
    let start = out.len();
    let mut pending = false;
    for ch in s.chars() {
        let mut ascii = [0u8; 4];
        let piece: &str = if ch.is_ascii_alphanumeric() {
            ch.to_ascii_lowercase().encode_utf8(&mut ascii)
        } else {
            fold_char(ch)
        };
        if piece.is_empty() {
            pending = true;
            continue;
        }
        if pending && out.len() > start {
            out.push('-');
        }
        pending = false;
        out.push_str(piece);
    }
}

/// Appends `n` in decimal without allocating.
pub(super) fn push_u64(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// Appends `n` in decimal, zero-padded to `width` digits.
pub(super) fn push_padded(out: &mut String, n: u32, width: u32) {
    let mut div = 10u32.pow(width.saturating_sub(1));
    while div > 1 && n < div {
        out.push('0');
        div /= 10;
    }
    push_u64(out, u64::from(n));
}
