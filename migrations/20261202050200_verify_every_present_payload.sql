-- A forged audit entry must not verify, and redaction must not rewrite history (issue 14,
-- item 7).
--
-- * Verification checks the digest of every payload that is present. Only an entry whose
--   payload is gone AND that carries the redaction mark skips it (an erasure nulls the
--   payload and keeps the digest); a payload present under a redaction mark is checked like
--   any other. Verification stays a SECURITY DEFINER function (20261202050000), so it reads
--   the whole chain of the transaction's organization whatever the actor's visibility.
-- * crm_gdpr_redact_audit, which took regular expressions from its caller, is dropped. Its
--   successor crm_gdpr_redact_person takes the person's contact ids and literal needles,
--   accepts a needle only when it is derived from those contacts' own names, addresses and
--   numbers, builds the patterns itself, and finds the person's activities and deals itself.

create or replace function crm_audit_verify(out checked bigint, out broken_seq bigint, out problem text)
language plpgsql stable security definer
set search_path = public, pg_temp
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
        if (r.payload is not null or r.redacted_at is null)
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

drop function crm_gdpr_redact_audit(text[], uuid[], text[], uuid[], text[], text);

-- How needles are compared with what the person's records hold: folded as search folds
-- (case, German spellings, accents, runs of white space).
create function crm_gdpr_needle_key(p text) returns text
language sql immutable parallel safe
set search_path = public, pg_temp
as $$ select nullif(btrim(crm_fold(p)), '') $$;

-- A regular expression (ARE, used case-insensitively) matching `p` literally; a needle that
-- starts or ends with an ASCII letter or digit must start or end a word there. The same as
-- crm_core::gdpr::literal_patterns.
create function crm_gdpr_literal_pattern(p text) returns text
language sql immutable parallel safe strict
as $$
    select case when left(btrim(p), 1) ~ '^[A-Za-z0-9]$' then '\m' else '' end
        || regexp_replace(btrim(p), '[\x20-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E]', '\\\&', 'g')
        || case when right(btrim(p), 1) ~ '^[A-Za-z0-9]$' then '\M' else '' end
$$;

