-- Cross-tenant metadata (issue 14, item 2). A tenant's session (the application role with
-- crm.org_id set) reads and changes only its own organization: no other organization's
-- name, slug or settings. Creating and listing organizations are operator tasks done on the
-- owner's connection (Crm::create_organization, Crm::organizations); the application role
-- may only turn a slug into an id (crm_org_id_by_slug), which front-ends need before they
-- have a scope.

drop policy org_read on organizations;
drop policy org_create on organizations;
create policy org_read on organizations for select
    using (id = nullif(current_setting('crm.org_id', true), '')::uuid);
revoke insert on organizations from crm_app;

-- The id of the organization with this slug, or null.
create function crm_org_id_by_slug(p_slug text) returns uuid
language sql stable security definer
set search_path = public, pg_temp
as $$ select id from organizations where slug = p_slug $$;
revoke all on function crm_org_id_by_slug(text) from public;
grant execute on function crm_org_id_by_slug(text) to crm_app;

-- Refreshing the statistics after a bulk import: only for an active owner, admin or manager
-- (the roles that may import) of the transaction's organization, and at most once a minute
-- whoever asks (ANALYZE reads every tenant's rows: it must not become a lever on the others).
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
end
$$;
revoke all on function crm_analyze_after_import() from public;
grant execute on function crm_analyze_after_import() to crm_app;

-- The planner's column statistics hold values of every tenant's rows (most common values,
-- histograms): any role with SELECT on a table reads them through pg_stats, row-level
-- security or not. Nobody but the owner (a superuser or the schema owner, who reads
-- pg_statistic directly) needs them here. Needs the right to change the catalog's grants:
-- where the migrating role lacks it, a notice says what to run.
do $$
declare
    v text;
begin
    foreach v in array array['pg_stats', 'pg_stats_ext', 'pg_stats_ext_exprs'] loop
        if to_regclass('pg_catalog.' || v) is not null then
            begin
                execute format('revoke select on pg_catalog.%I from public', v);
            exception when insufficient_privilege then
                raise notice 'run as a superuser: revoke select on pg_catalog.% from public', v;
            end;
        end if;
    end loop;
end
$$;
