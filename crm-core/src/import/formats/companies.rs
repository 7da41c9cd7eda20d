//! The company side of the formats: organization / account / company exports (HubSpot
//! companies, Salesforce accounts, Pipedrive organizations, Twenty companies, EspoCRM
//! accounts) and the company rows of contact exports (Lexware Office company contacts, the
//! company columns of Outlook and Google). Each format module holds its `COMPANY_TABLE`
//! (normalised header key to [`CompanyField`]) and `COMPANY_SIGNATURE`; this module detects
//! the format and turns one record into the store's company input plus what the importer
//! handles itself (source id, note, owner).

use serde_json::{Map, Value, json};

use super::{Format, espocrm, google, hubspot, key, lexware, outlook, pipedrive, quirks};
use super::{salesforce, twenty};
use crate::import::contacts::Field;
use crate::import::source::field_text;

/// A field a company column can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompanyField {
    /// The company's name.
    Name,
    /// Its internet domain.
    Domain,
    /// Its web site.
    Website,
    /// VAT id.
    VatId,
    /// Tax number.
    TaxId,
    /// Industry (key or label of the industries list; else kept as a custom field).
    Industry,
    /// Account type (key or label of the account types list; else a custom field).
    AccountType,
    /// Head count.
    Employees,
    /// Billing address: street (several columns are joined with `, `).
    Street,
    /// Billing address: house number (joined to the street with a space).
    HouseNumber,
    /// Billing address: postal code.
    PostalCode,
    /// Billing address: city.
    City,
    /// Billing address: country.
    Country,
    /// Delivery address: street.
    DeliveryStreet,
    /// Delivery address: postal code.
    DeliveryPostalCode,
    /// Delivery address: city.
    DeliveryCity,
    /// Delivery address: country.
    DeliveryCountry,
    /// The primary e-mail (further values become further addresses).
    Email,
    /// Further e-mails.
    EmailOther,
    /// The main phone number (further values become further numbers).
    Phone,
    /// A mobile number.
    Mobile,
    /// A fax number.
    Fax,
    /// Further numbers.
    PhoneOther,
    /// Tags / labels.
    Tags,
    /// Free text, kept as a note activity on the company.
    Notes,
    /// The owning user, by e-mail or name.
    Owner,
    /// The record's id in the system it comes from.
    ExternalId,
    /// LinkedIn page (kept as the custom field `linkedin_url`).
    LinkedIn,
    /// Known to the format and deliberately not kept.
    Ignore,
}

impl CompanyField {
    /// The name shown in the summary's mapping and taken by `--map COLUMN=FIELD`.
    pub fn name(self) -> &'static str {
        match self {
            CompanyField::Name => "name",
            CompanyField::Domain => "domain",
            CompanyField::Website => "website",
            CompanyField::VatId => "vat_id",
            CompanyField::TaxId => "tax_id",
            CompanyField::Industry => "industry",
            CompanyField::AccountType => "account_type",
            CompanyField::Employees => "employees",
            CompanyField::Street => "billing_street",
            CompanyField::HouseNumber => "billing_house_number",
            CompanyField::PostalCode => "billing_postal_code",
            CompanyField::City => "billing_city",
            CompanyField::Country => "billing_country",
            CompanyField::DeliveryStreet => "delivery_street",
            CompanyField::DeliveryPostalCode => "delivery_postal_code",
            CompanyField::DeliveryCity => "delivery_city",
            CompanyField::DeliveryCountry => "delivery_country",
            CompanyField::Email => "email",
            CompanyField::EmailOther => "email_other",
            CompanyField::Phone => "phone",
            CompanyField::Mobile => "mobile",
            CompanyField::Fax => "fax",
            CompanyField::PhoneOther => "phone_other",
            CompanyField::Tags => "tags",
            CompanyField::Notes => "notes",
            CompanyField::Owner => "owner",
            CompanyField::ExternalId => "external_id",
            CompanyField::LinkedIn => "linkedin_url",
            CompanyField::Ignore => "ignore",
        }
    }

    /// Every field.
    pub const ALL: &'static [CompanyField] = &[
        CompanyField::Name,
        CompanyField::Domain,
        CompanyField::Website,
        CompanyField::VatId,
        CompanyField::TaxId,
        CompanyField::Industry,
        CompanyField::AccountType,
        CompanyField::Employees,
        CompanyField::Street,
        CompanyField::HouseNumber,
        CompanyField::PostalCode,
        CompanyField::City,
        CompanyField::Country,
        CompanyField::DeliveryStreet,
        CompanyField::DeliveryPostalCode,
        CompanyField::DeliveryCity,
        CompanyField::DeliveryCountry,
        CompanyField::Email,
        CompanyField::EmailOther,
        CompanyField::Phone,
        CompanyField::Mobile,
        CompanyField::Fax,
        CompanyField::PhoneOther,
        CompanyField::Tags,
        CompanyField::Notes,
        CompanyField::Owner,
        CompanyField::ExternalId,
        CompanyField::LinkedIn,
        CompanyField::Ignore,
    ];

    /// The field named `name` (as [`CompanyField::name`] prints it).
    pub fn from_name(name: &str) -> Option<CompanyField> {
        let n = name.trim();
        CompanyField::ALL.iter().copied().find(|f| f.name() == n)
    }

    /// How a multi-value cell of this field is split (as the contact field of that kind).
    fn split_as(self) -> Option<Field> {
        match self {
            CompanyField::Email | CompanyField::EmailOther => Some(Field::EmailOther),
            CompanyField::Phone
            | CompanyField::Mobile
            | CompanyField::Fax
            | CompanyField::PhoneOther => Some(Field::PhoneOther),
            CompanyField::Tags => Some(Field::Tags),
            _ => None,
        }
    }
}

