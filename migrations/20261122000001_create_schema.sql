-- The CRM schema: every tenant table carries org_id, keys and foreign keys include it, and
-- row-level security (enabled and forced) confines the application role `crm_app` to the
-- organization set for the transaction with set_config('crm.org_id', ..., true).
--
-- Runs as the schema owner (a superuser or a role with BYPASSRLS): the SECURITY DEFINER
-- search and audit functions below rely on their owner bypassing row-level security.

create extension if not exists pg_trgm;
create extension if not exists unaccent;

-- The application role: owns nothing, cannot bypass row-level security.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'crm_app') then
        create role crm_app nologin nobypassrls;
    end if;
    -- Let the connecting (owner) role switch to crm_app with SET ROLE.
    if not exists (
        select 1 from pg_auth_members m
        join pg_roles r on r.oid = m.roleid
        join pg_roles u on u.oid = m.member
        where r.rolname = 'crm_app' and u.rolname = current_user
    ) then
        execute format('grant crm_app to %I', current_user);
    end if;
end
$$;

grant usage on schema public to crm_app;

-- ---------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------

-- The organization of the current transaction, or null when none is set.
create function crm_org() returns uuid
language sql stable parallel safe
as $$ select nullif(current_setting('crm.org_id', true), '')::uuid $$;

-- The acting user of the current transaction, or null.
create function crm_actor() returns uuid
language sql stable parallel safe
as $$ select nullif(current_setting('crm.actor_id', true), '')::uuid $$;

-- Search normalisation: lower case, German spellings folded (ä→ae, ö→oe, ü→ue, ß→ss),
-- then other accents removed. Must match crm_core::domain::fold_for_search.
create function crm_fold(t text) returns text
language sql immutable parallel safe strict
set search_path = public, pg_temp
as $$
    select regexp_replace(
        public.unaccent('public.unaccent'::regdictionary,
            replace(replace(replace(replace(lower(t), 'ä', 'ae'), 'ö', 'oe'), 'ü', 'ue'), 'ß', 'ss')),
        '\s+', ' ', 'g')
$$;

-- Keeps updated_at and version: every update bumps the version the next writer must name.
create function crm_touch() returns trigger
language plpgsql
as $$
begin
    new.updated_at := now();
    new.version := old.version + 1;
    return new;
end
$$;

-- Enables the tenant policy on a table: row-level security enabled and forced, one policy
-- for every command, and the app role's privileges. Later migrations call it for new tables.
create function crm_enable_tenancy(t regclass, privileges text default 'select, insert, update, delete')
returns void
language plpgsql
as $$
begin
    execute format('alter table %s enable row level security', t);
    execute format('alter table %s force row level security', t);
    execute format(
        'create policy tenant_isolation on %s as permissive for all to public '
        'using (org_id = nullif(current_setting(''crm.org_id'', true), '''')::uuid) '
        'with check (org_id = nullif(current_setting(''crm.org_id'', true), '''')::uuid)', t);
    execute format('grant %s on %s to crm_app', privileges, t);
end
$$;

-- ---------------------------------------------------------------------------------------
-- Organizations and users
-- ---------------------------------------------------------------------------------------

