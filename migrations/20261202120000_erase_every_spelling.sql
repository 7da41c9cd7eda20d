-- Erasure finds the person in every spelling the search would match (issue 14, item 5), and
-- re-applying erasures after a restore runs as housekeeping with full reach (item 6).
--
-- * crm_gdpr_spelling_pattern(needle) turns a name, e-mail address or phone number into a
--   regular expression (ARE) that matches every spelling folding to the same search text:
--   any case, German spellings and their transliterations (Müller, Mueller, MÜLLER), other
--   accents, the accent merely dropped (Jorg, Muller), any run of blanks, hyphens, dots or underscores between name words; a phone
--   number with its country code (+49, 0049) or its national prefix (0, (0)), with
--   any blanks, hyphens, slashes, dots or brackets between the digits
--   (`0171-5551234`, `+49 171 5551234`, `+49 (0)171 555 12 34`). Erasure (crm-core) and the
--   audit redaction below use the same patterns.
-- * The audit redaction is split: crm_gdpr_redact_person_in (the work, for any organization
--   named, callable only by the schema owner: re-application after a restore runs on the
--   owner's connection with no acting user) and crm_gdpr_redact_person (the application's
--   entry: the transaction's organization, an active owner or admin only, as before).
--   Needles are still accepted only when derived from the person's own records.

-- A regular expression matching the phone digits `d` with any separators between them.
create function crm_gdpr_digits_pattern(d text) returns text
language sql immutable parallel safe strict
as $$ select regexp_replace(d, '([0-9])(?=[0-9])', '\1[\s./()-]*', 'g') $$;

-- Every character of Latin-1 and Latin Extended-A (and ASCII letters) by the one letter the
-- search folds it to: {"a": "Aa\u00c0...", ...}.
create function crm_gdpr_letter_classes() returns jsonb
language sql immutable parallel safe
set search_path = public, pg_temp
as $$
    select jsonb_object_agg(k, v) from (
        select crm_fold(chr(g)) as k, string_agg(chr(g), '' order by g) as v
        from (select generate_series(65, 90) union all select generate_series(97, 122)
              union all select generate_series(192, 383)) s(g)
        where crm_fold(chr(g)) ~ '^[a-z]$'
        group by 1) x
$$;

create function crm_gdpr_spelling_pattern(p text) returns text
language plpgsql immutable parallel safe strict
set search_path = public, pg_temp
as $$
declare
    v text := btrim(p);
    v_digits text := regexp_replace(btrim(p), '[^0-9]', '', 'g');
    v_cc text;
    v_nsn text;
    v_f text;
    v_classes jsonb;
    v_out text := '';
    v_pair text;
    v_c text;
    i integer := 1;
    v_len integer;
    v_email boolean := position('@' in btrim(p)) > 0;
begin
    if v = '' then
        return null;
    end if;
    -- A phone number.
    if v ~ '^\+?[0-9 ()./-]+$' and length(v_digits) >= 6 then
        if left(v, 1) = '+' or left(v_digits, 2) = '00' then
            if left(v, 1) <> '+' then
                v_digits := substr(v_digits, 3);
            end if;
            -- The country calling code: 1 to 3 digits, a prefix code (ITU-T E.164).
            v_cc := case
                when v_digits ~ '^[17]' then left(v_digits, 1)
                when v_digits ~ '^(2[07]|3[0-469]|4[013-9]|5[1-8]|6[0-6]|8[1246]|9[0-58])'
                    then left(v_digits, 2)
                else left(v_digits, 3) end;
            v_nsn := substr(v_digits, length(v_cc) + 1);
            -- With its country code, or national with the prefix 0 (the national
            -- significant number alone only where it begins with 0 itself, as in Italy):
            -- the bare digits of a number abroad (+43 171 ...) are someone else's.
            return '(?<![0-9])(?:(?:\+|00)\s*' || v_cc || '[\s./-]*(?:\(0\)[\s./-]*)?\(?|\(?0[\s./-]*)'
                || case when left(v_nsn, 1) = '0' then '?' else '' end
                || crm_gdpr_digits_pattern(v_nsn) || '(?![0-9])';
        end if;
        return '(?<![0-9])' || crm_gdpr_digits_pattern(v_digits) || '(?![0-9])';
    end if;
    -- A name or an e-mail address, by its search text.
    v_f := btrim(crm_fold(v));
    v_len := char_length(v_f);
    if v_len = 0 then
        return null;
    end if;
    v_classes := crm_gdpr_letter_classes();
    while i <= v_len loop
        v_c := substr(v_f, i, 1);
        v_pair := substr(v_f, i, 2);
        if v_pair in ('ae', 'oe', 'ue', 'ss') then
            -- Also the vowel alone: the spelling that only drops the accent (Jorg, Muller),
            -- which the search finds too.
            v_out := v_out || '(?:[' || (v_classes ->> substr(v_pair, 1, 1)) || ']['
                || (v_classes ->> substr(v_pair, 2, 1)) || ']|'
                || case when v_pair <> 'ss' then '[' || (v_classes ->> substr(v_pair, 1, 1)) || ']|'
                        else '' end
                || case v_pair when 'ae' then 'ä|Ä|æ|Æ' when 'oe' then 'ö|Ö|œ|Œ'
                               when 'ue' then 'ü|Ü' else 'ß|ẞ' end || ')';
            i := i + 2;
        elsif not v_email and v_c ~ '^[\s._-]$' then
            while i <= v_len and substr(v_f, i, 1) ~ '^[\s._-]$' loop
                i := i + 1;
            end loop;
            v_out := v_out || '[\s._-]+';
        elsif v_classes ? v_c then
            v_out := v_out || '[' || (v_classes ->> v_c) || ']';
            i := i + 1;
        elsif v_c ~ '^[\x20-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E]$' then
            v_out := v_out || '\' || v_c;
            i := i + 1;
        else
            v_out := v_out || v_c;
            i := i + 1;
        end if;
    end loop;
    return case when left(v_f, 1) ~ '^[a-z0-9]$' then '(?<![[:alnum:]])' else '' end
        || v_out
        || case when right(v_f, 1) ~ '^[a-z0-9]$' then '(?![[:alnum:]])' else '' end;
end
$$;
grant execute on function crm_gdpr_spelling_pattern(text) to crm_app;

-- `t` with every match of any of `patterns` (used case-insensitively) replaced by
-- `[erased]`, one pattern after the other.
create function crm_gdpr_scrub(t text, patterns text[]) returns text
language plpgsql immutable parallel safe
as $$
declare
    v text := t;
    v_p text;
begin
    if v is null then
        return null;
    end if;
    foreach v_p in array coalesce(patterns, '{}') loop
        v := regexp_replace(v, v_p, '[erased]', 'gi');
    end loop;
    return v;
end
$$;
grant execute on function crm_gdpr_scrub(text, text[]) to crm_app;

-- The redaction itself, for the organization p_org (see crm_gdpr_redact_person, which the
-- application calls). Only the schema owner may call this one directly.
create function crm_gdpr_redact_person_in(p_org uuid, p_contacts uuid[], p_strong text[],
                                          p_weak text[])
returns bigint
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
    v_contacts uuid[] := array(select distinct c from unnest(coalesce(p_contacts, '{}')) c);
    v_known text[];
    v_needle text;
    v_patterns text[];
    v_all text[];
    v_n bigint := 0;
    v_m bigint;
begin
    if p_org is null then
        raise exception 'no organization named' using errcode = '42501';
    end if;
    if cardinality(v_contacts) = 0 then
        return 0;
    end if;
    if (select count(*) from contacts where org_id = p_org and id = any(v_contacts))
       <> cardinality(v_contacts) then
        raise exception 'unknown contact' using errcode = '42501';
    end if;
    v_known := array(
        select crm_gdpr_needle_key(x) from (
            select unnest(array[c.first_name, c.last_name,
                                btrim(c.first_name) || ' ' || btrim(c.last_name),
                                btrim(c.last_name) || ', ' || btrim(c.first_name),
                                c.email, c.email_norm, c.phone, c.linkedin_url]) as x
            from contacts c where c.org_id = p_org and c.id = any(v_contacts)
            union all
            select unnest(array[e.email, e.email_norm]) from contact_emails e
            where e.org_id = p_org and e.contact_id = any(v_contacts)
            union all
            select unnest(array[p.number_e164, p.number_raw]) from contact_phones p
            where p.org_id = p_org and p.contact_id = any(v_contacts)
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
    where a.org_id = p_org and a.payload is not null
      and ((a.entity_type = 'contact' and a.entity_id = any(v_contacts))
           or (a.entity_type = 'activity' and a.entity_id in (
                   select t.id from activities t
                   where t.org_id = p_org and t.contact_id = any(v_contacts)
                     and t.company_id is null and t.deal_id is null)));
    get diagnostics v_m = row_count;
    v_n := v_n + v_m;
    -- By mention anywhere, in any spelling the search would match: each pattern planned
    -- with its value (EXECUTE), so the trigram index on the payload text can be used.
    v_patterns := array(select distinct crm_gdpr_spelling_pattern(x)
                        from unnest(coalesce(p_strong, '{}')) x
                        where crm_gdpr_spelling_pattern(x) is not null);
    foreach v_needle in array v_patterns loop
        execute 'update audit_log a set payload = null, redacted_at = now() '
                'where a.org_id = $1 and a.payload is not null and a.payload::text ~* $2'
            using p_org, v_needle;
        get diagnostics v_m = row_count;
        v_n := v_n + v_m;
    end loop;
    -- By weaker mention (single names) in entries about their deals and other activities.
    v_all := v_patterns || array(select distinct crm_gdpr_spelling_pattern(x)
                                 from unnest(coalesce(p_weak, '{}')) x
                                 where crm_gdpr_spelling_pattern(x) is not null);
    if cardinality(v_all) > 0 then
        update audit_log a set payload = null, redacted_at = now()
        where a.org_id = p_org and a.payload is not null
          and ((a.entity_type = 'deal' and a.entity_id in (
                    select d.id from deals d
                    where d.org_id = p_org and d.contact_id = any(v_contacts)))
               or (a.entity_type = 'activity' and a.entity_id in (
                    select t.id from activities t
                    where t.org_id = p_org and t.contact_id = any(v_contacts))))
          and a.payload::text ~* any(v_all);
        get diagnostics v_m = row_count;
        v_n := v_n + v_m;
    end if;
    return v_n;
end
$$;
revoke all on function crm_gdpr_redact_person_in(uuid, uuid[], text[], text[]) from public;

-- The application's entry (signature and rules as in 20261202050200): the transaction's
-- organization, an active owner or admin as the actor.
create or replace function crm_gdpr_redact_person(p_contacts uuid[], p_strong text[], p_weak text[])
returns bigint
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_actor uuid := nullif(current_setting('crm.actor_id', true), '')::uuid;
begin
    if v_org is null then
        raise exception 'no organization set for this transaction' using errcode = '42501';
    end if;
    if not exists (select 1 from users u
                   where u.org_id = v_org and u.id = v_actor and u.active
                     and u.deleted_at is null and u.role in ('owner', 'admin')) then
        raise exception 'only an owner or admin may redact the audit log' using errcode = '42501';
    end if;
    return crm_gdpr_redact_person_in(v_org, p_contacts, p_strong, p_weak);
end
$$;