impl Format {
    fn company_table(self) -> &'static [(&'static str, CompanyField)] {
        match self {
            Format::Outlook => outlook::COMPANY_TABLE,
            Format::Google => google::COMPANY_TABLE,
            Format::Hubspot => hubspot::COMPANY_TABLE,
            Format::Salesforce => salesforce::COMPANY_TABLE,
            Format::Pipedrive => pipedrive::COMPANY_TABLE,
            Format::Twenty => twenty::COMPANY_TABLE,
            Format::Espocrm => espocrm::COMPANY_TABLE,
            Format::Lexware => lexware::COMPANY_TABLE,
            Format::Vcard | Format::Generic => &[],
        }
    }

    fn company_signature(self) -> &'static [&'static str] {
        match self {
            Format::Hubspot => hubspot::COMPANY_SIGNATURE,
            Format::Salesforce => salesforce::COMPANY_SIGNATURE,
            Format::Pipedrive => pipedrive::COMPANY_SIGNATURE,
            Format::Twenty => twenty::COMPANY_SIGNATURE,
            Format::Espocrm => espocrm::COMPANY_SIGNATURE,
            _ => &[],
        }
    }

    /// What the column `header` of a company file holds in this format (`None`: unknown to
    /// it; always `None` for generic files, which the importer maps by name).
    pub fn company_role(self, header: &str) -> Option<CompanyField> {
        let k = key(header);
        self.company_table()
            .iter()
            .find(|(h, _)| *h == k)
            .map(|(_, f)| *f)
    }
}

/// Headers that name their tool on their own in a company file (they count twice).
const STRONG: &[&str] = &[
    "recordid",
    "companydomainname",
    "companyowner",
    "billingzippostalcode",
    "billingstateprovince",
    "organizationid",
    "domainnameprimarylinkurl",
    "addressaddressstreet1",
    "billingaddressstreet",
    "assignedusername",
];

/// The format of a company file with these headers: the company export with the most
/// identifying headers (at least two, a header that names its tool counting twice); else
/// the contact export it is (Outlook, Google and Lexware files hold companies in their
/// company columns), else generic.
pub fn detect(headers: &[String]) -> Format {
    let keys: Vec<String> = headers.iter().map(|h| key(h)).collect();
    let mut best = (Format::Generic, 1usize);
    for f in Format::ALL {
        let score = keys
            .iter()
            .filter(|k| f.company_signature().contains(&k.as_str()))
            .map(|k| if STRONG.contains(&k.as_str()) { 2 } else { 1 })
            .sum::<usize>();
        if score > best.1 {
            best = (*f, score);
        }
    }
    if best.0 != Format::Generic {
        return best.0;
    }
    let people = super::detect(headers);
    if people.company_table().is_empty() {
        return Format::Generic;
    }
    // A contact export's company columns must hold a name to be read as companies.
    let roles: Vec<Option<CompanyField>> = headers.iter().map(|h| people.company_role(h)).collect();
    if roles.contains(&Some(CompanyField::Name)) {
        people
    } else {
        Format::Generic
    }
}

