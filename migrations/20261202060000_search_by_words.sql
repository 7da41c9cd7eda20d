-- Search by words: a query made of name words is answered from an index of whole words
-- and a small per-tenant dictionary of them, instead of the trigram index over every row.
--
-- Measured at a million contacts: a typo of a common surname ("Scchmidt") made the trigram
-- index collect about 22,000 candidate rows (every row sharing half of the query's
-- trigrams), and even a verbatim common name intersected posting lists of some hundred
-- thousand entries. The dictionary of distinct words (about 32,000 at a million contacts:
-- first and last names, company-name words) is searched by trigram similarity in well under
-- a millisecond, and the rows holding the words found come from a GIN index of whole words
-- (a single posting list per word).
--
-- A query of letters, blanks, hyphens and apostrophes only (after folding) takes this path:
--   * each query word is looked up in the dictionary: the words containing it verbatim or
--     similar to it (`<%`, word similarity at least 0.5), best first, at most 8;
--   * candidates are rows holding, for every query word, one of its best words (within 0.1
--     of the best similarity; at most 100 per kind), and, when those are fewer than the
--     limit, rows holding any word found for any query word (at most 200; so a rare double
--     name still brings the single names, as before);
--   * they are ranked exactly as before (word similarity to the whole search text, plus the
--     bonus for a verbatim match), visibility applied inside the candidate queries.
-- Any other query (digits of a phone number, an e-mail address, a domain), or one of whose
-- words has no similar word in the dictionary, or that finds nothing this way, takes the
-- trigram path as before.

-- The words of a search text as the word index keeps them: split at blanks and hyphens.
create function crm_search_words(t text) returns text[]
language sql immutable parallel safe strict
as $$ select array_remove(string_to_array(translate(t, '-', ' '), ' '), '') $$;

create index contacts_words_idx on contacts using gin (crm_search_words(search_text));
create index companies_words_idx on companies using gin (crm_search_words(search_text));

-- The dictionary: every name word (no digits, no dot or @ of an address or domain) of the
-- tenant's contacts and companies. It lives in a schema of its own that the application
-- role cannot even look into: only the search functions read it, so a user restricted to
-- their own records cannot learn other names through it. Words leave it with the last
-- record holding them, so an erased person's name does not stay behind.
create schema crm_private;
revoke all on schema crm_private from public;
create table crm_private.search_words (
    org_id uuid not null references organizations (id) on delete cascade,
    word text not null,
    primary key (org_id, word)
);
create index search_words_trgm_idx on crm_private.search_words using gin (word gin_trgm_ops);

insert into crm_private.search_words (org_id, word)
select distinct r.org_id, w
from (select org_id, search_text from contacts union all select org_id, search_text from companies) r,
     unnest(crm_search_words(r.search_text)) w
where w !~ '[@.0-9]'
on conflict do nothing;
select crm_enable_tenancy('crm_private.search_words', 'select');
revoke all on crm_private.search_words from crm_app;

-- Keeps the dictionary: statement-level, so a bulk import adds its words in one step.
create function crm_search_words_sync() returns trigger
language plpgsql security definer
set search_path = public, pg_temp
as $$
begin
    if tg_op = 'INSERT' then
        insert into crm_private.search_words (org_id, word)
        select distinct n.org_id, w from new_rows n, unnest(crm_search_words(n.search_text)) w
        where w !~ '[@.0-9]'
        on conflict do nothing;
        return null;
    end if;
    if tg_op = 'UPDATE' then
        insert into crm_private.search_words (org_id, word)
        select distinct n.org_id, w
        from new_rows n join old_rows o on o.org_id = n.org_id and o.id = n.id,
             unnest(crm_search_words(n.search_text)) w
        where o.search_text is distinct from n.search_text
          and w !~ '[@.0-9]'
        on conflict do nothing;
        delete from crm_private.search_words s
        using (select distinct o.org_id, w as word
               from old_rows o join new_rows n on n.org_id = o.org_id and n.id = o.id,
                    unnest(crm_search_words(o.search_text)) w
               where o.search_text is distinct from n.search_text) g
        where s.org_id = g.org_id and s.word = g.word
          and not exists (select 1 from contacts c where c.org_id = g.org_id
                          and crm_search_words(c.search_text) @> array[g.word])
          and not exists (select 1 from companies c where c.org_id = g.org_id
                          and crm_search_words(c.search_text) @> array[g.word]);
        return null;
    end if;
    delete from crm_private.search_words s
    using (select distinct o.org_id, w as word
           from old_rows o, unnest(crm_search_words(o.search_text)) w) g
    where s.org_id = g.org_id and s.word = g.word
      and not exists (select 1 from contacts c where c.org_id = g.org_id
                      and crm_search_words(c.search_text) @> array[g.word])
      and not exists (select 1 from companies c where c.org_id = g.org_id
                      and crm_search_words(c.search_text) @> array[g.word]);
    return null;
end
$$;
revoke all on function crm_search_words_sync() from public;

create trigger contacts_words_ins after insert on contacts
    referencing new table as new_rows for each statement execute function crm_search_words_sync();
create trigger contacts_words_upd after update on contacts
    referencing old table as old_rows new table as new_rows
    for each statement execute function crm_search_words_sync();
