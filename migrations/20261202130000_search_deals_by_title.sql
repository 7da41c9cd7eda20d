-- `crm search` finds deals by their title too (issue 15, item 12).
--
-- Deals get the same normalised search column as contacts and companies (German spellings
-- folded, accents removed) with a trigram index, and a search function of their own beside
-- crm_search: SECURITY DEFINER like it (so the trigram index stays usable under row-level
-- security), reading the tenant, actor and visibility only from the transaction's settings,
-- with the deal visibility of the tenant policy applied inside. crm_core::search merges its
-- hits with crm_search's by score.

alter table deals add column search_text text generated always as (crm_fold(title)) stored;
create index deals_search_idx on deals using gin (search_text gin_trgm_ops);

create function crm_search_deals(p_query text, p_limit integer default 20)
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
begin
    if v_org is null or length(v_q) = 0 then
        return;
    end if;
    v_like := '%' || replace(replace(replace(v_q, '\', '\\'), '%', '\%'), '_', '\_') || '%';
    perform set_config('pg_trgm.word_similarity_threshold', '0.5', true);
    -- Planned per call (EXECUTE), as crm_search: the pattern is known to the planner.
    return query execute $q$
        with cand as (
            select t.id, t.title, t.search_text
            from deals t
            where (t.org_id = $1) is true and t.deleted_at is null
              and (t.search_text like $3 or $2 <% t.search_text)
              and ($4 = 'all' or exists (
                    select 1 from deal_owners o
                    where o.org_id = $1 and o.deal_id = t.id
                      and (o.user_id = $5
                           or ($4 = 'team' and exists (
                               select 1 from users u
                               where u.org_id = $1 and u.id = o.user_id and u.team_id = $6))))
                   or (t.created_by = $5 and not exists (
                       select 1 from deal_owners o where o.org_id = $1 and o.deal_id = t.id)))
            limit 200)
        select 'deal'::text, c.id, c.title, null::text,
               (0.7 * word_similarity($2, c.search_text)
                + case when c.search_text like $3 then 0.3 else 0 end)::real as score
        from cand c
        order by score desc, c.title
        limit $7 $q$
        using v_org, v_q, v_like, v_vis, v_actor, v_team, p_limit;
end
$fn$;
alter function crm_search_deals(text, integer) set enable_seqscan = off;
revoke all on function crm_search_deals(text, integer) from public;
grant execute on function crm_search_deals(text, integer) to crm_app;