create table organizations (
    id uuid primary key,
    name text not null check (length(btrim(name)) between 1 and 200),
    slug text not null constraint organizations_slug_key unique
        check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    retention_days integer not null default 30 check (retention_days between 1 and 3650),
    default_currency char(3) not null default 'EUR' check (default_currency ~ '^[A-Z]{3}$'),
    default_region char(2) not null default 'DE' check (default_region ~ '^[A-Z]{2}$'),
    settings jsonb not null default '{}',
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create trigger organizations_touch before update on organizations
    for each row execute function crm_touch();
-- Organizations are listed and created by the application; only the current one can be
-- changed or deleted.
alter table organizations enable row level security;
alter table organizations force row level security;
create policy org_read on organizations for select using (true);
create policy org_create on organizations for insert with check (true);
create policy org_update on organizations for update
    using (id = nullif(current_setting('crm.org_id', true), '')::uuid);
create policy org_delete on organizations for delete
    using (id = nullif(current_setting('crm.org_id', true), '')::uuid);
grant select, insert, update, delete on organizations to crm_app;

create table teams (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    name text not null check (length(btrim(name)) between 1 and 200),
    created_at timestamptz not null default now(),
    primary key (org_id, id),
    constraint teams_name_unique unique (org_id, name)
);

create table users (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    email text not null,
    email_norm text not null,
    first_name text not null default '',
    last_name text not null default '',
    role text not null check (role in ('owner', 'admin', 'manager', 'user', 'read_only')),
    team_id uuid,
    active boolean not null default true,
    password_hash text,
    failed_logins integer not null default 0,
    locked_until timestamptz,
    last_login_at timestamptz,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz,
    primary key (org_id, id),
    constraint users_email_unique unique (org_id, email_norm),
    foreign key (org_id, team_id) references teams (org_id, id) on delete set null (team_id)
);
create index users_team_idx on users (org_id, team_id);
create trigger users_touch before update on users for each row execute function crm_touch();

-- Refresh-token families: only hashes are stored. A reused refresh token revokes its family.
create table sessions (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    user_id uuid not null,
    family_id uuid not null,
    access_hash bytea not null,
    refresh_hash bytea not null,
    access_expires_at timestamptz not null,
    refresh_expires_at timestamptz not null,
    rotated_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz not null default now(),
    primary key (org_id, id),
    foreign key (org_id, user_id) references users (org_id, id) on delete cascade
);
create unique index sessions_access_idx on sessions (org_id, access_hash);
create unique index sessions_refresh_idx on sessions (org_id, refresh_hash);
create index sessions_user_idx on sessions (org_id, user_id);
create index sessions_family_idx on sessions (org_id, family_id);

-- ---------------------------------------------------------------------------------------
-- Admin-configurable lists
-- ---------------------------------------------------------------------------------------

create table industries (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    key text not null check (key ~ '^[a-z0-9_]{1,64}$'),
    label_en text not null,
    label_de text not null,
    position integer not null default 0,
    active boolean not null default true,
    primary key (org_id, id),
    constraint industries_key_unique unique (org_id, key)
);

create table account_types (like industries including all);
alter table account_types add foreign key (org_id) references organizations (id) on delete cascade;

create table relationship_types (like industries including all);
alter table relationship_types add foreign key (org_id) references organizations (id) on delete cascade;

create table lost_reasons (like industries including all);
alter table lost_reasons add foreign key (org_id) references organizations (id) on delete cascade;

create table tags (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    name text not null check (length(btrim(name)) between 1 and 100),
    name_norm text not null,
    color text,
    created_at timestamptz not null default now(),
    primary key (org_id, id),
    constraint tags_name_unique unique (org_id, name_norm)
);

-- ---------------------------------------------------------------------------------------
-- Companies
-- ---------------------------------------------------------------------------------------

create table companies (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    name text not null check (length(btrim(name)) between 1 and 300),
    name_norm text generated always as (crm_fold(btrim(name))) stored,
    domain text,
    website text,
    industry_id uuid,
    account_type_id uuid,
    vat_id text,
    tax_id text,
    trade_register_number text,
    trade_register_court text,
    size text not null default 'unknown'
        check (size in ('micro', 'small', 'medium', 'large', 'unknown')),
    status text not null default 'active' check (status in ('active', 'inactive', 'blocked')),
    billing_street text,
    billing_postal_code text,
    billing_city text,
    billing_country char(2),
    delivery_street text,
    delivery_postal_code text,
    delivery_city text,
    delivery_country char(2),
    email text,
    phone text,
    custom jsonb not null default '{}',
    import_run_id uuid,
    search_text text generated always as (
        crm_fold(name || ' ' || coalesce(domain, '') || ' ' || coalesce(email, '') || ' '
            || coalesce(phone, '') || ' ' || coalesce(vat_id, '') || ' ' || coalesce(billing_city, ''))
    ) stored,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz,
    primary key (org_id, id),
    foreign key (org_id, industry_id) references industries (org_id, id) on delete set null (industry_id),
    foreign key (org_id, account_type_id) references account_types (org_id, id) on delete set null (account_type_id)
);
create unique index companies_vat_unique on companies (org_id, vat_id)
    where deleted_at is null and vat_id is not null;
create index companies_domain_idx on companies (org_id, domain) where domain is not null;
create index companies_name_idx on companies (org_id, name_norm);
create index companies_search_idx on companies using gin (search_text gin_trgm_ops);
create index companies_industry_idx on companies (org_id, industry_id);
create index companies_account_type_idx on companies (org_id, account_type_id);
create index companies_import_idx on companies (org_id, import_run_id) where import_run_id is not null;
create trigger companies_touch before update on companies for each row execute function crm_touch();

create table company_relationships (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    from_company_id uuid not null,
    to_company_id uuid not null,
    type_id uuid not null,
    note text,
    created_at timestamptz not null default now(),
    primary key (org_id, id),
    check (from_company_id <> to_company_id),
    constraint company_relationships_unique unique (org_id, from_company_id, to_company_id, type_id),
    foreign key (org_id, from_company_id) references companies (org_id, id) on delete cascade,
    foreign key (org_id, to_company_id) references companies (org_id, id) on delete cascade,
    foreign key (org_id, type_id) references relationship_types (org_id, id)
);
create index company_relationships_to_idx on company_relationships (org_id, to_company_id);
create index company_relationships_type_idx on company_relationships (org_id, type_id);

-- ---------------------------------------------------------------------------------------
-- Contacts
-- ---------------------------------------------------------------------------------------

create table contacts (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    company_id uuid,
    salutation text,
    title text,
    first_name text not null default '',
    last_name text not null default '',
    job_title text,
    department text,
    linkedin_url text,
    birthday date,
    source text not null default 'other' check (source in
        ('website', 'referral', 'event', 'cold_outreach', 'partner', 'import', 'lexware', 'other')),
    status text not null default 'active' check (status in ('active', 'inactive', 'blocked')),
    -- The primary e-mail and phone, kept equal to the rows marked primary in
    -- contact_emails / contact_phones: uniqueness, dedup and search read them here.
    email text,
    email_norm text,
    phone text,
    city text,
    custom jsonb not null default '{}',
    import_run_id uuid,
    search_text text generated always as (
        crm_fold(first_name || ' ' || last_name || ' ' || coalesce(email_norm, '') || ' '
            || coalesce(phone, ''))
    ) stored,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz,
    primary key (org_id, id),
    check (length(btrim(first_name)) > 0 or length(btrim(last_name)) > 0 or email is not null),
    foreign key (org_id, company_id) references companies (org_id, id) on delete set null (company_id)
);
create unique index contacts_email_unique on contacts (org_id, email_norm)
    where deleted_at is null and email_norm is not null;
create index contacts_company_idx on contacts (org_id, company_id);
create index contacts_last_name_idx on contacts (org_id, last_name);
create index contacts_search_idx on contacts using gin (search_text gin_trgm_ops);
create index contacts_import_idx on contacts (org_id, import_run_id) where import_run_id is not null;
create trigger contacts_touch before update on contacts for each row execute function crm_touch();

create table contact_emails (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    contact_id uuid not null,
    email text not null,
    email_norm text not null,
    kind text not null default 'work' check (kind in ('work', 'personal', 'other')),
    is_primary boolean not null default false,
    created_at timestamptz not null default now(),
    primary key (org_id, id),
    constraint contact_emails_unique unique (org_id, contact_id, email_norm),
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete cascade
);
create unique index contact_emails_one_primary on contact_emails (org_id, contact_id) where is_primary;
create index contact_emails_norm_idx on contact_emails (org_id, email_norm);

create table contact_phones (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    contact_id uuid not null,
    number_e164 text not null check (number_e164 ~ '^\+[1-9][0-9]{4,14}$'),
    number_raw text not null,
    kind text not null default 'office' check (kind in ('office', 'mobile', 'fax', 'other')),
    is_primary boolean not null default false,
    created_at timestamptz not null default now(),
    primary key (org_id, id),
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete cascade
);
create unique index contact_phones_one_primary on contact_phones (org_id, contact_id) where is_primary;
create index contact_phones_contact_idx on contact_phones (org_id, contact_id);
create index contact_phones_number_idx on contact_phones (org_id, number_e164);

create table company_emails (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    company_id uuid not null,
    email text not null,
    email_norm text not null,
    kind text not null default 'work' check (kind in ('work', 'personal', 'other')),
    is_primary boolean not null default false,
    created_at timestamptz not null default now(),
    primary key (org_id, id),
    constraint company_emails_unique unique (org_id, company_id, email_norm),
    foreign key (org_id, company_id) references companies (org_id, id) on delete cascade
);
create unique index company_emails_one_primary on company_emails (org_id, company_id) where is_primary;

create table company_phones (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    company_id uuid not null,
    number_e164 text not null check (number_e164 ~ '^\+[1-9][0-9]{4,14}$'),
    number_raw text not null,
    kind text not null default 'office' check (kind in ('office', 'mobile', 'fax', 'other')),
    is_primary boolean not null default false,
    created_at timestamptz not null default now(),
    primary key (org_id, id),
    foreign key (org_id, company_id) references companies (org_id, id) on delete cascade
);
create unique index company_phones_one_primary on company_phones (org_id, company_id) where is_primary;
create index company_phones_company_idx on company_phones (org_id, company_id);

create table contact_tags (
    org_id uuid not null references organizations (id) on delete cascade,
    contact_id uuid not null,
    tag_id uuid not null,
    primary key (org_id, contact_id, tag_id),
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete cascade,
    foreign key (org_id, tag_id) references tags (org_id, id) on delete cascade
);
create index contact_tags_tag_idx on contact_tags (org_id, tag_id);

create table company_tags (
    org_id uuid not null references organizations (id) on delete cascade,
    company_id uuid not null,
    tag_id uuid not null,
    primary key (org_id, company_id, tag_id),
    foreign key (org_id, company_id) references companies (org_id, id) on delete cascade,
    foreign key (org_id, tag_id) references tags (org_id, id) on delete cascade
);
create index company_tags_tag_idx on company_tags (org_id, tag_id);

create table contact_owners (
    org_id uuid not null references organizations (id) on delete cascade,
    contact_id uuid not null,
    user_id uuid not null,
    role text not null default 'owner' check (role in ('owner', 'member', 'watcher')),
    primary key (org_id, contact_id, user_id),
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete cascade,
    foreign key (org_id, user_id) references users (org_id, id) on delete cascade
);
create index contact_owners_user_idx on contact_owners (org_id, user_id);

create table company_owners (
    org_id uuid not null references organizations (id) on delete cascade,
    company_id uuid not null,
    user_id uuid not null,
    role text not null default 'owner' check (role in ('owner', 'member', 'watcher')),
    primary key (org_id, company_id, user_id),
    foreign key (org_id, company_id) references companies (org_id, id) on delete cascade,
    foreign key (org_id, user_id) references users (org_id, id) on delete cascade
);
create index company_owners_user_idx on company_owners (org_id, user_id);

-- GDPR consent history: one row per grant or revocation, never updated.
create table consents (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    contact_id uuid not null,
    purpose text not null default 'marketing',
    status text not null check (status in ('granted', 'revoked')),
    source text not null,
    recorded_at timestamptz not null default now(),
    actor_id uuid,
    primary key (org_id, id),
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete cascade
);
create index consents_contact_idx on consents (org_id, contact_id, recorded_at);

-- ---------------------------------------------------------------------------------------
-- Pipelines, stages, deals
-- ---------------------------------------------------------------------------------------

create table pipelines (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    name text not null check (length(btrim(name)) between 1 and 200),
    is_default boolean not null default false,
    position integer not null default 0,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz,
    primary key (org_id, id),
    constraint pipelines_name_unique unique (org_id, name)
);
create unique index pipelines_one_default on pipelines (org_id) where is_default and deleted_at is null;
create trigger pipelines_touch before update on pipelines for each row execute function crm_touch();

create table stages (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    pipeline_id uuid not null,
    name text not null check (length(btrim(name)) between 1 and 200),
    position integer not null check (position >= 0),
    probability numeric(5, 2) not null check (probability between 0 and 100),
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (org_id, id),
    constraint stages_pipeline_id_unique unique (org_id, pipeline_id, id),
    constraint stages_position_unique unique (org_id, pipeline_id, position) deferrable initially immediate,
    constraint stages_name_unique unique (org_id, pipeline_id, name),
    foreign key (org_id, pipeline_id) references pipelines (org_id, id) on delete cascade
);
create trigger stages_touch before update on stages for each row execute function crm_touch();

create table deals (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    title text not null check (length(btrim(title)) between 1 and 300),
    value numeric(18, 2) not null default 0 check (value >= 0),
    currency char(3) not null default 'EUR' check (currency ~ '^[A-Z]{3}$'),
    pipeline_id uuid not null,
    stage_id uuid not null,
    contact_id uuid,
    company_id uuid,
    status text not null default 'open' check (status in ('open', 'won', 'lost')),
    lost_reason_id uuid,
    lost_reason_text text,
    expected_close_date date,
    closed_at timestamptz,
    custom jsonb not null default '{}',
    import_run_id uuid,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz,
    primary key (org_id, id),
    constraint deals_lost_needs_reason check (status <> 'lost' or lost_reason_id is not null),
    constraint deals_reason_only_when_lost check (status = 'lost' or (lost_reason_id is null and lost_reason_text is null)),
    constraint deals_closed_has_time check ((status = 'open') = (closed_at is null)),
    foreign key (org_id, pipeline_id, stage_id) references stages (org_id, pipeline_id, id),
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete set null (contact_id),
    foreign key (org_id, company_id) references companies (org_id, id) on delete set null (company_id),
    foreign key (org_id, lost_reason_id) references lost_reasons (org_id, id)
);
create index deals_stage_idx on deals (org_id, pipeline_id, stage_id) where deleted_at is null;
create index deals_stage_fk_idx on deals (org_id, stage_id);
create index deals_contact_idx on deals (org_id, contact_id);
create index deals_company_idx on deals (org_id, company_id);
create index deals_lost_reason_idx on deals (org_id, lost_reason_id);
create index deals_status_idx on deals (org_id, status, expected_close_date);
create trigger deals_touch before update on deals for each row execute function crm_touch();

create table deal_owners (
    org_id uuid not null references organizations (id) on delete cascade,
    deal_id uuid not null,
    user_id uuid not null,
    role text not null default 'owner' check (role in ('owner', 'member', 'watcher')),
    primary key (org_id, deal_id, user_id),
    foreign key (org_id, deal_id) references deals (org_id, id) on delete cascade,
    foreign key (org_id, user_id) references users (org_id, id) on delete cascade
);
create index deal_owners_user_idx on deal_owners (org_id, user_id);

create table deal_stage_history (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    deal_id uuid not null,
    from_stage_id uuid,
    to_stage_id uuid not null,
    moved_at timestamptz not null default now(),
    actor_id uuid,
    primary key (org_id, id),
    foreign key (org_id, deal_id) references deals (org_id, id) on delete cascade,
    foreign key (org_id, from_stage_id) references stages (org_id, id) on delete set null (from_stage_id),
    foreign key (org_id, to_stage_id) references stages (org_id, id) on delete cascade
);
create index deal_stage_history_deal_idx on deal_stage_history (org_id, deal_id, moved_at);
create index deal_stage_history_from_idx on deal_stage_history (org_id, from_stage_id);
create index deal_stage_history_to_idx on deal_stage_history (org_id, to_stage_id);

-- ---------------------------------------------------------------------------------------
-- Activities
-- ---------------------------------------------------------------------------------------

create table activities (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    kind text not null check (kind in ('note', 'call', 'email', 'meeting', 'task', 'followup')),
    subject text not null check (length(btrim(subject)) between 1 and 500),
    body text,
    due_at timestamptz,
    done_at timestamptz,
    assignee_id uuid,
    contact_id uuid,
    company_id uuid,
    deal_id uuid,
    import_run_id uuid,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz,
    primary key (org_id, id),
    constraint activities_needs_link check (num_nonnulls(contact_id, company_id, deal_id) >= 1),
    foreign key (org_id, assignee_id) references users (org_id, id) on delete set null (assignee_id),
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete cascade,
    foreign key (org_id, company_id) references companies (org_id, id) on delete cascade,
    foreign key (org_id, deal_id) references deals (org_id, id) on delete cascade
);
create index activities_contact_idx on activities (org_id, contact_id);
create index activities_company_idx on activities (org_id, company_id);
create index activities_deal_idx on activities (org_id, deal_id);
create index activities_assignee_idx on activities (org_id, assignee_id);
create index activities_due_idx on activities (org_id, due_at) where done_at is null and deleted_at is null;
create trigger activities_touch before update on activities for each row execute function crm_touch();

-- ---------------------------------------------------------------------------------------
-- Audit log (hash chain per organization) and event outbox
-- ---------------------------------------------------------------------------------------

create table audit_heads (
    org_id uuid primary key references organizations (id) on delete cascade,
    seq bigint not null default 0,
    hash bytea not null default '\x'
);

create table audit_log (
    org_id uuid not null references organizations (id) on delete cascade,
    seq bigint not null,
    id uuid not null,
    at timestamptz not null,
    actor_id uuid,
    entity_type text not null,
    entity_id uuid,
    action text not null,
    -- Field-level before/after diff or the batch's ids; null once redacted.
    payload jsonb,
    digest bytea not null,
    prev_hash bytea not null,
    hash bytea not null,
    redacted_at timestamptz,
    primary key (org_id, seq),
    constraint audit_log_id_unique unique (org_id, id)
);
create index audit_log_entity_idx on audit_log (org_id, entity_type, entity_id);
create index audit_log_actor_idx on audit_log (org_id, actor_id, at);

-- The hash of one entry: previous hash, payload digest and the entry's fixed fields.
create function crm_audit_hash(
    p_prev bytea, p_digest bytea, p_org uuid, p_seq bigint, p_at timestamptz, p_actor uuid,
    p_entity_type text, p_entity_id uuid, p_action text
) returns bytea
language sql immutable parallel safe
as $$
    select sha256(p_prev || p_digest || convert_to(concat_ws('|',
        p_org::text, p_seq::text, (extract(epoch from p_at) * 1000000)::bigint::text,
        coalesce(p_actor::text, ''), p_entity_type, coalesce(p_entity_id::text, ''), p_action
    ), 'UTF8'))
$$;

-- Appends one entry to the current organization's chain. Runs as the caller (row-level
-- security applies); the head row's lock serialises writers of one organization.
create function crm_audit(p_entity_type text, p_entity_id uuid, p_action text, p_payload jsonb)
returns bigint
language plpgsql
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_actor uuid := nullif(current_setting('crm.actor_id', true), '')::uuid;
    v_at timestamptz := date_trunc('milliseconds', clock_timestamp());
    v_seq bigint;
    v_prev bytea;
    v_digest bytea := sha256(convert_to(coalesce(p_payload, 'null'::jsonb)::text, 'UTF8'));
    v_hash bytea;
