-- Lexware Office integration: sync state on the contact links, voucher fields the CRM
-- shows, the organization's API key, the shared request bucket and the link of cached
-- vouchers to deals (deal_vouchers exists already).

-- The link remembers the field values both sides agreed on at the last sync (`base`), so a
-- field changed on one side only is carried over and a field changed on both sides is a
-- conflict; open conflicts and the last problem are kept for `crm lexware status`.
alter table lexware_contact_links
    add column base jsonb not null default '{}',
    add column conflicts jsonb not null default '[]',
    add column updatable boolean not null default true,
    add column last_error text,
    add column vouchers_refreshed_at timestamptz;
create index lexware_links_round_robin_idx
    on lexware_contact_links (org_id, synced_at nulls first, id);

alter table lexware_vouchers
    add column open_amount numeric(18, 2),
    add column due_date date,
    add column archived boolean not null default false,
    add column updated_date timestamptz;

-- One row per organization: its private API key for Lexware Office. Only owners and
-- admins read it (checked by the library); it is never written to the audit log.
create table lexware_settings (
    org_id uuid not null references organizations (id) on delete cascade,
    api_key text not null check (length(api_key) between 1 and 500),
    configured_by uuid,
    updated_at timestamptz not null default now(),
    primary key (org_id)
);
select crm_enable_tenancy('lexware_settings');

-- The organization's request pacer, shared by every process working for it: the earliest
-- time the next request to Lexware Office may be sent.
create table lexware_rate_buckets (
    org_id uuid not null references organizations (id) on delete cascade,
    next_free timestamptz not null default now(),
    primary key (org_id)
);
select crm_enable_tenancy('lexware_rate_buckets');
