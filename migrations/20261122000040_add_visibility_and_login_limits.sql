-- Record visibility per user (all / team / own), enforced by row-level security on contacts,
-- companies and deals, and the settings the login rate limit relies on.
--
-- The acting user's visibility and team are set for the transaction by crm_enter from the
-- user's row (the caller never names them). An unset crm.visibility reads as 'all': code
-- paths without an actor (organization creation, operations jobs) are unaffected.

alter table users add column visibility text not null default 'all'
    constraint users_visibility_check check (visibility in ('all', 'team', 'own'));

-- Who created a record: the transaction's actor, set by the database. A record nobody owns yet
-- is visible to its creator (see the policies below).
alter table contacts add column created_by uuid
    default nullif(current_setting('crm.actor_id', true), '')::uuid;
alter table companies add column created_by uuid
    default nullif(current_setting('crm.actor_id', true), '')::uuid;
alter table deals add column created_by uuid
    default nullif(current_setting('crm.actor_id', true), '')::uuid;

-- Sessions are looked up by user when logging out everywhere and when a user is
-- deactivated; revoked and expired ones are skipped.
create index sessions_live_idx on sessions (org_id, user_id) where revoked_at is null;

-- Enters a tenant scope in one round trip: sets the organization, the actor and the actor's
-- visibility and team for the current transaction only, and returns the actor's role and
-- whether they may act. An unknown or inactive actor gets visibility 'own' (Scope::begin
-- refuses them anyway).
create or replace function crm_enter(p_org uuid, p_actor uuid, out role text, out active boolean)
language plpgsql
as $$
declare
    v_visibility text;
    v_team uuid;
begin
    perform set_config('crm.org_id', p_org::text, true);
    perform set_config('crm.actor_id', coalesce(p_actor::text, ''), true);
    select u.role, u.active and u.deleted_at is null, u.visibility, u.team_id
      into role, active, v_visibility, v_team
    from users u where u.org_id = p_org and u.id = p_actor;
    perform set_config('crm.visibility',
        case when active then coalesce(v_visibility, 'own') else 'own' end, true);
    perform set_config('crm.team_id', coalesce(v_team::text, ''), true);
    -- The planner costs the visibility clause as if every row ran its subqueries (it cannot
    -- know the first arm short-circuits), which would make JIT compilation (hundreds of
    -- milliseconds) kick in for ordinary scans of a few thousand rows. OLTP work gains
    -- nothing from JIT: off for this transaction.
    perform set_config('jit', 'off', true);
end
$$;

-- Visibility joins the tenant policy of contacts, companies and deals. The policy stays one
-- (for all commands): its USING clause (which SELECT, UPDATE and DELETE apply to existing
-- rows) is the organization AND the visibility; its WITH CHECK clause (new rows of INSERT
-- and UPDATE) is the organization only, so anyone may create a record. That is the same as
-- a restrictive visibility policy for select, update and delete next to the tenant policy,
-- but keeps one policy per tenant table.
--
-- A row is visible when
--   * the transaction's visibility is 'all' (or unset): the first arm, an InitPlan computed
--     once per statement, so the common path costs one comparison per row;
--   * 'own': the actor is one of the record's owners (any role: owner, member, watcher);
--   * 'team': the actor, or a member of the actor's team, is one of the record's owners;
--   * the actor created the record and nobody owns it yet: PostgreSQL checks the rows of
--     `insert ... returning` against this clause before the creator can be added to the
--     owners table, and a record must not vanish from its creator before it is assigned.
do $$
declare
    r record;
begin
    for r in
        select * from (values
            ('contacts', 'contact_owners', 'contact_id'),
            ('companies', 'company_owners', 'company_id'),
            ('deals', 'deal_owners', 'deal_id')
        ) as t(tbl, owners, col)
    loop
        execute format('drop policy tenant_isolation on %I', r.tbl);
        execute format(
            'create policy tenant_isolation on %1$I as permissive for all to public '
            'using ('
            '  org_id = nullif(current_setting(''crm.org_id'', true), '''')::uuid '
            '  and ((select coalesce(nullif(current_setting(''crm.visibility'', true), ''''), ''all'')) = ''all'' '
            '       or exists ('
            '           select 1 from %2$I o '
            '           where o.org_id = %1$I.org_id and o.%3$I = %1$I.id '
            '             and (o.user_id = nullif(current_setting(''crm.actor_id'', true), '''')::uuid '
            '                  or (current_setting(''crm.visibility'', true) = ''team'' '
            '                      and exists (select 1 from users u '
            '                                  where u.org_id = o.org_id and u.id = o.user_id '
            '                                    and u.team_id = nullif(current_setting(''crm.team_id'', true), '''')::uuid)))) '
            '       or (%1$I.created_by = nullif(current_setting(''crm.actor_id'', true), '''')::uuid '
            '           and not exists (select 1 from %2$I o '
            '                           where o.org_id = %1$I.org_id and o.%3$I = %1$I.id)))) '
            'with check (org_id = nullif(current_setting(''crm.org_id'', true), '''')::uuid)',
            r.tbl, r.owners, r.col);
    end loop;
end
$$;

-- Search bypasses row-level security (see the first migration), so it applies the same
-- visibility itself: the body is unchanged but for the visibility condition on contacts and
-- companies.
create or replace function crm_search(p_query text, p_limit integer default 20)
returns table (kind text, id uuid, name text, email text, score real)
language plpgsql stable security definer
set search_path = public, pg_temp
as $$
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
    return query
    with hits as (
        (select 'contact'::text as kind, c.id,
                btrim(c.first_name || ' ' || c.last_name) as name, c.email,
                (0.7 * word_similarity(v_q, c.search_text)
                 + case when c.search_text like v_like then 0.3 else 0 end)::real as score
         from contacts c
         where c.org_id = v_org and c.deleted_at is null
           and (v_q <% c.search_text or c.search_text like v_like)
           and (v_vis = 'all' or exists (
                select 1 from contact_owners o
                where o.org_id = v_org and o.contact_id = c.id
                  and (o.user_id = v_actor
                       or (v_vis = 'team' and exists (
                           select 1 from users u
                           where u.org_id = v_org and u.id = o.user_id and u.team_id = v_team))))
                or (c.created_by = v_actor and not exists (
                    select 1 from contact_owners o where o.org_id = v_org and o.contact_id = c.id)))
         order by score desc
         limit p_limit)
        union all
        (select 'company'::text, co.id, co.name, co.email,
                (0.7 * word_similarity(v_q, co.search_text)
                 + case when co.search_text like v_like then 0.3 else 0 end)::real as score
         from companies co
         where co.org_id = v_org and co.deleted_at is null
           and (v_q <% co.search_text or co.search_text like v_like)
           and (v_vis = 'all' or exists (
                select 1 from company_owners o
                where o.org_id = v_org and o.company_id = co.id
                  and (o.user_id = v_actor
                       or (v_vis = 'team' and exists (
                           select 1 from users u
                           where u.org_id = v_org and u.id = o.user_id and u.team_id = v_team))))
                or (co.created_by = v_actor and not exists (
                    select 1 from company_owners o where o.org_id = v_org and o.company_id = co.id)))
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
