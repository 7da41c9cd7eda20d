-- A schema Citus accepts when it distributes the tenant tables by org_id (issue 20).
--
-- 1. Foreign keys with `on delete set null (col)`. Citus refuses SET NULL / SET DEFAULT
--    actions on a foreign key that includes the distribution column, even PostgreSQL 15's
--    column-list form (citus#7132). Every such key becomes a plain NO ACTION key under the
--    same name, and the library clears the referencing column itself, with crm_detach below,
--    in the same transaction right before it hard-deletes the referenced rows (erasure,
--    retention purge, stage and list-entry removal). Records are soft-deleted in normal
--    use; a hard delete that forgot to detach fails with a foreign-key violation (23503),
--    never leaves a dangling reference. Deleting an organization still cascades through
--    everything: NO ACTION is checked at the end of the statement, when the cascade has
--    removed the referencing rows too.
do $$
declare
    c record;
begin
    for c in
        select con.conrelid::regclass as tbl, con.conname,
               regexp_replace(pg_get_constraintdef(con.oid),
                              ' ON DELETE SET (NULL|DEFAULT)( \([^)]*\))?', '') as def
        from pg_constraint con
        where con.contype = 'f'
          and con.connamespace = 'public'::regnamespace
          and (con.confdeltype in ('n', 'd') or con.confupdtype in ('n', 'd'))
    loop
        execute format('alter table %s drop constraint %I, add constraint %I %s',
                       c.tbl, c.conname, c.conname, c.def);
    end loop;
end
$$;

-- What those keys did: nulls every reference, in the current organization, to the rows
-- `p_ids` of `p_table` (as the keys' SET NULL action did, for rows the caller may not see
-- too: the action ran as the owner). Called by the library right before it deletes those
-- rows; each update filters org_id explicitly, so Citus routes it to the tenant's shard.
create function crm_detach(p_table text, p_ids uuid[]) returns void
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
begin
    if v_org is null then
        raise exception 'no organization set for this transaction' using errcode = '42501';
    end if;
    case p_table
    when 'teams' then
        update users set team_id = null where org_id = v_org and team_id = any(p_ids);
    when 'industries' then
        update companies set industry_id = null where org_id = v_org and industry_id = any(p_ids);
    when 'account_types' then
        update companies set account_type_id = null
        where org_id = v_org and account_type_id = any(p_ids);
    when 'companies' then
        update contacts set company_id = null where org_id = v_org and company_id = any(p_ids);
        update deals set company_id = null where org_id = v_org and company_id = any(p_ids);
    when 'contacts' then
        update deals set contact_id = null where org_id = v_org and contact_id = any(p_ids);
    when 'stages' then
        update deal_stage_history set from_stage_id = null
        where org_id = v_org and from_stage_id = any(p_ids);
        update deal_stage_history set to_stage_id = null
        where org_id = v_org and to_stage_id = any(p_ids);
    when 'users' then
        update activities set assignee_id = null where org_id = v_org and assignee_id = any(p_ids);
    else
        raise exception 'crm_detach: unknown table' using errcode = '22023';
    end case;
end
$$;
revoke all on function crm_detach(text, uuid[]) from public;
grant execute on function crm_detach(text, uuid[]) to crm_app;

-- 2. The tenant context in a form Citus forwards to its workers. Citus propagates
--    `SET LOCAL` statements (with citus.propagate_set_commands = 'local'), not set_config()
--    calls. crm_enter now issues `set local` for the organization, actor, visibility and
--    team; in PostgreSQL the two are the same (transaction-local), so pooling stays safe.
--    Values are quoted by format(%L); the names are fixed.
create or replace function crm_enter(p_org uuid, p_actor uuid,
                                     out role text, out active boolean, out region text)
language plpgsql
as $$
declare
    v_visibility text;
    v_team uuid;
begin
    execute format('set local crm.org_id = %L', p_org::text);
    execute format('set local crm.actor_id = %L', coalesce(p_actor::text, ''));
    select u.role, u.active and u.deleted_at is null, u.visibility, u.team_id
      into role, active, v_visibility, v_team
    from users u where u.org_id = p_org and u.id = p_actor;
    select o.default_region::text into region from organizations o where o.id = p_org;
    execute format('set local crm.visibility = %L',
                   case when active then coalesce(v_visibility, 'own') else 'own' end);
    execute format('set local crm.team_id = %L', coalesce(v_team::text, ''));
    -- See 20261122000040: OLTP work gains nothing from JIT, off for this transaction.
    set local jit = off;
end
$$;

-- The same for the few places that name the tenant without an actor (organization
-- creation, login): one function, so no statement is spliced in the library.
create function crm_set_tenant(p_org uuid, p_actor uuid) returns void
language plpgsql
as $$
begin
    execute format('set local crm.org_id = %L', coalesce(p_org::text, ''));
    execute format('set local crm.actor_id = %L', coalesce(p_actor::text, ''));
end
$$;
