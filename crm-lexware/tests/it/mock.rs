//! A small in-memory Lexware Office following lexware-api.md: contacts (paging, filters
//! with the search-string encoding, create with version 0, PUT with optimistic locking in
//! either conflict mode, refusal of multi-entry contacts), the voucher list (required
//! parameters, filters, the 10,000-entry window), the gateway's rate limit, and injectable
//! faults (429 with or without Retry-After, 5xx, slow answers).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::matchers::any;
use wiremock::{Mock as WireMock, MockServer, Request, Respond, ResponseTemplate};

/// A fault answered instead of the next request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 with this `Retry-After` (seconds), or none.
    RateLimited(Option<u32>),
    /// This status with a gateway body (500, 503, 504).
    Status(u16),
    /// Answer only after this long.
    Slow(Duration),
}

/// How a stale contact version is refused.
#[derive(Debug, Clone, Copy)]
pub enum StaleMode {
    /// 409 (the docs).
    Conflict409,
    /// 406 naming `version` (measured live).
    Invalid406,
}

#[derive(Default)]
struct State {
    contacts: BTreeMap<Uuid, Value>,
    vouchers: Vec<Value>,
    faults: VecDeque<Fault>,
    /// Faults only for requests whose method and path start match.
    targeted: Vec<(String, String, Fault)>,
    stale_409: bool,
    log: Vec<(Instant, String, String)>,
    rate: Option<(usize, Duration)>,
    rate_refusals: usize,
    race_on_put: Option<(Uuid, Edit)>,
}

type Edit = Box<dyn FnOnce(&mut Value) + Send>;

/// The mock server and its state.
pub struct Mock {
    pub server: MockServer,
    state: Arc<Mutex<State>>,
}

struct Handler(Arc<Mutex<State>>);

impl Mock {
    /// Starts a mock that allows `rate.0` requests per `rate.1` (refusing more with 429).
    pub async fn start(rate: Option<(usize, Duration)>) -> Mock {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            rate,
            ..State::default()
        }));
        WireMock::given(any())
            .respond_with(Handler(state.clone()))
            .mount(&server)
            .await;
        Mock { server, state }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Stores a contact as Lexware would (id, organizationId, version 1, roles numbers).
    pub fn add_contact(&self, mut c: Value) -> Uuid {
        let id = Uuid::now_v7();
        c["id"] = json!(id);
        c["version"] = json!(1);
        c["archived"] = json!(false);
        if c.get("roles").is_none() {
            c["roles"] = json!({"customer": {"number": 10000 + self.st().contacts.len()}});
        }
        self.st().contacts.insert(id, c);
        id
    }

    pub fn contact(&self, id: Uuid) -> Value {
        self.st().contacts[&id].clone()
    }

    pub fn contact_count(&self) -> usize {
        self.st().contacts.len()
    }

    /// An edit in the Lexware app: changes the record and bumps its version.
    pub fn edit_contact(&self, id: Uuid, f: impl FnOnce(&mut Value)) {
        let mut st = self.st();
        let c = st.contacts.get_mut(&id).unwrap();
        f(c);
        let v = c["version"].as_i64().unwrap();
        c["version"] = json!(v + 1);
    }

    /// A concurrent edit in Lexware: applied just before the next PUT of `id` is handled,
    /// so that PUT carries a stale version.
    pub fn race_on_next_put(&self, id: Uuid, f: impl FnOnce(&mut Value) + Send + 'static) {
        self.st().race_on_put = Some((id, Box::new(f)));
    }

    pub fn add_voucher(&self, v: Value) {
        self.st().vouchers.push(v);
    }

    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.st().faults.extend(faults);
    }

    /// Injects a fault for the next request of `method` whose path starts with `path`.
    pub fn inject_on(&self, method: &str, path: &str, fault: Fault) {
        self.st().targeted.push((method.into(), path.into(), fault));
    }

    pub fn stale_mode(&self, mode: StaleMode) {
        self.st().stale_409 = matches!(mode, StaleMode::Conflict409);
    }

    /// Requests received so far (`METHOD path?query`).
    pub fn requests(&self) -> Vec<String> {
        self.st()
            .log
            .iter()
            .map(|(_, m, p)| format!("{m} {p}"))
            .collect()
    }

    /// How many requests the mock refused because the client went over the rate.
    pub fn rate_refusals(&self) -> usize {
        self.st().rate_refusals
    }
}

fn gateway(status: u16, message: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "message": message }))
}

fn issue(status: u16, source: &str, key: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(
        json!({"IssueList":[{"i18nKey": key, "source": source, "type": "validation_failure"}]}),
    )
}

fn regular(status: u16, path: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "timestamp": "2026-12-02T06:00:00.000+01:00", "status": status, "error": "Bad Request",
        "path": path, "traceId": "0123abcd", "message": message, "details": []}))
}

