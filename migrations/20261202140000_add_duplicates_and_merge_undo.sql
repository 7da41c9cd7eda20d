-- Duplicates and merge (issue 17): detection helpers, "not a duplicate" marks, merges of
-- companies, and a record of every merge that lets it be undone.
--
--   * companies.merged_into_id: the company a (soft-deleted) company was merged into, with the
--     same guard as contacts.merged_into_id (20261202050300): only a merge writes it.
--   * record_merges: one row per merge (its id is the merge id the CLI prints): the survivor,
--     the records merged into it, a snapshot of every row the merge changed (before) and the
--     versions it left (after). Unmerge restores from it while nothing changed since. The
--     snapshot holds personal data of the merged records: the row goes when the survivor is
--     deleted for good (erasure, retention purge), by the foreign key.
--   * duplicate_dismissals: pairs a user marked "not a duplicate"; detection skips them.
--   * crm_name_key / crm_company_key: the normalised names detection compares.

-- ---------------------------------------------------------------------------------------
-- Normalised names
-- ---------------------------------------------------------------------------------------

-- A name for comparison: crm_fold (lower case, ä→ae ..., accents removed), then anything
-- but letters, digits and `|` as one space, trimmed. Inlinable (no SET clause), so it costs
-- one crm_fold call.
create function crm_name_key(t text) returns text
language sql immutable parallel safe strict
as $$
    select pg_catalog.btrim(pg_catalog.regexp_replace(public.crm_fold(t), '[^a-z0-9|]+', ' ', 'g'))
$$;

-- A person's first and last name as one key, `first | last` (each part as crm_name_key).
create function crm_person_key(p_first text, p_last text) returns text
language sql immutable parallel safe
as $$
    select public.crm_name_key(pg_catalog.replace(coalesce(p_first, ''), '|', ' ') || ' | '
                               || pg_catalog.replace(coalesce(p_last, ''), '|', ' '))
$$;

-- A company name for comparison: as crm_name_key, then legal forms removed (GmbH, AG,
-- GmbH & Co. KG, e.K., UG (haftungsbeschränkt), KG, OHG, e.V., GbR, SE, Ltd, Inc, ...).
create function crm_company_key(t text) returns text
language sql immutable parallel safe strict
as $$
    select pg_catalog.btrim(pg_catalog.regexp_replace(pg_catalog.regexp_replace(
        ' ' || pg_catalog.replace(public.crm_name_key(t), '|', ' ') || ' ',
        ' (gmbh co kgaa|gmbh co kg|gmbh co ohg|ag co kg|ag co ohg|se co kg|ug haftungsbeschraenkt co kg'
        '|ug haftungsbeschraenkt|gmbh|mbh|ggmbh|ug|ag|kgaa|kg|ohg|e k|ek|e kfm|e kfr|e v|ev|gbr'
        '|se|ltd|limited|inc|llc|plc|co kg|sarl|sa|bv|nv|corp|co ltd)(?= )', ' ', 'g'),
        '\s+', ' ', 'g'))
$$;

-- The blocking keys detection reads, kept by the database: one crm_fold per written row
-- instead of two per row and detection run.
alter table contacts add column name_key text
    generated always as (crm_person_key(first_name, last_name)) stored;
alter table companies add column name_key text
    generated always as (crm_company_key(name)) stored;

-- ---------------------------------------------------------------------------------------
-- Companies carry the merge column too
-- ---------------------------------------------------------------------------------------

alter table companies add column merged_into_id uuid;
create index companies_merged_into_idx on companies (org_id, merged_into_id)
    where merged_into_id is not null;
create trigger companies_guard_merge_column before insert or update of merged_into_id
    on companies for each row execute function crm_guard_merge_column();

-- ---------------------------------------------------------------------------------------
-- The record of a merge
-- ---------------------------------------------------------------------------------------

create table record_merges (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    contact_id uuid,
    company_id uuid,
    merged_ids uuid[] not null check (cardinality(merged_ids) >= 1),
    before jsonb not null,
    after jsonb not null,
    created_by uuid,
    created_at timestamptz not null default now(),
    undone_at timestamptz,
    undone_by uuid,
    primary key (org_id, id),
    constraint record_merges_one_survivor check (num_nonnulls(contact_id, company_id) = 1),
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete cascade,
    foreign key (org_id, company_id) references companies (org_id, id) on delete cascade
);
create index record_merges_contact_idx on record_merges (org_id, contact_id)
    where contact_id is not null;
create index record_merges_company_idx on record_merges (org_id, company_id)
    where company_id is not null;
create index record_merges_merged_idx on record_merges using gin (merged_ids);
select crm_enable_tenancy('record_merges', 'select, insert, update');

-- ---------------------------------------------------------------------------------------
-- "Not a duplicate"
-- ---------------------------------------------------------------------------------------

