//! Reading vCards into the contact import's fields.

use crate::error::{Error, Result};
use crate::import::contacts::Field;
use crate::import::formats::quirks;

/// One card: its fields (several values of a field in order, the preferred first) and the
/// line of its `BEGIN:VCARD`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Card {
    /// The physical line (1-based) where the card begins.
    pub line: u64,
    /// (field, value) in the order they count.
    pub values: Vec<(Field, String)>,
}

/// One property line, unfolded: name, lower-case type parameters, other parameters, value.
struct Prop {
    name: String,
    types: Vec<String>,
    params: Vec<(String, String)>,
    value: String,
}

/// Decodes bytes: UTF-8, else Windows-1252.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// Logical lines with the physical line they start on: folded lines joined, quoted-printable
/// soft line breaks joined.
fn logical_lines(text: &str) -> Vec<(u64, String)> {
    let mut out: Vec<(u64, String)> = Vec::new();
    let mut qp_open = false;
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let n = i as u64 + 1;
        if qp_open && let Some(last) = out.last_mut() {
            last.1.pop(); // the soft break's `=`
            last.1.push_str(line);
            qp_open = line.ends_with('=');
            continue;
        }
        if (line.starts_with(' ') || line.starts_with('\t'))
            && let Some(last) = out.last_mut()
        {
            last.1.push_str(&line[1..]);
            continue;
        }
        if line.is_empty() {
            continue;
        }
        qp_open = line.to_ascii_uppercase().contains("QUOTED-PRINTABLE") && line.ends_with('=');
        out.push((n, line.to_string()));
    }
    out
}

fn parse_prop(line: &str) -> Option<Prop> {
    // The value starts after the first `:` outside a quoted parameter value.
    let mut quoted = false;
    let colon = line.char_indices().find_map(|(i, c)| match c {
        '"' => {
            quoted = !quoted;
            None
        }
        ':' if !quoted => Some(i),
        _ => None,
    })?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts
        .next()?
        .rsplit('.')
        .next()?
        .trim()
        .to_ascii_uppercase();
    let mut types = Vec::new();
    let mut params = Vec::new();
    for p in parts {
        match p.split_once('=') {
            Some((k, v)) if k.eq_ignore_ascii_case("type") => types.extend(
                v.trim_matches('"')
                    .split(',')
                    .map(|t| t.trim().to_ascii_lowercase()),
            ),
            Some((k, v)) => params.push((
                k.trim().to_ascii_uppercase(),
                v.trim_matches('"').to_string(),
            )),
            None => types.push(p.trim().to_ascii_lowercase()),
        }
    }
    if params.iter().any(|(k, _)| k == "PREF") {
        types.push("pref".into());
    }
    Some(Prop {
        name,
        types,
        params,
        value: value.to_string(),
    })
}

/// Decodes a quoted-printable value (2.1) in its charset.
fn quoted_printable(v: &str, charset: Option<&str>) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len() + 1
            && let Some(h) = b.get(i + 1..i + 3)
            && let Ok(x) = u8::from_str_radix(std::str::from_utf8(h).unwrap_or("zz"), 16)
        {
            out.push(x);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    match charset.map(str::to_ascii_lowercase).as_deref() {
        Some("iso-8859-1" | "windows-1252" | "latin1") => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(&out)
            .0
            .into_owned(),
        _ => decode(&out),
    }
}

/// Splits a structured value at unescaped `sep` and unescapes each component.
fn components(v: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => out.last_mut().map(|s| s.push('\n')).unwrap_or(()),
                Some(x) => out.last_mut().map(|s| s.push(x)).unwrap_or(()),
                None => {}
            },
            c if c == sep => out.push(String::new()),
            c => out.last_mut().map(|s| s.push(c)).unwrap_or(()),
        }
    }
    out.into_iter().map(|s| s.trim().to_string()).collect()
}

fn has(types: &[String], any: &[&str]) -> bool {
    types.iter().any(|t| any.contains(&t.as_str()))
}

/// Parses every card of a file.
pub fn parse(bytes: &[u8]) -> Vec<Card> {
    let text = decode(bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(bytes));
    let mut cards = Vec::new();
    let mut card: Option<Card> = None;
    for (line, text) in logical_lines(&text) {
        let Some(mut p) = parse_prop(&text) else {
            continue;
        };
        match p.name.as_str() {
            "BEGIN" if p.value.trim().eq_ignore_ascii_case("vcard") => {
                card = Some(Card {
                    line,
                    values: Vec::new(),
                });
                continue;
            }
            "END" => {
                if let Some(c) = card.take() {
                    cards.push(c);
                }
                continue;
            }
            _ => {}
        }
        let Some(c) = card.as_mut() else {
            continue;
        };
        let encoding = p
            .params
            .iter()
            .find(|(k, _)| k == "ENCODING")
            .map(|(_, v)| v.clone());
        if encoding.is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"))
            || has(&p.types, &["quoted-printable"])
        {
            let charset = p
                .params
                .iter()
                .find(|(k, _)| k == "CHARSET")
                .map(|(_, v)| v.as_str());
            p.value = quoted_printable(&p.value, charset);
        }
        card_values(c, &p);
    }
    cards
}