begin
    if v_org is null then
        raise exception 'no organization set for this transaction' using errcode = '42501';
    end if;
    insert into audit_heads (org_id) values (v_org) on conflict (org_id) do nothing;
    -- Locks the head row: writers of one organization append one after the other.
    select seq + 1, hash into v_seq, v_prev from audit_heads where org_id = v_org for update;
    v_hash := crm_audit_hash(v_prev, v_digest, v_org, v_seq, v_at, v_actor, p_entity_type,
                             p_entity_id, p_action);
    insert into audit_log (org_id, seq, id, at, actor_id, entity_type, entity_id, action, payload,
                           digest, prev_hash, hash)
    values (v_org, v_seq, gen_random_uuid(), v_at, v_actor, p_entity_type, p_entity_id, p_action,
            p_payload, v_digest, v_prev, v_hash);
    update audit_heads set seq = v_seq, hash = v_hash where org_id = v_org;
    return v_seq;
end
$$;

-- Checks the current organization's chain: seq contiguous from 1, each prev_hash equal to
-- the previous entry's hash, each digest matching the payload (unless redacted), each hash
-- recomputed, and the head pointing at the last entry. Returns the number of entries
-- checked and, for the first problem, its seq and what is wrong.
create function crm_audit_verify(out checked bigint, out broken_seq bigint, out problem text)
language plpgsql stable
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    r record;
    v_expect_seq bigint := 1;
    v_prev bytea := '\x';
    v_head record;
