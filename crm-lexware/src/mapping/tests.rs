use super::*;

fn sample() -> Value {
    json!({"id":"be9475f4-ef80-442b-8ab9-3ab8b1a2aeb9","version":1,
      "roles":{"customer":{"number":10307}},
      "company":{"name":"Testfirma","taxNumber":"12345/12345","vatRegistrationId":"DE123456789",
        "contactPersons":[{"salutation":"Herr","firstName":"Max","lastName":"Mustermann","primary":true,
          "emailAddress":"contactpersonmail@lexware.de","phoneNumber":"08000/11111"}]},
      "addresses":{"billing":[{"supplement":"Rechnungsadressenzusatz","street":"Hauptstr. 5","zip":"12345","city":"Musterort","countryCode":"DE"}],
        "shipping":[{"supplement":null,"street":"Schulstr. 13","zip":"76543","city":"MUsterstadt","countryCode":"ES_CN"}]},
      "xRechnung":{"buyerReference":"04011000-1234512345-35","vendorNumberAtCustomer":"70123456"},
      "emailAddresses":{"business":["Business@lexware.de"],"office":["office@lexware.de"],"private":[],"other":["other@lexware.de"]},
      "phoneNumbers":{"business":["08000/1231"],"mobile":["0170/1234"]},
      "note":"Notizen","archived":false})
}

fn contact(v: &Value) -> LxContact {
    serde_json::from_value(v.clone()).unwrap()
}

fn fields(pairs: &[(&str, &str)]) -> Fields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn lexware_company_maps_names_addresses_channels_and_ids() {
    let f = from_lexware(&contact(&sample()));
    assert_eq!(f["name"], "Testfirma");
    assert_eq!(f["vat_id"], "DE123456789");
    assert_eq!(f["tax_number"], "12345/12345");
    assert_eq!(f["note"], "Notizen");
    assert_eq!(f["billing.street"], "Hauptstr. 5");
    assert_eq!(f["billing.country"], "DE");
    assert_eq!(f["email.business"], "business@lexware.de");
    assert_eq!(f["phone.mobile"], "0170/1234");
    // Extended country codes and office addresses are not mapped.
    assert!(!f.contains_key("shipping.country"));
    assert!(!f.values().any(|v| v.contains("office@")));
    assert!(!f.contains_key("email.private"));
}

#[test]
fn vat_ids_and_emails_compare_without_formatting() {
    assert_eq!(
        normalize("vat_id", " de 123.456.789 "),
        Some("DE123456789".into())
    );
    assert_eq!(normalize("email.other", "A@B.de"), Some("a@b.de".into()));
    assert_eq!(normalize("name", "   "), None);
}

#[test]
fn a_field_changed_on_one_side_goes_to_the_other() {
    let fs = vec!["name".to_string(), "note".to_string()];
    let base: Base = [
        ("name".into(), Some("A".into())),
        ("note".into(), Some("n".into())),
    ]
    .into();
    let crm = fields(&[("name", "A2"), ("note", "n")]);
    let lex = fields(&[("name", "A"), ("note", "n2")]);
    let plan = merge(&fs, &base, &crm, &lex, Prefer::Neither);
    assert_eq!(
        plan.to_lexware,
        [("name".to_string(), Some("A2".to_string()))].into()
    );
    assert_eq!(
        plan.to_crm,
        [("note".to_string(), Some("n2".to_string()))].into()
    );
    assert!(plan.conflicts.is_empty());
    assert_eq!(plan.base["name"].as_deref(), Some("A2"));
    assert_eq!(plan.base["note"].as_deref(), Some("n2"));
}

#[test]
fn a_field_changed_on_both_sides_is_a_conflict_with_both_values_and_keeps_its_base() {
    let fs = vec!["name".to_string()];
    let base: Base = [("name".into(), Some("A".into()))].into();
    let crm = fields(&[("name", "CRM name")]);
    let lex = fields(&[("name", "Lexware name")]);
    let plan = merge(&fs, &base, &crm, &lex, Prefer::Neither);
    assert!(plan.to_crm.is_empty() && plan.to_lexware.is_empty());
    assert_eq!(
        plan.conflicts,
        vec![Conflict {
            field: "name".into(),
            crm: Some("CRM name".into()),
            lexware: Some("Lexware name".into())
        }]
    );
    assert_eq!(plan.base["name"].as_deref(), Some("A"));
    // An explicit push decides for the CRM.
    let plan = merge(&fs, &base, &crm, &lex, Prefer::Crm);
    assert_eq!(plan.to_lexware["name"].as_deref(), Some("CRM name"));
}