create trigger contacts_words_del after delete on contacts
    referencing old table as old_rows for each statement execute function crm_search_words_sync();
create trigger companies_words_ins after insert on companies
    referencing new table as new_rows for each statement execute function crm_search_words_sync();
create trigger companies_words_upd after update on companies
    referencing old table as old_rows new table as new_rows
    for each statement execute function crm_search_words_sync();
create trigger companies_words_del after delete on companies
    referencing old table as old_rows for each statement execute function crm_search_words_sync();

-- The candidate conditions of the word path for one kind: rows holding a best word of
-- every query word, and rows holding any word found. NULL when a query word has no similar
-- word in the dictionary.
create function crm_search_word_terms(p_org uuid, p_words text[], out p_all text, out p_any text)
language plpgsql stable security definer
set search_path = public, pg_temp
as $$
declare
    v_w text;
    v_found text[];
    v_best text[];
    v_any text[] := '{}';
begin
    p_all := '';
    foreach v_w in array p_words loop
        select array_agg(x.word order by x.word = v_w desc, x.s desc, x.word),
               array_agg(x.word order by x.word = v_w desc, x.s desc, x.word)
                   filter (where x.s >= x.top - 0.1)
        into v_found, v_best
        from (select y.word, y.s, max(y.s) over () as top
              from (select sw.word, word_similarity(v_w, sw.word) as s
                    from crm_private.search_words sw
                    where sw.org_id = p_org
                      and (v_w <% sw.word
                           or sw.word like '%' || replace(replace(replace(v_w, '\', '\\'), '%', '\%'), '_', '\_') || '%')
                    order by sw.word = v_w desc, 2 desc, 1 limit 8) y) x;
        if v_found is null then
            p_all := null;
            p_any := null;
            return;
        end if;
        p_all := p_all || format(' and crm_search_words(t.search_text) && %L::text[]', v_best);
        v_any := v_any || v_found;
    end loop;
    p_any := format(' and crm_search_words(t.search_text) && %L::text[]', v_any);
end
$$;
revoke all on function crm_search_word_terms(uuid, text[]) from public;

-- The search statement: candidates of each kind by two conditions (the first capped at 100
-- rows, the second at 200; with `p_gate` the second only when the first found fewer than
-- the limit), ranked by word similarity plus the bonus for a verbatim match.
-- Binds: $1 organization, $2 folded query, $3 its LIKE pattern, $4 visibility, $5 actor,
-- $6 team, $7 limit. `p_visible` is the visibility condition with %1$s..%3$s for the table,
-- owners table and key column; the conditions are fixed text or quoted literals.
create function crm_search_sql(p_visible text, p_first text, p_second text, p_gate boolean)
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
            where (t.org_id = $1) is true and t.deleted_at is null $q$ || p_first || ' and '
                || v_c || $q$ limit 100),
        c2 as (
            select t.id, btrim(t.first_name || ' ' || t.last_name) as name, t.email, t.search_text
            from contacts t
            where (t.org_id = $1) is true and t.deleted_at is null $q$ || p_second || v_gate_c
                || ' and ' || v_c || $q$ limit 200),
        f1 as (
            select t.id, t.name, t.email, t.search_text from companies t
            where (t.org_id = $1) is true and t.deleted_at is null $q$ || p_first || ' and '
                || v_f || $q$ limit 100),
        f2 as (
            select t.id, t.name, t.email, t.search_text from companies t
            where (t.org_id = $1) is true and t.deleted_at is null $q$ || p_second || v_gate_f
                || ' and ' || v_f || $q$ limit 200),
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
revoke all on function crm_search_sql(text, text, text, boolean) from public;

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
    v_like text;
    v_visible text;
    v_words text[];
    v_all text;
    v_any text;
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
            return query execute crm_search_sql(v_visible, v_all, v_any, true)
                using v_org, v_q, v_like, v_vis, v_actor, v_team, p_limit;
            get diagnostics v_found = row_count;
            if v_found > 0 then
                return;
            end if;
        end if;
    end if;

    -- The trigram path.
    return query execute crm_search_sql(v_visible, ' and t.search_text like $3', ' and $2 <% t.search_text', false)
        using v_org, v_q, v_like, v_vis, v_actor, v_team, p_limit;
end
$fn$;
alter function crm_search(text, integer) set enable_seqscan = off;
revoke all on function crm_search(text, integer) from public;
grant execute on function crm_search(text, integer) to crm_app;

-- After a bulk import: fresh planner statistics (with the guards of
-- 20261202050100_confine_organization_metadata: only a user who may import, at most once a
-- minute) and the pending entries of the GIN indexes merged, so the searches right after it
-- neither fall back to scans nor read a pending list of thousands of rows one by one.
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
    perform gin_clean_pending_list('contacts_search_idx'::regclass);
    perform gin_clean_pending_list('contacts_words_idx'::regclass);
    perform gin_clean_pending_list('companies_search_idx'::regclass);
    perform gin_clean_pending_list('companies_words_idx'::regclass);
end
$$;
revoke all on function crm_analyze_after_import() from public;
grant execute on function crm_analyze_after_import() to crm_app;