begin
    checked := 0;
    for r in select * from audit_log where org_id = v_org order by seq loop
        if r.seq <> v_expect_seq then
            broken_seq := v_expect_seq; problem := 'entry missing'; return;
        end if;
        if r.prev_hash <> v_prev then
            broken_seq := r.seq; problem := 'previous hash does not match'; return;
        end if;
        if r.redacted_at is null
           and r.digest <> sha256(convert_to(coalesce(r.payload, 'null'::jsonb)::text, 'UTF8')) then
            broken_seq := r.seq; problem := 'payload was changed'; return;
        end if;
        if r.hash <> crm_audit_hash(r.prev_hash, r.digest, r.org_id, r.seq, r.at, r.actor_id,
                                    r.entity_type, r.entity_id, r.action) then
            broken_seq := r.seq; problem := 'entry fields were changed'; return;
        end if;
        v_prev := r.hash;
        v_expect_seq := r.seq + 1;
        checked := checked + 1;
    end loop;
    select seq, hash into v_head from audit_heads where org_id = v_org;
    if found and (v_head.seq <> v_expect_seq - 1 or v_head.hash <> v_prev) then
        broken_seq := v_expect_seq; problem := 'entries missing at the end of the chain';
    end if;
end
$$;

create table events (
    org_id uuid not null references organizations (id) on delete cascade,
    seq bigint generated always as identity,
    id uuid not null,
    topic text not null,
    entity_type text not null,
    entity_id uuid,
    actor_id uuid,
    payload jsonb not null default '{}',
    created_at timestamptz not null default now(),
    primary key (org_id, seq),
    constraint events_id_unique unique (org_id, id)
);
create index events_entity_idx on events (org_id, entity_id);

