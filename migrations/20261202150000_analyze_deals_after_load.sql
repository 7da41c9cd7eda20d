-- Fresh planner statistics for the deal tables after a bulk load of deals with their stage
-- history and audit entries (as the benchmark writes them). Without them the planner
-- estimates one row for tables that hold thousands and joins them in nested loops: the
-- velocity report over 2,000 stage changes took 0.26 s instead of 9 ms, the board as of a
-- past date 33 ms instead of 17 ms. Same guards as crm_analyze_after_import
-- (20261202050100): only an active owner, admin or manager of the transaction's
-- organization, and at most once a minute whoever asks (ANALYZE reads every tenant's rows).
create function crm_analyze_deals_after_load() returns void
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
               where s.relid = 'deals'::regclass
                 and greatest(s.last_analyze, s.last_autoanalyze) > now() - interval '1 minute') then
        return;
    end if;
    analyze deals;
    analyze deal_stage_history;
    analyze deal_owners;
    analyze activities;
    analyze audit_log;
end
$$;
revoke all on function crm_analyze_deals_after_load() from public;
grant execute on function crm_analyze_deals_after_load() to crm_app;