/// One record of a company file, understood.
#[derive(Debug, Default)]
pub struct CompanyRecord {
    /// The store's company input (`name`, `billing_city`, `emails`, `phones`, `tags`, ...).
    pub values: Map<String, Value>,
    /// Custom fields (the LinkedIn page; unknown columns with `--keep-unknown`).
    pub custom: Map<String, Value>,
    /// The record's id in the source system.
    pub external_id: Option<String>,
    /// The note to keep as a note activity.
    pub notes: Option<String>,
    /// The owner as written (a user's e-mail or name).
    pub owner: Option<String>,
}

/// Reads one record with the columns' `roles`: empty cells left out, formula guards undone,
/// multi-value cells split, several columns of one field added up (e-mails, phones, tags,
/// notes, street lines) or the first non-empty one taken.
pub fn read(
    roles: &[Option<CompanyField>],
    headers: &[String],
    rec: &csv::ByteRecord,
    keep_unknown: bool,
) -> CompanyRecord {
    let mut acc = Gathered::default();
    for (col, raw) in rec.iter().enumerate() {
        let v = quirks::clean(field_text(raw));
        if v.is_empty() {
            continue;
        }
        let v = v.as_ref();
        let Some(field) = roles.get(col).copied().flatten() else {
            if keep_unknown && let Some(h) = headers.get(col) {
                acc.out.custom.insert(h.clone(), json!(v));
            }
            continue;
        };
        acc.take(field, v);
    }
    acc.finish()
}

/// A record's values while its columns are read: the fields that several columns add up to
/// are gathered until the end of the record.
#[derive(Default)]
struct Gathered {
    out: CompanyRecord,
    emails: Vec<String>,
    phones: Vec<(String, &'static str)>,
    tags: Vec<String>,
    street: Option<String>,
    house: Option<String>,
    delivery: Option<String>,
}

impl Gathered {
    /// Takes the non-empty value `v` of a column holding `field`.
    fn take(&mut self, field: CompanyField, v: &str) {
        let values: Vec<String> = match field.split_as() {
            Some(as_field) => quirks::split_multi(v, as_field),
            None => vec![v.to_string()],
        };
        let out = &mut self.out;
        match field {
            CompanyField::Ignore => {}
            CompanyField::Email | CompanyField::EmailOther => {
                for e in values {
                    let e = quirks::email_in(&e).to_string();
                    if !e.is_empty() && !self.emails.contains(&e) {
                        self.emails.push(e);
                    }
                }
            }
            CompanyField::Phone
            | CompanyField::Mobile
            | CompanyField::Fax
            | CompanyField::PhoneOther => {
                let kind = match field {
                    CompanyField::Mobile => "mobile",
                    CompanyField::Fax => "fax",
                    CompanyField::PhoneOther => "other",
                    _ => "office",
                };
                for p in values {
                    if !self.phones.iter().any(|(n, _)| *n == p) {
                        self.phones.push((p, kind));
                    }
                }
            }
            CompanyField::Tags => self.tags.extend(values),
            CompanyField::Notes => join(&mut out.notes, v, "\n\n"),
            CompanyField::Street => join(&mut self.street, v, ", "),
            CompanyField::HouseNumber => join(&mut self.house, v, " "),
            CompanyField::DeliveryStreet => join(&mut self.delivery, v, ", "),
            CompanyField::Owner => {
                out.owner.get_or_insert_with(|| v.to_string());
            }
            CompanyField::ExternalId => {
                out.external_id.get_or_insert_with(|| v.to_string());
            }
            CompanyField::LinkedIn => {
                out.custom.entry("linkedin_url").or_insert_with(|| json!(v));
            }
            CompanyField::Employees => {
                out.values
                    .entry("employees")
                    .or_insert(json!(head_count(v)));
            }
            other => {
                out.values.entry(other.name()).or_insert(json!(v));
            }
        }
    }

