//! JSON input as `crm contact add --json`, `company add --json` and the other `--json`
//! commands take it: arbitrary bytes read as the input types, then every string through
//! the value parsers the library validates with. Nothing may panic.
#![no_main]

use crm_core::domain::{Currency, DayEnd, Email, Money, Phone, VatId, Website, Zone};
use crm_core::store::activity::NewActivity;
use crm_core::store::company::NewCompany;
use crm_core::store::contact::{ContactPatch, NewContact};
use crm_core::store::deal::NewDeal;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                strings(v, out);
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<NewContact>(data);
    let _ = serde_json::from_slice::<ContactPatch>(data);
    let _ = serde_json::from_slice::<NewCompany>(data);
    let _ = serde_json::from_slice::<NewDeal>(data);
    let _ = serde_json::from_slice::<NewActivity>(data);
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let mut all = Vec::new();
    strings(&value, &mut all);
    let now = chrono::Utc::now();
    for s in all.iter().take(64) {
        let _ = Email::parse(s);
        let _ = Phone::parse(s, "DE");
        let _ = VatId::parse(s);
        let _ = Website::parse(s);
        let _ = Money::parse_or(s, Currency::EUR);
        let _ = crm_core::domain::parse_date(s, Zone::default(), now);
        let _ = crm_core::domain::parse_time(s, Zone::default(), DayEnd::End, now);
        let _ = crm_core::domain::parse_duration(s);
        let _ = crm_core::domain::text::check_single_line(s);
    }
});
