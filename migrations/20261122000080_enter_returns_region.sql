-- crm_enter also returns the organization's default phone region, so that operations which
-- parse phone numbers need no extra round trip to read it (Scope::begin keeps it on the Tx).
--
-- Everything else is as in 20261122000040_add_visibility_and_login_limits.sql: the
-- organization, actor, visibility and team for the current transaction only, JIT off, and
-- the actor's role and whether they may act. A new OUT parameter changes the result type,
-- which `create or replace` cannot do: the function is dropped and created again (callers
-- selecting `role, active` are unaffected).
drop function crm_enter(uuid, uuid);

create function crm_enter(p_org uuid, p_actor uuid,
                          out role text, out active boolean, out region text)
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
    select o.default_region::text into region from organizations o where o.id = p_org;
    perform set_config('crm.visibility',
        case when active then coalesce(v_visibility, 'own') else 'own' end, true);
    perform set_config('crm.team_id', coalesce(v_team::text, ''), true);
    -- See 20261122000040: OLTP work gains nothing from JIT, off for this transaction.
    perform set_config('jit', 'off', true);
end
$$;
