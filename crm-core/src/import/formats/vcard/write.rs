//! Contacts as vCard 3.0 (`crm export contacts --format vcard`): names, company and
//! department, job title, every e-mail and phone with its kind, business and private
//! address, birthday, website, LinkedIn, tags, notes, and the CRM id as `UID`.

use std::io::Write;

use futures_util::TryStreamExt as _;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::export::ExportFilter;
use crate::tenancy::Tx;

/// A contact as the vCard writer reads it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CardContact {
    /// The CRM id.
    pub id: String,
    /// Given name.
    #[serde(default)]
    pub first_name: String,
    /// Family name.
    #[serde(default)]
    pub last_name: String,
    /// Academic title.
    pub title: Option<String>,
    /// Company name.
    pub company: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// (address, kind, primary).
    #[serde(default)]
    pub emails: Vec<(String, String, bool)>,
    /// (number, kind, primary).
    #[serde(default)]
    pub phones: Vec<(String, String, bool)>,
    /// Business address.
    pub street: Option<String>,
    /// Business postal code.
    pub postal_code: Option<String>,
    /// Business city.
    pub city: Option<String>,
    /// Business country (ISO code).
    pub country: Option<String>,
    /// Private street.
    pub home_street: Option<String>,
    /// Private postal code.
    pub home_postal_code: Option<String>,
    /// Private city.
    pub home_city: Option<String>,
    /// Private country.
    pub home_country: Option<String>,
    /// Birthday (ISO).
    pub birthday: Option<String>,
    /// The company's website.
    pub website: Option<String>,
    /// LinkedIn profile.
    pub linkedin_url: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Note activities' texts.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Escapes a text value (`\`, `,`, `;`, newlines).