-- Writes one outbox event in the current transaction and announces it on commit.
create function crm_emit(p_topic text, p_entity_type text, p_entity_id uuid, p_payload jsonb)
returns bigint
language plpgsql
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_seq bigint;
begin
    -- Take the organization's audit head lock first: events of one organization are then
    -- written one transaction at a time, so their sequence numbers follow commit order and
    -- a consumer resuming after seq N can never miss a later-committed lower number.
    insert into audit_heads (org_id) values (v_org) on conflict (org_id) do nothing;
    perform 1 from audit_heads where org_id = v_org for update;
    insert into events (org_id, id, topic, entity_type, entity_id, actor_id, payload)
    values (v_org, gen_random_uuid(), p_topic, p_entity_type, p_entity_id,
            nullif(current_setting('crm.actor_id', true), '')::uuid, coalesce(p_payload, '{}'))
    returning seq into v_seq;
    perform pg_notify('crm_events', v_org::text || ':' || v_seq::text);
    return v_seq;
end
$$;

-- Last sequence number each named consumer has processed, per organization.
create table event_cursors (
    org_id uuid not null references organizations (id) on delete cascade,
    consumer text not null,
    last_seq bigint not null default 0,
    updated_at timestamptz not null default now(),
    primary key (org_id, consumer)
);