/// The fields of one property.
fn card_values(c: &mut Card, p: &Prop) {
    let t = &p.types;
    let one = || components(&p.value, '\u{0}').concat();
    let mut push = |f: Field, v: String| {
        if !v.trim().is_empty() {
            c.values.push((f, v));
        }
    };
    match p.name.as_str() {
        "N" => {
            let n = components(&p.value, ';');
            let get = |i: usize| n.get(i).cloned().unwrap_or_default();
            push(Field::LastName, get(0));
            push(Field::FirstName, get(1));
            push(Field::Title, get(3));
        }
        "FN" => push(Field::FullName, one()),
        "ORG" => {
            let o = components(&p.value, ';');
            push(Field::Company, o.first().cloned().unwrap_or_default());
            push(Field::Department, o.get(1).cloned().unwrap_or_default());
        }
        "TITLE" => push(Field::JobTitle, one()),
        "EMAIL" => push(email_field(t), quirks::email_in(&one()).to_string()),
        "TEL" => {
            let v = one();
            push(
                phone_field(t),
                v.strip_prefix("tel:").unwrap_or(&v).to_string(),
            );
        }
        "ADR" => card_address(c, p),
        "NOTE" => push(Field::Notes, one()),
        "CATEGORIES" => {
            for tag in components(&p.value, ',') {
                push(Field::Tags, tag);
            }
        }
        "BDAY" => push(Field::Birthday, one()),
        "URL" => {
            let v = one();
            let f = if v.to_ascii_lowercase().contains("linkedin.com/") {
                Field::LinkedIn
            } else {
                Field::Website
            };
            push(f, v);
        }
        "X-SOCIALPROFILE" if one().to_ascii_lowercase().contains("linkedin.com/") => {
            push(Field::LinkedIn, one())
        }
        "UID" => {
            let v = one();
            push(
                Field::ExternalId,
                v.strip_prefix("urn:uuid:").unwrap_or(&v).to_string(),
            );
        }
        _ => {}
    }
}

/// The field of an EMAIL property with the types `t`.
fn email_field(t: &[String]) -> Field {
    if has(t, &["home"]) {
        Field::EmailHome
    } else if t.is_empty() || has(t, &["work", "internet", "pref", "x400"]) {
        Field::Email
    } else {
        Field::EmailOther
    }
}

/// The field of a TEL property with the types `t`.
fn phone_field(t: &[String]) -> Field {
    if has(t, &["fax"]) {
        Field::Fax
    } else if has(t, &["cell", "mobile", "iphone"]) {
        Field::Mobile
    } else if has(t, &["home"]) {
        Field::PhoneOther
    } else {
        Field::Phone
    }
}

/// The values of an ADR property: a home address or the work one, the first of each kind.
fn card_address(c: &mut Card, p: &Prop) {
    let t = &p.types;
    let a = components(&p.value, ';');
    let get = |i: usize| a.get(i).cloned().unwrap_or_default();
    let street = [get(1), get(2)]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
        .replace('\n', ", ");
    let home = has(t, &["home"]);
    let (s, ci, pc, co) = if home {
        (
            Field::HomeStreet,
            Field::HomeCity,
            Field::HomePostalCode,
            Field::HomeCountry,
        )
    } else {
        (
            Field::Street,
            Field::City,
            Field::PostalCode,
            Field::Country,
        )
    };
    // The first address of each kind counts.
    if c.values.iter().any(|(f, _)| *f == s || *f == ci) {
        return;
    }
    let mut push = |f: Field, v: String| {
        if !v.trim().is_empty() {
            c.values.push((f, v));
        }
    };
    push(s, street);
    push(ci, get(3));
    push(pc, get(5));
    push(co, get(6));
}

/// The fields a vCard can fill, as the columns of the converted CSV.
const COLUMNS: &[Field] = &[
    Field::ExternalId,
    Field::Title,
    Field::FirstName,
    Field::LastName,
    Field::FullName,
    Field::Company,
    Field::Department,
    Field::JobTitle,
    Field::Email,
    Field::EmailHome,
    Field::EmailOther,
    Field::Phone,
    Field::Mobile,
    Field::Fax,
    Field::PhoneOther,
    Field::Street,
    Field::PostalCode,
    Field::City,
    Field::Country,
    Field::HomeStreet,
    Field::HomePostalCode,
    Field::HomeCity,
    Field::HomeCountry,
    Field::Birthday,
    Field::Website,
    Field::LinkedIn,
    Field::Tags,
    Field::Notes,
];

