-- Search that stays fast in large tenants:
-- * the statement is planned for each call with the actual query (EXECUTE ... USING): a
--   cached generic plan cannot know how selective a query is and fell back to scans;
-- * the candidates are capped before ranking: up to 200 verbatim (substring) matches and up
--   to 500 fuzzy (trigram word-similarity) matches per kind, so a common name such as
--   "Müller" in a million contacts ranks at most 300 rows per kind, not ten thousand;
-- * the candidate rows carry what the ranking needs, so nothing is joined back;
-- * visibility (all / team / own, from the transaction's actor) applies inside the
--   candidate queries, so a restricted user's candidates are their own records.
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
    v_sql text;
    v_visible text;
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
    v_sql := $q$
        with contact_cand as (
            (select t.id, btrim(t.first_name || ' ' || t.last_name) as name, t.email, t.search_text
             from contacts t
             where (t.org_id = $1) is true and t.deleted_at is null and t.search_text like $3 and $q$
                || format(v_visible, 'contacts', 'contact_owners', 'contact_id') || $q$ limit 100)
            union
            (select t.id, btrim(t.first_name || ' ' || t.last_name), t.email, t.search_text
             from contacts t
             where (t.org_id = $1) is true and t.deleted_at is null and $2 <% t.search_text and $q$
                || format(v_visible, 'contacts', 'contact_owners', 'contact_id') || $q$ limit 200)
        ),
        company_cand as (
            (select t.id, t.name, t.email, t.search_text from companies t
             where (t.org_id = $1) is true and t.deleted_at is null and t.search_text like $3 and $q$
                || format(v_visible, 'companies', 'company_owners', 'company_id') || $q$ limit 100)
            union
            (select t.id, t.name, t.email, t.search_text from companies t
             where (t.org_id = $1) is true and t.deleted_at is null and $2 <% t.search_text and $q$
                || format(v_visible, 'companies', 'company_owners', 'company_id') || $q$ limit 200)
        ),
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
    return query execute v_sql using v_org, v_q, v_like, v_vis, v_actor, v_team, p_limit;
end
$fn$;
-- The trigram index is always the right access path for this function; the planner's
-- fixed selectivity guess for `<%` otherwise picks a sequential scan with an early exit
-- that degrades with the tenant's size. For the same reason the organization filter is
-- written `(org_id = $1) is true` in the candidate queries: otherwise a btree that leads
-- with org_id (every tenant table has several) looks like a cheap ordered path under the
-- LIMIT and is walked end to end.
alter function crm_search(text, integer) set enable_seqscan = off;
revoke all on function crm_search(text, integer) from public;
grant execute on function crm_search(text, integer) to crm_app;

-- Every imported row carries its run id, so these partial indexes held every imported
-- record and cost an index insertion per row on the import's hot path; tracing a run's
-- records is a rare, offline question that a scan answers.
drop index if exists contacts_import_idx;
drop index if exists companies_import_idx;

-- Refreshes the planner statistics of the tables a bulk import fills, so the searches and
-- lists right after a large import are planned on real numbers instead of waiting for
-- autovacuum (the app role may not ANALYZE tables it does not own).
create function crm_analyze_after_import() returns void
language plpgsql security definer
set search_path = public, pg_temp
as $$
begin
    analyze contacts;
    analyze contact_emails;
    analyze contact_phones;
    analyze contact_owners;
    analyze contact_tags;
    analyze companies;
end
$$;
revoke all on function crm_analyze_after_import() from public;
grant execute on function crm_analyze_after_import() to crm_app;