    /// The record: street and house number joined, the first e-mail address the main one,
    /// the main phone number marked.
    fn finish(self) -> CompanyRecord {
        let mut out = self.out;
        let street = match (self.street, self.house) {
            (Some(s), Some(h)) => Some(format!("{s} {h}")),
            (s, h) => s.or(h),
        };
        if let Some(s) = street {
            out.values.insert("billing_street".into(), json!(s));
        }
        if let Some(s) = self.delivery {
            out.values.insert("delivery_street".into(), json!(s));
        }
        let emails = self.emails;
        if !emails.is_empty() {
            out.values.insert("email".into(), json!(emails[0]));
            let rest: Vec<Value> = emails[1..]
                .iter()
                .map(|e| json!({"email": e, "kind": "work"}))
                .collect();
            if !rest.is_empty() {
                out.values.insert("emails".into(), Value::Array(rest));
            }
        }
        let phones = self.phones;
        if !phones.is_empty() {
            // The main number is the first office line, else the first that is not a fax.
            let main = phones
                .iter()
                .position(|(_, k)| *k == "office")
                .or_else(|| phones.iter().position(|(_, k)| *k != "fax"));
            let list: Vec<Value> = phones
                .iter()
                .enumerate()
                .map(|(i, (n, k))| json!({"number": n, "kind": k, "primary": Some(i) == main}))
                .collect();
            out.values.insert("phones".into(), Value::Array(list));
        }
        if !self.tags.is_empty() {
            out.values.insert("tags".into(), json!(self.tags));
        }
        out
    }
}

/// A head count as typed: `1,200`, `1.200`, `1 200` and `1'200` are 1200; anything else is
/// kept as written (and reported by the import).
fn head_count(v: &str) -> String {
    let digits: String = v
        .chars()
        .filter(|c| !matches!(c, ',' | '.' | '\'' | ' ' | '\u{a0}'))
        .collect();
    if digits.chars().all(|c| c.is_ascii_digit()) && !digits.is_empty() {
        digits
    } else {
        v.to_string()
    }
}

fn join(slot: &mut Option<String>, v: &str, sep: &str) {
    match slot {
        Some(s) if !s.split(sep).any(|p| p == v) => {
            s.push_str(sep);
            s.push_str(v);
        }
        Some(_) => {}
        None => *slot = Some(v.to_string()),
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// Parses a company CSV text (header + rows) and returns the detected format and every
    /// row as read.
    pub fn read_companies(text: &str, delimiter: u8) -> (Format, Vec<CompanyRecord>) {
        let mut r = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(false)
            .from_reader(text.as_bytes());
        let mut recs = r.byte_records();
        let header = recs.next().unwrap().unwrap();
        let headers: Vec<String> = header.iter().map(|h| field_text(h).into_owned()).collect();
        let format = detect(&headers);
        let roles: Vec<Option<CompanyField>> =
            headers.iter().map(|h| format.company_role(h)).collect();
        let rows = recs
            .map(|rec| read(&roles, &headers, &rec.unwrap(), false))
            .collect();
        (format, rows)
    }

    /// The text value of `key` in a record's store input.
    pub fn val<'a>(r: &'a CompanyRecord, key: &str) -> Option<&'a str> {
        r.values.get(key).and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn every_table_names_known_fields_once() {
        for f in Format::ALL {
            let t = f.company_table();
            for (i, (k, _)) in t.iter().enumerate() {
                assert!(
                    !t[..i].iter().any(|(h, _)| h == k),
                    "{k} twice in {}",
                    f.name()
                );
                assert_eq!(key(k), *k, "{k} is not a normalised key");
            }
        }
        for f in CompanyField::ALL {
            assert_eq!(CompanyField::from_name(f.name()), Some(*f));
        }
    }

    #[test]
    fn a_plain_company_list_stays_generic() {
        let (format, _) = read_companies("Name;Website;Ort\nMüller GmbH;mueller.de;Berlin\n", b';');
        assert_eq!(format, Format::Generic);
    }

    #[test]
    fn phones_keep_their_kind_and_the_office_line_is_the_main_one() {
        let roles = vec![
            Some(CompanyField::Name),
            Some(CompanyField::Fax),
            Some(CompanyField::Phone),
            Some(CompanyField::Employees),
        ];
        let headers: Vec<String> = ["n", "f", "p", "e"].iter().map(|s| s.to_string()).collect();
        let rec = csv::ByteRecord::from(vec!["Acme", "030 1", "'+49 30 2", "1.200"]);
        let r = read(&roles, &headers, &rec, false);
        assert_eq!(
            r.values["phones"],
            json!([{"number": "030 1", "kind": "fax", "primary": false},
                   {"number": "+49 30 2", "kind": "office", "primary": true}])
        );
        assert_eq!(val(&r, "employees"), Some("1200"));
    }
}

#[cfg(test)]
mod layouts {
    //! The company layouts without a fixture file of their own in the integration tests.
    use super::test_support::*;
    use super::*;