-- ---------------------------------------------------------------------------------------
-- GDPR, imports, Lexware
-- ---------------------------------------------------------------------------------------

-- Proof of an erasure without personal data: counts and a keyed hash of the e-mail.
create table erasure_receipts (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    erased_at timestamptz not null default now(),
    actor_id uuid,
    subject_id uuid not null,
    email_hashes bytea[] not null default '{}',
    counts jsonb not null default '{}',
    primary key (org_id, id)
);
create index erasure_receipts_subject_idx on erasure_receipts (org_id, subject_id);

create table import_runs (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    kind text not null check (kind in ('contacts', 'companies', 'deals')),
    file_name text,
    file_digest bytea,
    actor_id uuid,
    options jsonb not null default '{}',
    status text not null default 'running' check (status in ('running', 'finished', 'failed', 'dry_run')),
    rows_done bigint not null default 0,
    counts jsonb not null default '{}',
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    primary key (org_id, id)
);
create index import_runs_digest_idx on import_runs (org_id, file_digest);

create table lexware_contact_links (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    contact_id uuid,
    company_id uuid,
    lexware_id uuid not null,
    lexware_version integer not null default 0,
    synced_at timestamptz,
    local_version integer,
    created_at timestamptz not null default now(),
    primary key (org_id, id),
    constraint lexware_links_one_target check (num_nonnulls(contact_id, company_id) = 1),
    constraint lexware_links_lexware_unique unique (org_id, lexware_id),
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete cascade,
    foreign key (org_id, company_id) references companies (org_id, id) on delete cascade
);
create unique index lexware_links_contact_unique on lexware_contact_links (org_id, contact_id) where contact_id is not null;
create unique index lexware_links_company_unique on lexware_contact_links (org_id, company_id) where company_id is not null;