-- Redacts the audit payloads of the current organization that concern the person whose
-- contact records are p_contacts (to be called by an erasure before it changes them): the
-- payload becomes null and redacted_at is set; digest, hashes and fixed fields stay. An
-- entry is redacted when
--   * it is about one of the contacts, or about an activity linked to them and to nothing
--     else (the erasure deletes those), or
--   * its payload mentions one of p_strong (full names, addresses, numbers), or
--   * it is about one of their deals or their other activities and mentions one of p_strong
--     or p_weak (single names).
-- Every needle must be derived from the contacts' own data (names, "first last",
-- "last, first", e-mail addresses, phone numbers, LinkedIn URL); anything else is refused,
-- so the function cannot serve to blank unrelated entries. Only an active owner or admin
-- (the transaction's actor) may call it. Returns the number of entries redacted.
create function crm_gdpr_redact_person(p_contacts uuid[], p_strong text[], p_weak text[])
returns bigint
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_actor uuid := nullif(current_setting('crm.actor_id', true), '')::uuid;
    v_contacts uuid[] := array(select distinct c from unnest(coalesce(p_contacts, '{}')) c);
    v_known text[];
    v_needle text;
    v_all text;
    v_n bigint := 0;
    v_m bigint;
begin
    if v_org is null then
        raise exception 'no organization set for this transaction' using errcode = '42501';
    end if;
    if not exists (select 1 from users u
                   where u.org_id = v_org and u.id = v_actor and u.active
                     and u.deleted_at is null and u.role in ('owner', 'admin')) then
        raise exception 'only an owner or admin may redact the audit log' using errcode = '42501';
    end if;
    if cardinality(v_contacts) = 0 then
        return 0;
    end if;
    if (select count(*) from contacts where org_id = v_org and id = any(v_contacts))
       <> cardinality(v_contacts) then
        raise exception 'unknown contact' using errcode = '42501';
    end if;
    v_known := array(
        select crm_gdpr_needle_key(x) from (
            select unnest(array[c.first_name, c.last_name,
                                btrim(c.first_name) || ' ' || btrim(c.last_name),
                                btrim(c.last_name) || ', ' || btrim(c.first_name),
                                c.email, c.email_norm, c.phone, c.linkedin_url]) as x
            from contacts c where c.org_id = v_org and c.id = any(v_contacts)
            union all
            select unnest(array[e.email, e.email_norm]) from contact_emails e
            where e.org_id = v_org and e.contact_id = any(v_contacts)
            union all
            select unnest(array[p.number_e164, p.number_raw]) from contact_phones p
            where p.org_id = v_org and p.contact_id = any(v_contacts)
        ) k where crm_gdpr_needle_key(x) is not null);
    foreach v_needle in array coalesce(p_strong, '{}') || coalesce(p_weak, '{}') loop
        if crm_gdpr_needle_key(v_needle) is null
           or char_length(btrim(v_needle)) < 2
           or not (crm_gdpr_needle_key(v_needle) = any(v_known)) then
            raise exception 'a needle is not derived from the person''s records'
                using errcode = '42501';
        end if;
    end loop;
    -- By record: the contacts, and their activities that are linked to nothing else.
    update audit_log a set payload = null, redacted_at = now()
    where a.org_id = v_org and a.payload is not null
      and ((a.entity_type = 'contact' and a.entity_id = any(v_contacts))
           or (a.entity_type = 'activity' and a.entity_id in (
                   select t.id from activities t
                   where t.org_id = v_org and t.contact_id = any(v_contacts)
                     and t.company_id is null and t.deal_id is null)));
    get diagnostics v_m = row_count;
    v_n := v_n + v_m;
    -- By mention anywhere: each pattern planned with its value (EXECUTE), so the trigram
    -- index on the payload text is used.
    foreach v_needle in array coalesce(p_strong, '{}') loop
        execute 'update audit_log a set payload = null, redacted_at = now() '
                'where a.org_id = $1 and a.payload is not null and a.payload::text ~* $2'
            using v_org, crm_gdpr_literal_pattern(v_needle);
        get diagnostics v_m = row_count;
        v_n := v_n + v_m;
    end loop;
    -- By weaker mention in entries about their deals and other activities.
    v_all := (select '(?:' || string_agg(crm_gdpr_literal_pattern(x), '|') || ')'
              from unnest(coalesce(p_strong, '{}') || coalesce(p_weak, '{}')) x);
    if v_all is not null then
        update audit_log a set payload = null, redacted_at = now()
        where a.org_id = v_org and a.payload is not null
          and ((a.entity_type = 'deal' and a.entity_id in (
                    select d.id from deals d
                    where d.org_id = v_org and d.contact_id = any(v_contacts)))
               or (a.entity_type = 'activity' and a.entity_id in (
                    select t.id from activities t
                    where t.org_id = v_org and t.contact_id = any(v_contacts))))
          and a.payload::text ~* v_all;
        get diagnostics v_m = row_count;
        v_n := v_n + v_m;
    end if;
    return v_n;
end
$$;
revoke all on function crm_gdpr_redact_person(uuid[], text[], text[]) from public;
grant execute on function crm_gdpr_redact_person(uuid[], text[], text[]) to crm_app;

-- Redacts the audit payloads about contacts and activities that no longer exist (retention
-- purges them first): entries about a live record are never touched, so this cannot blank
-- history either. Only an active owner or admin may call it. Returns the number redacted.
create function crm_gdpr_redact_purged(p_types text[], p_ids uuid[]) returns bigint
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_actor uuid := nullif(current_setting('crm.actor_id', true), '')::uuid;
    v_n bigint;
begin
    if v_org is null then
        raise exception 'no organization set for this transaction' using errcode = '42501';
    end if;
    if not exists (select 1 from users u
                   where u.org_id = v_org and u.id = v_actor and u.active
                     and u.deleted_at is null and u.role in ('owner', 'admin')) then
        raise exception 'only an owner or admin may redact the audit log' using errcode = '42501';
    end if;
    update audit_log a set payload = null, redacted_at = now()
    from (select distinct t, id from unnest(p_types, p_ids) as u(t, id)) r
    where a.org_id = v_org and a.entity_type = r.t and a.entity_id = r.id
      and a.payload is not null
      and ((r.t = 'contact'
            and not exists (select 1 from contacts c where c.org_id = v_org and c.id = r.id))
           or (r.t = 'activity'
            and not exists (select 1 from activities x where x.org_id = v_org and x.id = r.id)));
    get diagnostics v_n = row_count;
    return v_n;
end
$$;
revoke all on function crm_gdpr_redact_purged(text[], uuid[]) from public;
grant execute on function crm_gdpr_redact_purged(text[], uuid[]) to crm_app;