    #[test]
    fn hubspot_default_company_view() {
        let text = "\"Record ID\",\"Company name\",\"Company owner\",\"Create Date\",\"Phone Number\",\"Last Activity Date\",\"City\",\"Country/Region\",\"Industry\"\n\
\"1001\",\"Beispiel GmbH\",\"Olivia Owner\",\"2024-01-02 10:00\",\"+49 30 1234567\",\"\",\"Berlin\",\"Germany\",\"COMPUTER_SOFTWARE\"\n";
        let (format, rows) = read_companies(text, b',');
        assert_eq!(format, Format::Hubspot);
        let r = &rows[0];
        assert_eq!(r.external_id.as_deref(), Some("1001"));
        assert_eq!(val(r, "name"), Some("Beispiel GmbH"));
        assert_eq!(val(r, "billing_city"), Some("Berlin"));
        assert_eq!(val(r, "billing_country"), Some("Germany"));
        assert_eq!(val(r, "industry"), Some("COMPUTER_SOFTWARE"));
        assert_eq!(r.owner.as_deref(), Some("Olivia Owner"));
        assert_eq!(r.values["phones"][0]["number"], "+49 30 1234567");
    }

    #[test]
    fn salesforce_account_report() {
        let text = "\"Account Name\",\"Account Owner\",\"Type\",\"Industry\",\"Billing Street\",\"Billing City\",\"Billing State/Province\",\"Billing Zip/Postal Code\",\"Billing Country\",\"Phone\",\"Website\",\"Employees\",\"Account ID\"\n\
\"Beispiel GmbH\",\"Olivia Owner\",\"Customer\",\"Manufacturing\",\"Hauptstraße 1\",\"Berlin\",\"BE\",\"10115\",\"Germany\",\"030 1234567\",\"www.beispiel.de\",\"250\",\"0015g00000XyZ\"\n";
        let (format, rows) = read_companies(text, b',');
        assert_eq!(format, Format::Salesforce);
        let r = &rows[0];
        assert_eq!(r.external_id.as_deref(), Some("0015g00000XyZ"));
        assert_eq!(val(r, "billing_postal_code"), Some("10115"));
        assert_eq!(val(r, "billing_street"), Some("Hauptstraße 1"));
        assert_eq!(val(r, "website"), Some("www.beispiel.de"));
        assert_eq!(val(r, "account_type"), Some("Customer"));
        assert_eq!(val(r, "employees"), Some("250"));
    }

    #[test]
    fn google_rows_name_their_organization() {
        let text = "First Name,Last Name,Organization Name,Organization Title,E-mail 1 - Label,E-mail 1 - Value\n\
Anna,Albers,Beispiel GmbH,Einkauf,* Work,anna@beispiel.de\n\
Ben,Braun,,,* Work,ben@example.org\n";
        let (format, rows) = read_companies(text, b',');
        assert_eq!(format, Format::Google);
        assert_eq!(val(&rows[0], "name"), Some("Beispiel GmbH"));
        assert!(
            rows[0].values.get("email").is_none(),
            "the person's address is not the company's"
        );
        assert!(
            rows[1].values.get("name").is_none(),
            "no company on this row"
        );
    }

    #[test]
    fn espocrm_json_arrays_and_formula_guards() {
        let text = "id,name,website,emailAddress,phoneNumber,billingAddressCity,assignedUserName,emailAddressData\n\
64f0a1b2c3d4e5f01,Beispiel GmbH,beispiel.de,info@beispiel.de,'+49 30 1234567,Berlin,Olivia Owner,\"[{\"\"emailAddress\"\":\"\"info@beispiel.de\"\"},{\"\"emailAddress\"\":\"\"einkauf@beispiel.de\"\"}]\"\n";
        let (format, rows) = read_companies(text, b',');
        assert_eq!(format, Format::Espocrm);
        let r = &rows[0];
        assert_eq!(val(r, "email"), Some("info@beispiel.de"));
        assert_eq!(
            r.values["emails"],
            json!([{"email": "einkauf@beispiel.de", "kind": "work"}])
        );
        assert_eq!(r.values["phones"][0]["number"], "+49 30 1234567");
    }
}