create table lexware_vouchers (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    lexware_id uuid not null,
    voucher_type text not null,
    voucher_number text,
    voucher_date date,
    voucher_status text,
    total_amount numeric(18, 2),
    currency char(3),
    lexware_contact_id uuid,
    payload jsonb not null default '{}',
    fetched_at timestamptz not null default now(),
    primary key (org_id, id),
    constraint lexware_vouchers_lexware_unique unique (org_id, lexware_id)
);
create index lexware_vouchers_contact_idx on lexware_vouchers (org_id, lexware_contact_id);

create table deal_vouchers (
    org_id uuid not null references organizations (id) on delete cascade,
    deal_id uuid not null,
    voucher_id uuid not null,
    linked_at timestamptz not null default now(),
    primary key (org_id, deal_id, voucher_id),
    foreign key (org_id, deal_id) references deals (org_id, id) on delete cascade,
    foreign key (org_id, voucher_id) references lexware_vouchers (org_id, id) on delete cascade
);
create index deal_vouchers_voucher_idx on deal_vouchers (org_id, voucher_id);

-- ---------------------------------------------------------------------------------------
-- Row-level security on every tenant table (every table with org_id but organizations)
-- ---------------------------------------------------------------------------------------

do $$
declare
    t regclass;
begin
    for t in
        select c.oid::regclass from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'r'
          and exists (select 1 from pg_attribute a
                      where a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped)
          and c.relname not in ('audit_log', 'audit_heads')
    loop
        perform crm_enable_tenancy(t);
    end loop;