fn esc(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (never inside a character), CRLF-terminated.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// One contact as a vCard 3.0.
pub fn card(c: &CardContact) -> String {
    let o = |v: &Option<String>| esc(v.as_deref().unwrap_or(""));
    let mut lines = vec![
        "BEGIN:VCARD".to_string(),
        "VERSION:3.0".to_string(),
        format!("UID:{}", esc(&c.id)),
        format!(
            "N:{};{};;{};",
            esc(&c.last_name),
            esc(&c.first_name),
            o(&c.title)
        ),
    ];
    let full = [
        c.title.as_deref().unwrap_or(""),
        &c.first_name,
        &c.last_name,
    ]
    .iter()
    .filter(|s| !s.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(" ");
    lines.push(format!("FN:{}", esc(&full)));
    if c.company.is_some() || c.department.is_some() {
        lines.push(format!("ORG:{};{}", o(&c.company), o(&c.department)));
    }
    if let Some(t) = &c.job_title {
        lines.push(format!("TITLE:{}", esc(t)));
    }
    for (e, kind, primary) in &c.emails {
        let t = match kind.as_str() {
            "personal" => "INTERNET,HOME",
            "other" => "INTERNET,OTHER",
            _ => "INTERNET,WORK",
        };
        let pref = if *primary { ",PREF" } else { "" };
        lines.push(format!("EMAIL;TYPE={t}{pref}:{}", esc(e)));
    }
    for (n, kind, primary) in &c.phones {
        let t = match kind.as_str() {
            "mobile" => "CELL",
            "fax" => "WORK,FAX",
            "other" => "HOME,VOICE",
            _ => "WORK,VOICE",
        };
        let pref = if *primary { ",PREF" } else { "" };
        lines.push(format!("TEL;TYPE={t}{pref}:{}", esc(n)));
    }
    let business = [&c.street, &c.postal_code, &c.city, &c.country];
    if business.iter().any(|v| v.is_some()) {
        lines.push(format!(
            "ADR;TYPE=WORK:;;{};{};;{};{}",
            o(&c.street),
            o(&c.city),
            o(&c.postal_code),
            o(&c.country)
        ));
    }
    let home = [
        &c.home_street,
        &c.home_postal_code,
        &c.home_city,
        &c.home_country,
    ];
    if home.iter().any(|v| v.is_some()) {
        lines.push(format!(
            "ADR;TYPE=HOME:;;{};{};;{};{}",
            o(&c.home_street),
            o(&c.home_city),
            o(&c.home_postal_code),
            o(&c.home_country)
        ));
    }
    if let Some(b) = &c.birthday {
        lines.push(format!("BDAY:{b}"));
    }
    if let Some(w) = &c.website {
        lines.push(format!("URL:{}", esc(w)));
    }
    if let Some(l) = &c.linkedin_url {
        lines.push(format!("X-SOCIALPROFILE;TYPE=linkedin:{}", esc(l)));
    }
    if !c.tags.is_empty() {
        let tags: Vec<String> = c.tags.iter().map(|t| esc(t)).collect();
        lines.push(format!("CATEGORIES:{}", tags.join(",")));
    }
    if !c.notes.is_empty() {
        lines.push(format!("NOTE:{}", esc(&c.notes.join("\n\n"))));
    }
    lines.push("END:VCARD".into());
    let mut out = String::new();
    for l in lines {
        fold(&l, &mut out);
    }
    out
}

/// The JSON of one contact for [`card`], by SQL over `contacts c` and `companies co`.
const CARD_JSON: &str = "json_build_object( \
    'id', c.id, 'first_name', c.first_name, 'last_name', c.last_name, 'title', c.title, \
    'company', co.name, 'department', c.department, 'job_title', c.job_title, \
    'emails', coalesce((select json_agg(json_build_array(e.email, e.kind, e.is_primary) \
        order by e.is_primary desc, e.created_at, e.id) from contact_email_list e \
        where e.org_id = c.org_id and e.contact_id = c.id), '[]'), \
    'phones', coalesce((select json_agg(json_build_array(p.number_raw, p.kind, p.is_primary) \
        order by p.is_primary desc, p.created_at, p.id) from contact_phone_list p \
        where p.org_id = c.org_id and p.contact_id = c.id), '[]'), \
    'street', c.street, 'postal_code', c.postal_code, 'city', c.city, 'country', c.country, \
    'home_street', c.home_street, 'home_postal_code', c.home_postal_code, \
    'home_city', c.home_city, 'home_country', c.home_country, 'birthday', c.birthday, \
    'website', co.website, 'linkedin_url', c.linkedin_url, \
    'tags', coalesce((select json_agg(t.name order by t.name) from contact_tags ct \
        join tags t on t.org_id = ct.org_id and t.id = ct.tag_id \
        where ct.org_id = c.org_id and ct.contact_id = c.id), '[]'), \
    'notes', coalesce((select json_agg(a.body order by a.created_at, a.id) from activities a \
        where a.org_id = c.org_id and a.contact_id = c.id and a.kind = 'note' \
          and a.deleted_at is null and a.body is not null), '[]'))::text";

/// Writes the filtered contacts as vCards, returning how many.
pub async fn export<W: Write>(tx: &mut Tx, filter: &ExportFilter, out: &mut W) -> Result<u64> {
    let ids = crate::export::id_query(filter)?;
    let sql = format!(
        "select {CARD_JSON} from ({ids}) i join contacts c on c.org_id = $1 and c.id = i.id \
         left join companies co on co.org_id = c.org_id and co.id = c.company_id order by c.id"
    );
    let io = |e: std::io::Error| Error::Io(format!("writing the export failed: {e}"));
    let mut rows = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(&filter.tag)
        .bind(&filter.status)
        .bind(filter.company_id)
        .bind(filter.owner)
        .bind(filter.created_after)
        .bind(filter.created_before)
        .fetch(tx.conn());
    let mut n = 0u64;
    while let Some(row) = rows.try_next().await? {
        let c: CardContact = serde_json::from_str(&row)
            .map_err(|e| Error::Database(format!("reading a contact for the vCard failed: {e}")))?;
        out.write_all(card(&c).as_bytes()).map_err(io)?;
        n += 1;
    }
    out.flush().map_err(io)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::contacts::Field;
    use crate::import::formats::vcard::parse;

    #[test]
    fn written_cards_read_back() {
        let c = CardContact {
            id: "0190-abc".into(),
            first_name: "Jürgen".into(),
            last_name: "Müller".into(),
            company: Some("Müller GmbH; Co".into()),
            emails: vec![("j@example.de".into(), "work".into(), true)],
            phones: vec![("0171 1234567".into(), "mobile".into(), true)],
            street: Some("Hauptstraße 1".into()),
            city: Some("Berlin".into()),
            notes: vec![
                "A long note that goes on and on, well past the seventy-five octets of one line."
                    .into(),
            ],
            tags: vec!["VIP".into(), "Kunde, alt".into()],
            ..Default::default()
        };
        let text = card(&c);
        assert!(text.lines().all(|l| l.len() <= 76), "{text}");
        let cards = parse(text.as_bytes());
        let v = |f: Field| -> Vec<String> {
            cards[0]
                .values
                .iter()
                .filter(|(x, _)| *x == f)
                .map(|(_, v)| v.clone())
                .collect()
        };
        assert_eq!(v(Field::Company), vec!["Müller GmbH; Co"]);
        assert_eq!(v(Field::Mobile), vec!["0171 1234567"]);
        assert_eq!(v(Field::Tags), vec!["VIP", "Kunde, alt"]);
        assert_eq!(v(Field::Notes), vec![c.notes[0].clone()]);
        assert_eq!(v(Field::ExternalId), vec!["0190-abc"]);
    }
}