fn fault_response(f: Fault) -> ResponseTemplate {
    match f {
        Fault::RateLimited(after) => {
            let r = gateway(429, json!("Too Many Requests"));
            match after {
                Some(s) => r.insert_header("Retry-After", s.to_string().as_str()),
                None => r,
            }
        }
        Fault::Status(504) => gateway(504, json!("Endpoint request timed out")),
        Fault::Status(s) => gateway(s, Value::Null),
        Fault::Slow(d) => gateway(504, json!("Endpoint request timed out")).set_delay(d),
    }
}

/// Decodes the HTML entities the client must send in search strings.
fn unhtml(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn unlike(s: &str) -> String {
    s.replace("\\_", "_")
        .replace("\\%", "%")
        .replace("\\\\", "\\")
}

fn page_of(items: Vec<Value>, page: usize, size: usize, cap: Option<usize>) -> Value {
    let total = items.len();
    let shown_total = cap.map_or(total, |c| total.min(c));
    let pages = shown_total.div_ceil(size.max(1));
    let content: Vec<Value> = items.into_iter().skip(page * size).take(size).collect();
    json!({"content": content, "first": page == 0, "last": page + 1 >= pages,
           "totalPages": pages, "totalElements": shown_total, "numberOfElements": 0,
           "size": size, "number": page})
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut st = self.0.lock().unwrap();
        let method = req.method.to_string();
        let path = req.url.path().to_string();
        let full = match req.url.query() {
            Some(q) => format!("{path}?{q}"),
            None => path.clone(),
        };
        let now = Instant::now();
        st.log.push((now, method.clone(), full));
        if let Some((n, window)) = st.rate {
            let recent = st
                .log
                .iter()
                .filter(|(t, ..)| now.duration_since(*t) < window)
                .count();
            if recent > n {
                st.rate_refusals += 1;
                return fault_response(Fault::RateLimited(None));
            }
        }
        if let Some(i) = st
            .targeted
            .iter()
            .position(|(m, p, _)| *m == method && path.starts_with(p.as_str()))
        {
            let (_, _, f) = st.targeted.remove(i);
            return fault_response(f);
        }
        if let Some(f) = st.faults.pop_front() {
            return fault_response(f);
        }
        if req.headers.get("authorization").is_none() {
            return gateway(401, json!("Unauthorized"));
        }
        let q: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        match (method.as_str(), path.as_str()) {
            ("GET", "/v1/profile") => {
                ResponseTemplate::new(200).set_body_json(json!({"companyName": "Mock"}))
            }
            ("GET", "/v1/contacts") => list_contacts(&st, &q),
            ("POST", "/v1/contacts") => create_contact(&mut st, body),
            ("GET", p) if p.starts_with("/v1/contacts/") => {
                match p[13..]
                    .parse::<Uuid>()
                    .ok()
                    .and_then(|id| st.contacts.get(&id))
                {
                    Some(c) => ResponseTemplate::new(200).set_body_json(c),
                    None => ResponseTemplate::new(404).set_body_json(json!({"IssueList": []})),
                }
            }
            ("PUT", p) if p.starts_with("/v1/contacts/") => match p[13..].parse::<Uuid>() {
                Ok(id) => update_contact(&mut st, id, body),
                Err(_) => ResponseTemplate::new(404),
            },
            ("GET", "/v1/voucherlist") => voucher_list(&st, &q),
            _ => gateway(403, json!("Missing Authentication Token")),
        }
    }
}

fn list_contacts(st: &State, q: &BTreeMap<String, String>) -> ResponseTemplate {
    for key in ["name", "email"] {
        if let Some(v) = q.get(key) {
            let len = unlike(&unhtml(v)).chars().count();
            if !(3..=128).contains(&len) {
                return ResponseTemplate::new(400).set_body_json(json!({"IssueList":[{
                    "i18nKey":"bad_request_error","source":"size must be between 3 and 128","type":"bad_request_error"}]}));
            }
        }
    }
    if q.get("number").is_some_and(|n| n.parse::<i64>().is_err()) {
        return issue(400, "number", "invalid_value");
    }
    let name = q.get("name").map(|v| unlike(&unhtml(v)).to_lowercase());
    let email = q.get("email").map(|v| unlike(&unhtml(v)).to_lowercase());
    let number = q.get("number").and_then(|n| n.parse::<i64>().ok());
    let items: Vec<Value> = st
        .contacts
        .values()
        .filter(|c| {
            let display = c["company"]["name"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| {
                    format!(
                        "{} {}",
                        c["person"]["firstName"].as_str().unwrap_or(""),
                        c["person"]["lastName"].as_str().unwrap_or("")
                    )
                });
            let emails = c["emailAddresses"].to_string().to_lowercase();
            name.as_ref()
                .is_none_or(|n| display.to_lowercase().contains(n))
                && email.as_ref().is_none_or(|e| emails.contains(e))
                && number.is_none_or(|n| c["roles"]["customer"]["number"].as_i64() == Some(n))
        })
        .cloned()
        .collect();
    let page = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let size = q
        .get("size")
        .and_then(|p| p.parse().ok())
        .filter(|s| *s <= 500)
        .unwrap_or(25);
    ResponseTemplate::new(200).set_body_json(page_of(items, page, size, None))
}