end
$$;
-- The audit log is append-only for the application: no update, no delete.
select crm_enable_tenancy('audit_log', 'select, insert');
select crm_enable_tenancy('audit_heads', 'select, insert, update');
grant usage on all sequences in schema public to crm_app;

-- ---------------------------------------------------------------------------------------
-- Search (SECURITY DEFINER: trigram indexes are unusable under a policy, so the function
-- bypasses row-level security and filters on the transaction's organization itself; it
-- never takes the organization as a parameter).
-- ---------------------------------------------------------------------------------------

create function crm_search(p_query text, p_limit integer default 20)
returns table (kind text, id uuid, name text, email text, score real)
language plpgsql stable security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_q text := btrim(crm_fold(coalesce(p_query, '')));
    v_like text;
begin
    if v_org is null or length(v_q) = 0 then
        return;
    end if;
    v_like := '%' || replace(replace(replace(v_q, '\', '\\'), '%', '\%'), '_', '\_') || '%';
    perform set_config('pg_trgm.word_similarity_threshold', '0.5', true);
    return query
    with hits as (
        (select 'contact'::text as kind, c.id,
                btrim(c.first_name || ' ' || c.last_name) as name, c.email,
                (0.7 * word_similarity(v_q, c.search_text)
                 + case when c.search_text like v_like then 0.3 else 0 end)::real as score
         from contacts c
         where c.org_id = v_org and c.deleted_at is null
           and (v_q <% c.search_text or c.search_text like v_like)
         order by score desc
         limit p_limit)
        union all
        (select 'company'::text, co.id, co.name, co.email,
                (0.7 * word_similarity(v_q, co.search_text)
                 + case when co.search_text like v_like then 0.3 else 0 end)::real as score
         from companies co
         where co.org_id = v_org and co.deleted_at is null
           and (v_q <% co.search_text or co.search_text like v_like)
         order by score desc
         limit p_limit)
    )
    select h.kind, h.id, h.name, h.email, h.score from hits h
    order by h.score desc, h.name
    limit p_limit;
end
$$;
revoke all on function crm_search(text, integer) from public;
grant execute on function crm_search(text, integer) to crm_app;

-- Enters a tenant scope in one round trip: sets the organization and actor for the
-- current transaction only, and returns the actor's role and whether they may act.
create function crm_enter(p_org uuid, p_actor uuid, out role text, out active boolean)
language plpgsql
as $$
begin
    perform set_config('crm.org_id', p_org::text, true);
    perform set_config('crm.actor_id', coalesce(p_actor::text, ''), true);
    select u.role, u.active and u.deleted_at is null into role, active
    from users u where u.org_id = p_org and u.id = p_actor;
end
$$;