create table duplicate_dismissals (
    org_id uuid not null references organizations (id) on delete cascade,
    id uuid not null,
    contact_id uuid,
    other_contact_id uuid,
    company_id uuid,
    other_company_id uuid,
    created_by uuid,
    created_at timestamptz not null default now(),
    primary key (org_id, id),
    constraint duplicate_dismissals_one_pair check (
        (contact_id is not null and other_contact_id is not null and contact_id < other_contact_id
         and company_id is null and other_company_id is null)
        or (company_id is not null and other_company_id is not null and company_id < other_company_id
            and contact_id is null and other_contact_id is null)),
    constraint duplicate_dismissals_contacts_unique unique (org_id, contact_id, other_contact_id),
    constraint duplicate_dismissals_companies_unique unique (org_id, company_id, other_company_id),
    foreign key (org_id, contact_id) references contacts (org_id, id) on delete cascade,
    foreign key (org_id, other_contact_id) references contacts (org_id, id) on delete cascade,
    foreign key (org_id, company_id) references companies (org_id, id) on delete cascade,
    foreign key (org_id, other_company_id) references companies (org_id, id) on delete cascade
);
create index duplicate_dismissals_other_contact_idx on duplicate_dismissals (org_id, other_contact_id);
create index duplicate_dismissals_other_company_idx on duplicate_dismissals (org_id, other_company_id);
select crm_enable_tenancy('duplicate_dismissals');

-- ---------------------------------------------------------------------------------------
-- Writing and clearing the merge column
-- ---------------------------------------------------------------------------------------

-- Records that record p_remove (p_kind 'contact' or 'company') was merged into p_keep, as
-- crm_record_merge does for contacts: only for a merge in progress (p_keep live, p_remove
-- soft-deleted by this very transaction and not merged before), by a user who may merge.
create function crm_record_merge_of(p_kind text, p_remove uuid, p_keep uuid) returns void
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_actor uuid := nullif(current_setting('crm.actor_id', true), '')::uuid;
begin
    if v_org is null or not exists (
        select 1 from users u
        where u.org_id = v_org and u.id = v_actor and u.active and u.deleted_at is null
          and u.role in ('owner', 'admin', 'manager', 'user')) then
        raise exception 'only a user who may merge records' using errcode = '42501';
    end if;
    if p_kind = 'contact' then
        perform crm_record_merge(p_remove, p_keep);
        return;
    end if;
    if p_kind <> 'company' or p_remove = p_keep
       or not exists (select 1 from companies k
                      where k.org_id = v_org and k.id = p_keep and k.deleted_at is null) then
        raise exception 'not a merge in progress' using errcode = '42501';
    end if;
    update companies set merged_into_id = p_keep
    where org_id = v_org and id = p_remove and deleted_at = now() and merged_into_id is null;
    if not found then
        raise exception 'not a merge in progress' using errcode = '42501';
    end if;
end
$$;
revoke all on function crm_record_merge_of(text, uuid, uuid) from public;
grant execute on function crm_record_merge_of(text, uuid, uuid) to crm_app;

-- Clears the merge column of the records merge p_merge merged away, for an unmerge in
-- progress: the merge is of the transaction's organization, visible to the actor (read under
-- the actor's policy before this call), not undone yet, and each record still points at the
-- merge's survivor. Marks the merge undone. Returns how many records it cleared.
create function crm_clear_merge(p_merge uuid) returns integer
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_actor uuid := nullif(current_setting('crm.actor_id', true), '')::uuid;
    m record;
    v_n integer;
begin
    if v_org is null or not exists (
        select 1 from users u
        where u.org_id = v_org and u.id = v_actor and u.active and u.deleted_at is null
          and u.role in ('owner', 'admin', 'manager', 'user')) then
        raise exception 'only a user who may merge records' using errcode = '42501';
    end if;
    select * into m from record_merges
    where org_id = v_org and id = p_merge and undone_at is null for update;
    if not found then
        raise exception 'not an unmerge in progress' using errcode = '42501';
    end if;
    if m.contact_id is not null then
        update contacts set merged_into_id = null
        where org_id = v_org and id = any(m.merged_ids) and merged_into_id = m.contact_id;
    else
        update companies set merged_into_id = null
        where org_id = v_org and id = any(m.merged_ids) and merged_into_id = m.company_id;
    end if;
    get diagnostics v_n = row_count;
    if v_n <> cardinality(m.merged_ids) then
        raise exception 'not an unmerge in progress' using errcode = '42501';
    end if;
    update record_merges set undone_at = now(), undone_by = v_actor
    where org_id = v_org and id = p_merge;
    return v_n;
end
$$;
revoke all on function crm_clear_merge(uuid) from public;
grant execute on function crm_clear_merge(uuid) to crm_app;

-- ---------------------------------------------------------------------------------------
-- Generic row snapshots and restores (run as the caller, under its policies)
-- ---------------------------------------------------------------------------------------

-- The tables a merge snapshots and restores whole rows of.
create function crm_merge_table_ok(p_table regclass) returns boolean
language sql immutable
as $$
    select p_table::text in ('contacts', 'companies', 'contact_emails', 'contact_phones',
        'contact_tags', 'contact_owners', 'company_emails', 'company_phones', 'company_tags',
        'company_owners', 'company_relationships')
$$;

