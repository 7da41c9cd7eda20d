-- Data protection (GDPR / DSGVO): the per-organization secret behind the keyed e-mail hashes
-- of erasure receipts, the redaction of audit payloads (the application role may not update
-- the audit log), and indexes that keep subject lookups and retention off sequential scans.
--
-- The functions below are SECURITY DEFINER, owned by the schema owner (which bypasses
-- row-level security). Like crm_search they read the tenant only from the transaction's
-- crm.org_id, never from a parameter, and pin their search_path.

-- ---------------------------------------------------------------------------------------
-- Erasure keys
-- ---------------------------------------------------------------------------------------

-- One secret per organization, for HMAC-SHA256 of erased e-mail addresses. Kept out of
-- `organizations` (which every tenant may read): the application role may read its own
-- organization's key only (as it may hash any address with crm_gdpr_email_hashes anyway),
-- and never write it. 32 bytes from gen_random_uuid(), which draws from the server's strong
-- random source (no extension needed).
create table erasure_keys (
    org_id uuid primary key references organizations (id) on delete cascade,
    key bytea not null default sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())),
    created_at timestamptz not null default now()
);
select crm_enable_tenancy('erasure_keys', 'select');

-- HMAC-SHA256 (RFC 2104) with the core sha256(): no pgcrypto needed.
create function crm_hmac_sha256(p_key bytea, p_message bytea) returns bytea
language plpgsql immutable strict parallel safe
set search_path = pg_catalog, pg_temp
as $$
declare
    k bytea := p_key;
    ipad bytea;
    opad bytea;
begin
    if length(k) > 64 then
        k := sha256(k);
    end if;
    k := k || decode(repeat('00', 64 - length(k)), 'hex');
    ipad := k;
    opad := k;
    for i in 0..63 loop
        ipad := set_byte(ipad, i, get_byte(k, i) # 54);   -- 0x36
        opad := set_byte(opad, i, get_byte(k, i) # 92);   -- 0x5c
    end loop;
    return sha256(opad || sha256(ipad || p_message));
end
$$;

-- The keyed hashes of e-mail addresses (already normalised by the caller) under the current
-- organization's erasure key, in input order. The key is created on first use.
create function crm_gdpr_email_hashes(p_emails text[]) returns bytea[]
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_key bytea;
begin
    if v_org is null then
        raise exception 'no organization set for this transaction' using errcode = '42501';
    end if;
    insert into erasure_keys (org_id) values (v_org) on conflict (org_id) do nothing;
    select key into v_key from erasure_keys where org_id = v_org;
    return coalesce((
        select array_agg(crm_hmac_sha256(v_key, convert_to(e, 'UTF8')) order by n)
        from unnest(p_emails) with ordinality as u(e, n)
    ), '{}');
end
$$;
revoke all on function crm_gdpr_email_hashes(text[]) from public;
grant execute on function crm_gdpr_email_hashes(text[]) to crm_app;

-- ---------------------------------------------------------------------------------------
-- Audit redaction
-- ---------------------------------------------------------------------------------------

-- Redacts audit payloads of the current organization: the payload becomes null and
-- redacted_at is set; digest, hashes and the entry's fixed fields stay, so the chain still
-- verifies (crm_audit_verify skips the digest check of redacted entries). An entry is
-- redacted when
--   * it is about one of the records (p_entity_types[i], p_entity_ids[i]), or
--   * its payload text matches one of p_patterns (case-insensitive regular expressions,
--     one per literal; each is found through the trigram index on the payload text below,
--     which gives up on a long alternation), or
--   * it is about one of the records (p_related_types[i], p_related_ids[i]) and its payload
--     text matches p_related_pattern.
-- Only an active owner or admin of the organization (the transaction's actor) may redact.
-- Returns the number of entries redacted.
create function crm_gdpr_redact_audit(
    p_entity_types text[], p_entity_ids uuid[],
    p_related_types text[], p_related_ids uuid[],
    p_patterns text[], p_related_pattern text
) returns bigint
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_actor uuid := nullif(current_setting('crm.actor_id', true), '')::uuid;
    v_n bigint := 0;
    v_m bigint;
    v_pattern text;
begin
    if v_org is null then
        raise exception 'no organization set for this transaction' using errcode = '42501';
    end if;
    if not exists (select 1 from users u
                   where u.org_id = v_org and u.id = v_actor and u.active
                     and u.deleted_at is null and u.role in ('owner', 'admin')) then
        raise exception 'only an owner or admin may redact the audit log' using errcode = '42501';
    end if;
    -- By record: index lookups on (org_id, entity_type, entity_id).
    update audit_log a set payload = null, redacted_at = now()
    from (select distinct t, id from unnest(p_entity_types, p_entity_ids) as u(t, id)) r
    where a.org_id = v_org and a.entity_type = r.t and a.entity_id = r.id
      and a.payload is not null;
    get diagnostics v_m = row_count;
    v_n := v_n + v_m;
    -- By mention anywhere: each pattern planned with its value (EXECUTE), so the trigram
    -- index is used.
    foreach v_pattern in array coalesce(p_patterns, '{}') loop
        execute 'update audit_log a set payload = null, redacted_at = now() '
                'where a.org_id = $1 and a.payload is not null and a.payload::text ~* $2'
            using v_org, v_pattern;
        get diagnostics v_m = row_count;
        v_n := v_n + v_m;
    end loop;
    -- By weaker mention (single names) in entries about related records only.
    if p_related_pattern is not null then
        update audit_log a set payload = null, redacted_at = now()
        from (select distinct t, id from unnest(p_related_types, p_related_ids) as u(t, id)) r
        where a.org_id = v_org and a.entity_type = r.t and a.entity_id = r.id
          and a.payload is not null and a.payload::text ~* p_related_pattern;
        get diagnostics v_m = row_count;
        v_n := v_n + v_m;
    end if;
    return v_n;
end
$$;
revoke all on function crm_gdpr_redact_audit(text[], uuid[], text[], uuid[], text[], text) from public;
grant execute on function crm_gdpr_redact_audit(text[], uuid[], text[], uuid[], text[], text) to crm_app;

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------

-- Soft-deleted duplicates of a person by e-mail (the unique index covers live rows only),
-- and the soft-deleted records retention looks at. Partial: they only hold deleted rows.
create index contacts_deleted_email_idx on contacts (org_id, email_norm)
    where deleted_at is not null;
create index contacts_deleted_idx on contacts (org_id, deleted_at) where deleted_at is not null;
create index companies_deleted_idx on companies (org_id, deleted_at) where deleted_at is not null;
create index deals_deleted_idx on deals (org_id, deleted_at) where deleted_at is not null;
create index activities_deleted_idx on activities (org_id, deleted_at) where deleted_at is not null;
-- Erasure finds audit entries that mention a person anywhere (e-mail, phone, full name) by
-- trigram search on the payload text: a scan of the whole log would take seconds in a large
-- organization. Used only by crm_gdpr_redact_audit (which bypasses row-level security, so
-- the index is usable).
create index audit_log_payload_trgm_idx on audit_log using gin ((payload::text) gin_trgm_ops)
    where payload is not null;
-- Consent lists by purpose.
create index consents_purpose_idx on consents (org_id, purpose, contact_id, recorded_at);
