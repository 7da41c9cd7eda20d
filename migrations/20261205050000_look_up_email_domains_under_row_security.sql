-- E-mail domains as a column: `contact_emails.domain`.
--
-- The one-record duplicate check of contacts (`contact add`, the new rows of an import into
-- an organization that has contacts) finds existing contacts at the new one's e-mail domain.
-- It compared `split_part(email_norm, '@', 2)`, which `contact_emails_domain_idx` indexes as
-- an expression; under row-level security a comparison through `split_part` (not leakproof)
-- stays above the policy, so every domain looked up read every address of the organization:
-- 0.5 s per domain at a million contacts, and an import of 1,000 new contacts into such an
-- organization ran for over six minutes. Kept as a column, the comparison is plain text
-- equality (leakproof) and its index serves it: 0.08 ms per domain.
--
-- Search (`crm_search`, which runs as the owner and could use the expression index) compares
-- the column too, so the expression index goes: one index entry per address, not two.
-- `crm_search` is as in 20261204020000 but for that comparison.
alter table contact_emails
    add column domain text generated always as (split_part(email_norm, '@', 2)) stored;
create index contact_emails_domain_key_idx on contact_emails (org_id, domain);
drop index contact_emails_domain_idx;

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
            || ' where e.org_id = $1 and e.domain = $9)';
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