#[test]
fn the_same_change_on_both_sides_is_no_conflict() {
    let fs = vec!["name".to_string()];
    let base: Base = [("name".into(), Some("A".into()))].into();
    let both = fields(&[("name", "B")]);
    let plan = merge(&fs, &base, &both, &both, Prefer::Neither);
    assert_eq!(
        plan,
        Plan {
            base: [("name".into(), Some("B".into()))].into(),
            ..Plan::default()
        }
    );
}

#[test]
fn without_base_blanks_are_filled_and_differences_are_conflicts() {
    let fs = vec!["name".to_string(), "note".to_string(), "vat_id".to_string()];
    let crm = fields(&[("name", "A"), ("vat_id", "DE1")]);
    let lex = fields(&[("name", "B"), ("note", "n")]);
    let plan = merge(&fs, &Base::new(), &crm, &lex, Prefer::Neither);
    assert_eq!(plan.to_crm["note"].as_deref(), Some("n"));
    assert_eq!(plan.to_lexware["vat_id"].as_deref(), Some("DE1"));
    assert_eq!(plan.conflicts.len(), 1);
    assert_eq!(plan.conflicts[0].field, "name");
    assert!(!plan.base.contains_key("name"));
}

#[test]
fn applying_changes_keeps_unmapped_fields_and_fills_a_new_address_country() {
    let mut raw = sample();
    let changes: BTreeMap<String, Option<String>> = [
        ("name".to_string(), Some("Neu GmbH".to_string())),
        ("email.business".to_string(), None),
        ("phone.fax".to_string(), Some("0221 1".to_string())),
    ]
    .into();
    apply_to_lexware(&mut raw, &changes, "DE");
    assert_eq!(raw["company"]["name"], "Neu GmbH");
    assert_eq!(
        raw["company"]["contactPersons"][0]["lastName"],
        "Mustermann"
    );
    assert_eq!(raw["xRechnung"]["buyerReference"], "04011000-1234512345-35");
    assert_eq!(raw["emailAddresses"]["business"], json!([]));
    assert_eq!(
        raw["emailAddresses"]["office"],
        json!(["office@lexware.de"])
    );
    assert_eq!(raw["phoneNumbers"]["fax"], json!(["0221 1"]));
    assert_eq!(
        raw["addresses"]["billing"][0]["supplement"],
        "Rechnungsadressenzusatz"
    );

    let mut person = json!({"version": 3, "person": {"lastName": "Muster"}});
    apply_to_lexware(
        &mut person,
        &[("billing.city".to_string(), Some("Köln".to_string()))].into(),
        "CH",
    );
    assert_eq!(
        person["addresses"]["billing"],
        json!([{"countryCode": "CH", "city": "Köln"}])
    );
}

#[test]
fn a_created_body_maps_back_to_the_same_fields() {
    let f = fields(&[
        ("name", "Beispiel GmbH"),
        ("vat_id", "DE123456789"),
        ("billing.city", "Köln"),
        ("billing.country", "DE"),
        ("email.business", "info@beispiel.de"),
        ("phone.business", "+49 221 1"),
    ]);
    let body = create_body(&f, true, "DE");
    assert_eq!(body["version"], 0);
    assert_eq!(body["roles"], json!({"customer": {}}));
    assert_eq!(from_lexware(&contact(&body)), f);
}

#[test]
fn lists_longer_than_one_make_a_contact_not_updatable() {
    assert_eq!(not_updatable(&contact(&sample())), None);
    let mut two = sample();
    two["emailAddresses"]["office"] = json!(["a@x.de", "b@x.de"]);
    assert_eq!(
        not_updatable(&contact(&two)).as_deref(),
        Some("e-mail address of kind 'office'")
    );
    let mut persons = sample();
    persons["company"]["contactPersons"] = json!([{"lastName": "A"}, {"lastName": "B"}]);
    assert_eq!(
        not_updatable(&contact(&persons)).as_deref(),
        Some("contact person")
    );
}

#[test]
fn a_new_contact_from_a_person_is_marked_as_from_lexware() {
    let p = contact(
        &json!({"person": {"salutation": "Frau", "firstName": "Inge", "lastName": "Musterfrau"},
        "roles": {"customer": {"number": 10308}}, "emailAddresses": {"private": ["inge@example.de"]}}),
    );
    let n = new_contact(&p);
    assert_eq!(
        (n.first_name.as_str(), n.last_name.as_str()),
        ("Inge", "Musterfrau")
    );
    assert_eq!(n.source, ContactSource::Lexware);
    assert_eq!(n.emails.len(), 1);
    assert!(n.emails[0].primary && n.emails[0].kind == EmailKind::Personal);
    assert_eq!(n.custom["lexware_customer_number"], json!(10308));
}