/// The cards as CSV: a header of field names, then one row per card; several values of a
/// field joined with ` ::: ` (the preferred one first), notes by a blank line.
pub(super) fn to_csv(cards: &[Card]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| Error::Io(format!("converting the vCard file failed: {e}"));
    w.write_record(COLUMNS.iter().map(|f| f.name()))
        .map_err(io)?;
    for card in cards {
        let row: Vec<String> = COLUMNS
            .iter()
            .map(|col| {
                let vals: Vec<&str> = card
                    .values
                    .iter()
                    .filter(|(f, _)| f == col)
                    .map(|(_, v)| v.as_str())
                    .collect();
                match col {
                    Field::Notes => vals.join("\n\n"),
                    Field::Tags => vals.join(";"),
                    f if f.accumulates() => vals.join(" ::: "),
                    _ => vals.first().copied().unwrap_or("").to_string(),
                }
            })
            .collect();
        w.write_record(&row).map_err(io)?;
    }
    w.into_inner()
        .map_err(|e| Error::Io(format!("converting the vCard file failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(c: &Card, f: Field) -> Vec<&str> {
        c.values
            .iter()
            .filter(|(x, _)| *x == f)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    #[test]
    fn vcard_3_with_folding_types_and_escapes() {
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Müller;Jürgen;;Dr.;\r\nFN:Dr. Jürgen Müller\r\nORG:Müller GmbH;Vertrieb\r\nTITLE:Leiter\r\nEMAIL;TYPE=INTERNET,WORK,PREF:j.mueller@example.de\r\nEMAIL;TYPE=INTERNET,HOME:jm@privat.example\r\nTEL;TYPE=CELL:+49 171 1234567\r\nTEL;TYPE=WORK,VOICE:030 1234567\r\nADR;TYPE=WORK:;;Hauptstraße 1;Berlin;;10115;Deutschland\r\nADR;TYPE=HOME:;;Gartenweg 2;Potsdam;;14467;Deutschland\r\nNOTE:Erster Kontakt auf der Messe.\\nRückruf im Mai\\, bitte\r\n  vormittags.\r\nCATEGORIES:Kunden,Messe 2026\r\nBDAY:1970-09-10\r\nitem1.URL:https://mueller.example\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:Anna Schäfer\r\nEMAIL:anna@example.de\r\nTEL;VALUE=uri;TYPE=\"voice,home\":tel:+49-331-987654\r\nEND:VCARD\r\n";
        let cards = parse(text.as_bytes());
        assert_eq!(cards.len(), 2);
        let c = &cards[0];
        assert_eq!(c.line, 1);
        assert_eq!(values(c, Field::LastName), vec!["Müller"]);
        assert_eq!(values(c, Field::Title), vec!["Dr."]);
        assert_eq!(values(c, Field::Department), vec!["Vertrieb"]);
        assert_eq!(values(c, Field::Email), vec!["j.mueller@example.de"]);
        assert_eq!(values(c, Field::EmailHome), vec!["jm@privat.example"]);
        assert_eq!(values(c, Field::Mobile), vec!["+49 171 1234567"]);
        assert_eq!(values(c, Field::Street), vec!["Hauptstraße 1"]);
        assert_eq!(values(c, Field::HomeCity), vec!["Potsdam"]);
        assert_eq!(
            values(c, Field::Notes),
            vec!["Erster Kontakt auf der Messe.\nRückruf im Mai, bitte vormittags."]
        );
        assert_eq!(values(c, Field::Tags), vec!["Kunden", "Messe 2026"]);
        assert_eq!(values(c, Field::Website), vec!["https://mueller.example"]);
        let c = &cards[1];
        assert_eq!(c.line, 19);
        assert_eq!(values(c, Field::PhoneOther), vec!["+49-331-987654"]);
    }

    #[test]
    fn vcard_2_1_quoted_printable_and_bare_types() {
        let text = "BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen\nTEL;CELL:0171 1234567\nEMAIL;INTERNET;HOME:jm@privat.example\nNOTE;ENCODING=QUOTED-PRINTABLE:Zeile eins=0D=0AZeile =\nzwei\nEND:VCARD\n";
        let cards = parse(text.as_bytes());
        let c = &cards[0];
        assert_eq!(values(c, Field::LastName), vec!["Müller"]);
        assert_eq!(values(c, Field::FirstName), vec!["Jürgen"]);
        assert_eq!(values(c, Field::Mobile), vec!["0171 1234567"]);
        assert_eq!(values(c, Field::EmailHome), vec!["jm@privat.example"]);
        assert_eq!(values(c, Field::Notes), vec!["Zeile eins\r\nZeile zwei"]);
    }
}
