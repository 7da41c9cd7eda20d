//! The table and CSV forms of what `crm gdpr` prints.

use crm_core::gdpr::{
    Consent, ContactWithoutConsent, ErasureReceipt, RetentionSummary, TableExport,
};
use serde::Serialize;

use crate::output::{self, Row};

/// The names of the counts of an erasure receipt, in column order.
pub(super) const COUNT_FIELDS: &[&str] = &[
    "contacts",
    "emails",
    "phones",
    "activities",
    "activities_detached",
    "consents",
    "deals_detached",
    "audit_redacted",
    "events_purged",
    "lexware_links",
    "vouchers_redacted",
];

/// The counts of an erasure receipt, in the order of [`COUNT_FIELDS`].
pub(super) fn counts_of(r: &ErasureReceipt) -> Vec<String> {
    let v = serde_json::to_value(r.counts).unwrap_or_default();
    COUNT_FIELDS
        .iter()
        .map(|k| v.get(*k).map(|n| n.to_string()).unwrap_or_default())
        .collect()
}

impl Row for ErasureReceipt {
    fn headers() -> Vec<&'static str> {
        let mut h = vec![
            "receipt_id",
            "erased_at",
            "actor_id",
            "subject_id",
            "dry_run",
        ];
        h.extend_from_slice(COUNT_FIELDS);
        h.push("email_hashes");
        h
    }
    fn cells(&self) -> Vec<String> {
        let mut c = vec![
            output::opt(&self.receipt_id),
            self.erased_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            output::opt(&self.actor_id),
            self.subject_id.to_string(),
            self.dry_run.to_string(),
        ];
        c.extend(counts_of(self));
        c.push(self.email_hashes.join(" "));
        c
    }
}

impl Row for Consent {
    fn headers() -> Vec<&'static str> {
        vec![
            "id",
            "contact_id",
            "purpose",
            "status",
            "source",
            "recorded_at",
            "actor_id",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.contact_id.to_string(),
            self.purpose.clone(),
            self.status.clone(),
            self.source.clone(),
            self.recorded_at.to_rfc3339(),
            output::opt(&self.actor_id),
        ]
    }
}

impl Row for ContactWithoutConsent {
    fn headers() -> Vec<&'static str> {
        vec!["id", "first_name", "last_name", "email", "status"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.first_name.clone(),
            self.last_name.clone(),
            output::opt(&self.email),
            self.status.clone().unwrap_or_else(|| "never asked".into()),
        ]
    }
}

impl Row for RetentionSummary {
    fn headers() -> Vec<&'static str> {
        vec![
            "cutoff",
            "older_than_secs",
            "contacts",
            "companies",
            "deals",
            "activities",
            "activities_unlinked",
            "audit_redacted",
            "events_purged",
            "dry_run",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.cutoff.to_rfc3339(),
            self.older_than_secs.to_string(),
            self.contacts.to_string(),
            self.companies.to_string(),
            self.deals.to_string(),
            self.activities.to_string(),
            self.activities_unlinked.to_string(),
            self.audit_redacted.to_string(),
            self.events_purged.to_string(),
            self.dry_run.to_string(),
        ]
    }
}

impl Row for TableExport {
    fn headers() -> Vec<&'static str> {
        vec!["table", "rows", "file"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.table.clone(),
            self.rows.to_string(),
            self.file.display().to_string(),
        ]
    }
}

#[derive(Serialize)]
pub(super) struct WasErased {
    pub(super) erased: bool,
}

impl Row for WasErased {
    fn headers() -> Vec<&'static str> {
        vec!["erased"]
    }
    fn cells(&self) -> Vec<String> {
        vec![if self.erased { "yes" } else { "no" }.into()]
    }
}

#[derive(Serialize)]
pub(super) struct RetentionDays {
    pub(super) retention_days: i32,
}

impl Row for RetentionDays {
    fn headers() -> Vec<&'static str> {
        vec!["retention_days"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.retention_days.to_string()]
    }
}

#[derive(Serialize)]
pub(super) struct Deleted {
    pub(super) org_id: crm_core::OrgId,
    pub(super) slug: String,
    pub(super) deleted_at: chrono::DateTime<chrono::Utc>,
}

impl Row for Deleted {
    fn headers() -> Vec<&'static str> {
        vec!["org_id", "slug", "deleted_at"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.org_id.to_string(),
            self.slug.clone(),
            self.deleted_at.to_rfc3339(),
        ]
    }
}