-- Writes the snapshot rows p_rows (a JSON array of to_jsonb(row)) back over the records of
-- p_table (contacts or companies) with the same id: every stored column but the key, the
-- merge column and what the database keeps itself (version, updated_at, generated columns).
-- Rows are written in array order. Returns how many rows it wrote.
create function crm_merge_restore_records(p_table regclass, p_rows jsonb) returns integer
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
    v_set text;
    v_row jsonb;
    v_n integer := 0;
    v_one integer;
begin
    if p_table::text not in ('contacts', 'companies') then
        raise exception 'not a record table' using errcode = '22023';
    end if;
    select string_agg(format('%I = s.%I', attname, attname), ', ' order by attnum) into v_set
    from pg_attribute
    where attrelid = p_table and attnum > 0 and not attisdropped and attgenerated = ''
      and attname not in ('org_id', 'id', 'merged_into_id', 'version', 'updated_at', 'created_at');
    for v_row in select value from jsonb_array_elements(p_rows) loop
        execute format(
            'update %s t set %s from jsonb_populate_record(null::%s, $1) s '
            'where t.org_id = s.org_id and t.id = s.id', p_table, v_set, p_table)
        using v_row;
        get diagnostics v_one = row_count;
        v_n := v_n + v_one;
    end loop;
    return v_n;
end
$$;
grant execute on function crm_merge_restore_records(regclass, jsonb) to crm_app;

-- Replaces the rows of p_table in which any of p_columns is one of p_ids by the snapshot
-- rows p_rows (a JSON array of to_jsonb(row)). Returns how many rows it inserted.
create function crm_merge_restore_children(p_table regclass, p_columns text[], p_ids uuid[], p_rows jsonb)
returns integer
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
    v_cols text;
    v_where text;
    v_n integer;
begin
    if not crm_merge_table_ok(p_table) or p_table::text in ('contacts', 'companies') then
        raise exception 'not a child table' using errcode = '22023';
    end if;
    if cardinality(p_columns) = 0 or not p_columns <@ array['contact_id', 'company_id',
            'from_company_id', 'to_company_id'] then
        raise exception 'not a child column' using errcode = '22023';
    end if;
    select string_agg(format('%I = any($1)', c), ' or ') into v_where from unnest(p_columns) c;
    execute format('delete from %s where org_id = crm_org() and (%s)', p_table, v_where)
    using p_ids;
    select string_agg(quote_ident(attname), ', ' order by attnum) into v_cols
    from pg_attribute
    where attrelid = p_table and attnum > 0 and not attisdropped and attgenerated = '';
    execute format('insert into %s (%s) select %s from jsonb_populate_recordset(null::%s, $1)',
                   p_table, v_cols, v_cols, p_table)
    using p_rows;
    get diagnostics v_n = row_count;
    return v_n;
end
$$;
grant execute on function crm_merge_restore_children(regclass, text[], uuid[], jsonb) to crm_app;

-- Sets the columns named in p_patch (a JSON object) of record p_id of p_table (contacts or
-- companies) to its values. Keys that are not plain stored columns are refused.
create function crm_merge_apply(p_table regclass, p_id uuid, p_patch jsonb) returns void
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
    v_set text;
    v_keys integer;
    v_cols integer;
begin
    if p_table::text not in ('contacts', 'companies') then
        raise exception 'not a record table' using errcode = '22023';
    end if;
    select count(*) into v_keys from jsonb_object_keys(p_patch);
    if v_keys = 0 then
        return;
    end if;
    select string_agg(format('%I = s.%I', attname, attname), ', ' order by attnum), count(*)
    into v_set, v_cols
    from pg_attribute
    where attrelid = p_table and attnum > 0 and not attisdropped and attgenerated = ''
      and attname not in ('org_id', 'id', 'merged_into_id', 'version', 'updated_at',
                          'created_at', 'deleted_at')
      and p_patch ? attname::text;
    if v_cols is distinct from v_keys then
        raise exception 'not a mergeable field' using errcode = '22023';
    end if;
    execute format(
        'update %s t set %s from jsonb_populate_record(null::%s, $1) s '
        'where t.org_id = crm_org() and t.id = $2', p_table, v_set, p_table)
    using p_patch, p_id;
end
$$;
grant execute on function crm_merge_apply(regclass, uuid, jsonb) to crm_app;

-- A merge record holds a snapshot of the records it merged away. When one of them is deleted
-- for good (retention purge, erasure), the record goes with it: no copy of a purged record's
-- data stays behind, and that merge can no longer be undone. (The survivor's own deletion
-- removes its merge records through the foreign key.)
create function crm_forget_merges_of() returns trigger
language plpgsql security definer
set search_path = public, pg_temp
as $$
begin
    delete from record_merges where org_id = old.org_id and merged_ids @> array[old.id];
    return old;
end
$$;
revoke all on function crm_forget_merges_of() from public;
create trigger contacts_forget_merges after delete on contacts
    for each row execute function crm_forget_merges_of();
create trigger companies_forget_merges after delete on companies
    for each row execute function crm_forget_merges_of();