fn too_long(c: &Value) -> bool {
    let lists = [
        &c["addresses"]["billing"],
        &c["addresses"]["shipping"],
        &c["company"]["contactPersons"],
    ];
    lists
        .iter()
        .any(|l| l.as_array().is_some_and(|a| a.len() > 1))
        || ["emailAddresses", "phoneNumbers"].iter().any(|k| {
            c[*k].as_object().is_some_and(|m| {
                m.values()
                    .any(|l| l.as_array().is_some_and(|a| a.len() > 1))
            })
        })
}

fn action(id: Uuid, version: i64, status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "id": id, "resourceUri": format!("https://api.lexware.io/v1/contacts/{id}"),
        "createdDate": "2026-12-02T06:00:00.000+01:00", "updatedDate": "2026-12-02T06:00:00.000+01:00",
        "version": version}))
}

fn create_contact(st: &mut State, mut body: Value) -> ResponseTemplate {
    if body["version"] != json!(0) {
        return issue(406, "version", "invalid_value");
    }
    if body.get("company").is_none() && body.get("person").is_none() {
        return issue(406, "company or person", "missing_entity");
    }
    if body["company"].is_object()
        && body["company"]["name"]
            .as_str()
            .is_none_or(|n| n.trim().is_empty())
    {
        return issue(406, "company.name", "missing_entity");
    }
    if too_long(&body) {
        return issue(406, "addresses.billing.size", "invalid_value");
    }
    let id = Uuid::now_v7();
    body["id"] = json!(id);
    body["version"] = json!(1);
    body["roles"] = json!({"customer": {"number": 20000 + st.contacts.len()}});
    st.contacts.insert(id, body);
    action(id, 1, 201)
}

fn update_contact(st: &mut State, id: Uuid, mut body: Value) -> ResponseTemplate {
    let stale_409 = st.stale_409;
    if st.race_on_put.as_ref().is_some_and(|(rid, _)| *rid == id) {
        let (_, edit) = st.race_on_put.take().unwrap();
        let c = st.contacts.get_mut(&id).unwrap();
        edit(c);
        let v = c["version"].as_i64().unwrap();
        c["version"] = json!(v + 1);
    }
    let Some(current) = st.contacts.get_mut(&id) else {
        return ResponseTemplate::new(404).set_body_json(json!({"IssueList": []}));
    };
    if body.get("version").is_none_or(Value::is_null) {
        return issue(406, "version", "missing_entity");
    }
    if body["version"] != current["version"] {
        return if stale_409 {
            regular(409, "/v1/contacts", "outdated version")
        } else {
            issue(406, "version", "invalid_value")
        };
    }
    if too_long(&body) || too_long(current) {
        return issue(406, "emailAddresses", "invalid_value");
    }
    let v = current["version"].as_i64().unwrap() + 1;
    body["version"] = json!(v);
    body["id"] = json!(id);
    body["roles"] = current["roles"].clone();
    *current = body;
    action(id, v, 200)
}

fn voucher_list(st: &State, q: &BTreeMap<String, String>) -> ResponseTemplate {
    if !q.contains_key("voucherType") || !q.contains_key("voucherStatus") {
        return regular(
            400,
            "/v1/voucherlist",
            "Missing required request parameters",
        );
    }
    let size: usize = q.get("size").and_then(|s| s.parse().ok()).unwrap_or(25);
    if size > 250 {
        return regular(
            400,
            "/v1/voucherlist",
            "parameter 'size' must be equal or lower than 250",
        );
    }
    let page: usize = q.get("page").and_then(|s| s.parse().ok()).unwrap_or(0);
    let types: Vec<&str> = q["voucherType"].split(',').collect();
    let day = |v: &Value, k: &str| {
        v[k].as_str()
            .map(|s| s[..10].to_string())
            .unwrap_or_default()
    };
    let mut items: Vec<Value> = st
        .vouchers
        .iter()
        .filter(|v| types.contains(&"any") || types.iter().any(|t| v["voucherType"] == json!(t)))
        .filter(|v| {
            q.get("contactId")
                .is_none_or(|c| v["contactId"].as_str() == Some(c))
        })
        .filter(|v| {
            q.get("updatedDateFrom")
                .is_none_or(|d| day(v, "updatedDate") >= *d)
        })
        .filter(|v| {
            q.get("voucherDateFrom")
                .is_none_or(|d| day(v, "voucherDate") >= *d)
        })
        .filter(|v| {
            q.get("voucherDateTo")
                .is_none_or(|d| day(v, "voucherDate") <= *d)
        })
        .cloned()
        .collect();
    items.sort_by_key(|v| std::cmp::Reverse(day(v, "voucherDate")));
    if (page + 1) * size > 10_000 && items.len() > 10_000 {
        return regular(
            400,
            "/v1/voucherlist",
            "Maximum search window size exceeded",
        );
    }
    ResponseTemplate::new(200).set_body_json(page_of(items, page, size, Some(10_000)))
}
