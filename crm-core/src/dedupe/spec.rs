//! The tables and fields of each kind a merge reads, moves and restores.

use super::Kind;

/// A group of columns chosen together from one record (an address is one unit).
pub(super) struct Field {
    /// The name `take` uses.
    pub name: &'static str,
    /// What it covers (for help texts).
    pub help: &'static str,
    /// The columns.
    pub columns: &'static [&'static str],
    /// A value that counts as empty besides null and blank text (`size = unknown`).
    pub empty: Option<&'static str>,
}

/// What a merge of one kind touches.
pub(super) struct Spec {
    pub kind: Kind,
    /// The record table.
    pub table: &'static str,
    /// The column naming the record in its child and related tables.
    pub fk: &'static str,
    /// The scalar field groups.
    pub fields: &'static [Field],
    /// The e-mail and phone tables: (table, the normalised value column).
    pub emails: &'static str,
    pub phones: &'static str,
    /// The tags and owners tables.
    pub tags: &'static str,
    pub owners: &'static str,
    /// Rows of other records (or of the record's history) pointing at it, moved by setting
    /// the column: (table, column, label in the outcome).
    pub relations: &'static [(&'static str, &'static str, &'static str)],
}

macro_rules! field {
    ($name:literal, $help:literal, [$($c:literal),+]) => {
        Field { name: $name, help: $help, columns: &[$($c),+], empty: None }
    };
    ($name:literal, $help:literal, [$($c:literal),+], $empty:literal) => {
        Field { name: $name, help: $help, columns: &[$($c),+], empty: Some($empty) }
    };
}

const CONTACT_FIELDS: &[Field] = &[
    field!("first_name", "first name", ["first_name"]),
    field!("last_name", "last name", ["last_name"]),
    field!("salutation", "salutation", ["salutation"]),
    field!("title", "academic title", ["title"]),
    field!("job_title", "job title", ["job_title"]),
    field!("department", "department", ["department"]),
    field!("linkedin_url", "LinkedIn profile", ["linkedin_url"]),
    field!("birthday", "date of birth", ["birthday"]),
    field!("source", "source", ["source"]),
    field!("status", "status", ["status"]),
    field!("company", "company", ["company_id"]),
    field!(
        "address",
        "business address (street, postal code, city, country)",
        ["street", "postal_code", "city", "country"]
    ),
    field!(
        "home_address",
        "private address (street, postal code, city, country)",
        [
            "home_street",
            "home_postal_code",
            "home_city",
            "home_country"
        ]
    ),
    field!(
        "external_id",
        "the id in the system it was imported from",
        ["external_system", "external_id"]
    ),
];

const COMPANY_FIELDS: &[Field] = &[
    field!("name", "name", ["name"]),
    field!("domain", "web domain", ["domain"]),
    field!("website", "website", ["website"]),
    field!("industry", "industry", ["industry_id"]),
    field!("account_type", "account type", ["account_type_id"]),
    field!("vat_id", "VAT id", ["vat_id"]),
    field!("tax_id", "tax number", ["tax_id"]),
    field!(
        "trade_register",
        "trade register number and court",
        ["trade_register_number", "trade_register_court"]
    ),
    field!("size", "size", ["size"], "unknown"),
    field!("status", "status", ["status"]),
    field!(
        "billing_address",
        "billing address",
        [
            "billing_street",
            "billing_postal_code",
            "billing_city",
            "billing_country"
        ]
    ),
    field!(
        "delivery_address",
        "delivery address",
        [
            "delivery_street",
            "delivery_postal_code",
            "delivery_city",
            "delivery_country"
        ]
    ),
    field!(
        "external_id",
        "the id in the system it was imported from",
        ["external_system", "external_id"]
    ),
];

/// Fields handled apart from the column groups (named in `take` too).
pub(super) const SPECIAL_FIELDS: &[(&str, &str)] = &[
    (
        "email",
        "which primary e-mail address (all addresses are kept)",
    ),
    ("phone", "which primary phone number (all numbers are kept)"),
    (
        "custom",
        "custom fields: this record's keys win, the others fill in",
    ),
];

static CONTACT: Spec = Spec {
    kind: Kind::Contact,
    table: "contacts",
    fk: "contact_id",
    fields: CONTACT_FIELDS,
    emails: "contact_emails",
    phones: "contact_phones",
    tags: "contact_tags",
    owners: "contact_owners",
    relations: &[
        ("deals", "contact_id", "deals"),
        ("activities", "contact_id", "activities"),
        ("consents", "contact_id", "consents"),
        ("lexware_contact_links", "contact_id", "lexware_links"),
    ],
};

static COMPANY: Spec = Spec {
    kind: Kind::Company,
    table: "companies",
    fk: "company_id",
    fields: COMPANY_FIELDS,
    emails: "company_emails",
    phones: "company_phones",
    tags: "company_tags",
    owners: "company_owners",
    relations: &[
        ("contacts", "company_id", "contacts"),
        ("deals", "company_id", "deals"),
        ("activities", "company_id", "activities"),
        ("lexware_contact_links", "company_id", "lexware_links"),
    ],
};

impl Spec {
    pub(super) fn of(kind: Kind) -> &'static Spec {
        match kind {
            Kind::Contact => &CONTACT,
            Kind::Company => &COMPANY,
        }
    }

    /// The child tables whose rows belong to the record and are snapshot whole: (table,
    /// column).
    pub(super) fn children(&self) -> Vec<(&'static str, &'static str)> {
        let mut v = vec![
            (self.emails, self.fk),
            (self.phones, self.fk),
            (self.tags, self.fk),
            (self.owners, self.fk),
        ];
        if self.kind == Kind::Company {
            v.push(("company_relationships", "from_company_id"));
            v.push(("company_relationships", "to_company_id"));
        }
        v
    }

    /// The field group called `name`.
    pub(super) fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether `name` is a field `take` accepts.
    pub(super) fn takes(&self, name: &str) -> bool {
        self.field(name).is_some()
            || SPECIAL_FIELDS.iter().any(|(n, _)| *n == name)
            || (self.kind == Kind::Contact && name == "name")
    }
}
