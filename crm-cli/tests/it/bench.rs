//! `crm bench`: the GDPR and mixed-workload scenarios (issue 19) and the latency keys of
//! its JSON. Figures are never judged, only their presence, order and the work done.

use crm_core::testing::TestDb;
use serde_json::Value;

use crate::support::crm;

/// The scenario named `name` of a `crm bench --json` report.
fn scenario<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no scenario {name} in {report}"))
}

/// p50 <= p95 <= p99, all present as numbers, in `v` with the key prefix `prefix`.
#[track_caller]
fn ordered_percentiles(v: &Value, prefix: &str) {
    let p = |k: &str| {
        v[format!("{prefix}{k}")]
            .as_f64()
            .unwrap_or_else(|| panic!("{prefix}{k} missing in {v}"))
    };
    let (p50, p95, p99) = (p("p50_ms"), p("p95_ms"), p("p99_ms"));
    assert!(0.0 < p50 && p50 <= p95 && p95 <= p99, "{v}");
}

#[tokio::test]
async fn the_gdpr_and_mixed_scenarios_export_erase_and_work_concurrently_with_percentiles() {
    let db = TestDb::new().await;
    let run = crm(
        &db,
        &[
            "bench",
            "--size",
            "300",
            "--json",
            "--scenario",
            "search",
            "--scenario",
            "create_contact",
            "--scenario",
            "gdpr_subject_export",
            "--scenario",
            "gdpr_erasure",
            "--scenario",
            "mixed",
        ],
    )
    .expect(0);
    let report = run.json();
    let names: Vec<&str> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "search",
            "create_contact",
            "gdpr_subject_export",
            "gdpr_erasure",
            "mixed"
        ]
    );
    for name in &names {
        let s = scenario(&report, name);
        // The keys every scenario has kept, and the percentiles added.
        for key in ["seconds", "baseline_seconds", "ratio", "peak_rss_mb"] {
            assert!(s[key].is_number(), "{name}: {key} in {s}");
        }
        assert!(s["baseline"].is_string(), "{name}: {s}");
        ordered_percentiles(s, "");
    }

    // 300 imported contacts and 600 created by create_contact, five activities each; 20
    // persons, each with one more activity and two audit entries made through the library,
    // exported and then erased.
    let export = scenario(&report, "gdpr_subject_export");
    assert_eq!(export["persons"], 20, "{export}");
    assert_eq!(export["activities"], 4500, "{export}");
    assert_eq!(export["activities_per_export"], 6.0, "{export}");
    assert!(export["audit_entries_per_export"].as_f64().unwrap() >= 2.0);
    ordered_percentiles(export, "baseline_");
    let erasure = scenario(&report, "gdpr_erasure");
    assert_eq!(erasure["persons"], 20, "{erasure}");
    assert_eq!(erasure["activities_erased"], 120, "{erasure}");
    assert!(
        erasure["audit_redacted"].as_i64().unwrap() >= 40,
        "{erasure}"
    );
    ordered_percentiles(erasure, "baseline_");

    // Every operation of the mix ran, none failed, and the per-operation counts add up.
    let mixed = scenario(&report, "mixed");
    assert_eq!(mixed["failures"], 0, "{mixed}");
    assert_eq!(mixed["sessions"], 4, "{mixed}");
    assert!(mixed["version_conflicts"].is_u64(), "{mixed}");
    let ops = mixed["operations"].as_object().unwrap();
    let keys: Vec<&str> = ops.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 5, "{mixed}");
    let mut total = 0;
    for op in ["list", "show", "search", "update", "activity_add"] {
        let o = &ops[op];
        assert!(o["count"].as_u64().unwrap() > 0, "{op}: {o}");
        assert!(o["ops_per_s"].as_f64().unwrap() > 0.0, "{op}: {o}");
        ordered_percentiles(o, "");
        total += o["count"].as_u64().unwrap();
    }
    assert_eq!(mixed["operations_total"], total, "{mixed}");
}
