-- Contacts lose their trigram index: names are searched through the word index and its
-- dictionary (20261202060000), e-mail addresses and phone numbers through btrees.
--
-- The trigram index over a contact's search text (names, primary e-mail, primary phone) held
-- about 45 entries per contact and was the most expensive thing a bulk import wrote:
-- inserting 100,000 contacts into a table of 1.8 million took 16 s with it and 9.4 s without
-- it (the word index kept), and a 200,000-row `crm import contacts` 64.7 s against 55.4 s.
-- Since the word path, it answered only what the dictionary cannot: queries holding digits,
-- `@` or `.`, and name queries none of whose words is in the dictionary.
--
-- Those go to the btrees now, with the same ranking as before (word similarity to the
-- search text plus the bonus for a verbatim match):
--   * an e-mail address, or the start of one (`anna.m`, `jsmith@`): every address of the
--     contact, not only the primary, by prefix (contact_emails_norm_idx, rebuilt with
--     text_pattern_ops so a prefix is a range of it whatever the database's collation);
--   * a domain (`example.com`, `@example.com`): the contacts with an address at it
--     (contact_emails_domain_idx, 20261202180000);
--   * a phone number: the library turns it into the start of an E.164 number (national
--     numbers in the organization's default region), matched by prefix on every number of
--     the contact (contact_phones_number_idx, rebuilt likewise).
-- What this gives up: a typo inside an e-mail address or a phone number, and a fragment
-- from the middle of one (`mueller@` still finds `mueller@…`, `ller@` does not). Companies
-- keep their trigram index (one company per eight contacts, and their names are
-- matched as fragments more often).

drop index contacts_search_idx;

drop index contact_emails_norm_idx;
create index contact_emails_norm_idx on contact_emails (org_id, email_norm text_pattern_ops);
drop index contact_phones_number_idx;
create index contact_phones_number_idx on contact_phones (org_id, number_e164 text_pattern_ops);

-- The search statement: candidates of each kind by two conditions (the first capped at 100
-- rows, the second at 200; with `p_gate` the second only when the first found fewer than
-- the limit), ranked by word similarity plus the bonus for a verbatim match. Contacts and
-- companies have conditions of their own.
-- Binds: $1 organization, $2 folded query, $3 its LIKE pattern, $4 visibility, $5 actor,
-- $6 team, $7 limit, $8 the address prefix pattern, $9 the domain. `p_visible` is the
-- visibility condition with %1$s..%3$s for the table, owners table and key column; the
-- conditions are fixed text or quoted literals.
drop function crm_search_sql(text, text, text, boolean);
create function crm_search_sql(p_visible text, p_contact_first text, p_contact_second text,
                               p_company_first text, p_company_second text, p_gate boolean)
returns text
language plpgsql immutable
set search_path = public, pg_temp
as $fn$
declare
    v_c text := format(p_visible, 'contacts', 'contact_owners', 'contact_id');
    v_f text := format(p_visible, 'companies', 'company_owners', 'company_id');
    v_gate_c text := case when p_gate then ' and (select count(*) from c1) < $7' else '' end;
    v_gate_f text := case when p_gate then ' and (select count(*) from f1) < $7' else '' end;
begin
    return $q$
        with c1 as (
            select t.id, btrim(t.first_name || ' ' || t.last_name) as name, t.email, t.search_text
            from contacts t
            where (t.org_id = $1) is true and t.deleted_at is null $q$ || p_contact_first
                || ' and ' || v_c || $q$ limit 100),
        c2 as (
            select t.id, btrim(t.first_name || ' ' || t.last_name) as name, t.email, t.search_text
            from contacts t
            where (t.org_id = $1) is true and t.deleted_at is null $q$ || p_contact_second
                || v_gate_c || ' and ' || v_c || $q$ limit 200),
        f1 as (
            select t.id, t.name, t.email, t.search_text from companies t
            where (t.org_id = $1) is true and t.deleted_at is null $q$ || p_company_first
                || ' and ' || v_f || $q$ limit 100),
        f2 as (
            select t.id, t.name, t.email, t.search_text from companies t
            where (t.org_id = $1) is true and t.deleted_at is null $q$ || p_company_second
                || v_gate_f || ' and ' || v_f || $q$ limit 200),
        contact_cand as (select * from c1 union select * from c2),
        company_cand as (select * from f1 union select * from f2),
        hits as (
            (select 'contact'::text as kind, k.id, k.name, k.email,
                    (0.7 * word_similarity($2, k.search_text)
                     + case when k.search_text like $3 then 0.3 else 0 end)::real as score
             from contact_cand k
             order by score desc limit $7)
            union all
            (select 'company'::text, k.id, k.name, k.email,
                    (0.7 * word_similarity($2, k.search_text)
                     + case when k.search_text like $3 then 0.3 else 0 end)::real
             from company_cand k
             order by 5 desc limit $7)
        )
        select h.kind, h.id, h.name, h.email, h.score from hits h
        order by h.score desc, h.name
        limit $7 $q$;
end
$fn$;
revoke all on function crm_search_sql(text, text, text, text, text, boolean) from public;

create or replace function crm_search(p_query text, p_limit integer default 20)
returns table (kind text, id uuid, name text, email text, score real)
language plpgsql stable security definer
set search_path = public, pg_temp
as $fn$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_actor uuid := nullif(current_setting('crm.actor_id', true), '')::uuid;
    v_vis text := coalesce(nullif(current_setting('crm.visibility', true), ''), 'all');
    v_team uuid := nullif(current_setting('crm.team_id', true), '')::uuid;
    v_q text := btrim(crm_fold(coalesce(p_query, '')));
    v_addr text := lower(btrim(coalesce(p_query, '')));
    v_like text;
    v_prefix text;
    v_domain text;
    v_visible text;
    v_words text[];
    v_all text;
    v_any text;
    v_first text;
    v_second text;
    v_found integer;
begin
    if v_org is null or length(v_q) = 0 then
        return;
    end if;
    v_like := '%' || replace(replace(replace(v_q, '\', '\\'), '%', '\%'), '_', '\_') || '%';
    perform set_config('pg_trgm.word_similarity_threshold', '0.5', true);
    -- %1$s: table, %2$s: owners table, %3$s: owners' key column.
    v_visible := $v$($4 = 'all' or exists (
                select 1 from %2$s o
                where o.org_id = $1 and o.%3$s = t.id
                  and (o.user_id = $5
                       or ($4 = 'team' and exists (
                           select 1 from users u
                           where u.org_id = $1 and u.id = o.user_id and u.team_id = $6))))
                or (t.created_by = $5 and not exists (
                    select 1 from %2$s o where o.org_id = $1 and o.%3$s = t.id)))$v$;

    -- The word path.
    v_words := crm_search_words(v_q);
    if v_q ~ '^[a-z'' -]+$' and cardinality(v_words) between 1 and 6 then
        select w.p_all, w.p_any into v_all, v_any from crm_search_word_terms(v_org, v_words) w;
        if v_all is not null then
            return query execute crm_search_sql(v_visible, v_all, v_any, v_all, v_any, true)
                using v_org, v_q, v_like, v_vis, v_actor, v_team, p_limit, null::text, null::text;
            get diagnostics v_found = row_count;
            if v_found > 0 then
                return;
            end if;
        end if;
    end if;

    -- The address path: contacts by the start of a phone number (the library passes one as
    -- `+` and digits), of an e-mail address, or by a domain; companies by trigrams.
    if v_addr ~ '^\+[0-9]{3,}$' then
        v_prefix := v_addr || '%';
        v_first := ' and t.org_id = $1 and t.id in (select p.contact_id from contact_phones p'
            || ' where p.org_id = $1 and p.number_e164 like $8)';
    else
        v_prefix := replace(replace(replace(v_addr, '\', '\\'), '%', '\%'), '_', '\_') || '%';
        v_first := ' and t.org_id = $1 and t.id in (select e.contact_id from contact_emails e'
            || ' where e.org_id = $1 and e.email_norm like $8)';
    end if;
    v_domain := ltrim(v_addr, '@');
    if v_domain ~ '^[^@\s]+\.[^@\s]+$' then
        v_second := ' and t.org_id = $1 and t.id in (select e.contact_id from contact_emails e'
            || ' where e.org_id = $1 and split_part(e.email_norm, ''@'', 2) = $9)';
    else
        v_second := ' and false';
    end if;
    return query execute crm_search_sql(v_visible, v_first, v_second,
                                        ' and t.search_text like $3', ' and $2 <% t.search_text',
                                        false)
        using v_org, v_q, v_like, v_vis, v_actor, v_team, p_limit, v_prefix, v_domain;
end
$fn$;
alter function crm_search(text, integer) set enable_seqscan = off;
-- A plan that seems costly (a common domain) is still a few milliseconds of work; compiling
-- it (JIT) took 1.4 s in a measurement at a million contacts.
alter function crm_search(text, integer) set jit = off;

-- After a large import: the pending entries of the remaining GIN indexes merged, and the
-- statistics refreshed at most once a minute (20261203030000, without the dropped index).
create or replace function crm_analyze_after_import() returns void
language plpgsql security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_actor uuid := nullif(current_setting('crm.actor_id', true), '')::uuid;
begin
    if v_org is null or not exists (
        select 1 from users u
        where u.org_id = v_org and u.id = v_actor and u.active and u.deleted_at is null
          and u.role in ('owner', 'admin', 'manager')) then
        raise exception 'only a user who may import refreshes the statistics'
            using errcode = '42501';
    end if;
    perform gin_clean_pending_list('contacts_words_idx'::regclass);
    perform gin_clean_pending_list('companies_search_idx'::regclass);
    perform gin_clean_pending_list('companies_words_idx'::regclass);
    perform gin_clean_pending_list('crm_private.search_words_trgm_idx'::regclass);
    if exists (select 1 from pg_stat_user_tables s
               where s.relid = 'contacts'::regclass
                 and greatest(s.last_analyze, s.last_autoanalyze) > now() - interval '1 minute') then
        return;
    end if;
    analyze contacts;
    analyze contact_emails;
    analyze contact_phones;
    analyze contact_owners;
    analyze contact_tags;
    analyze companies;
    analyze crm_private.search_words;
end
$$;
