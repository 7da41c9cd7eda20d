-- Planner statistics of the columns an import looks staged rows up by, refreshed once early
-- in a first import.
--
-- An import into an organization without contacts (a new tenant, a benchmark's fresh
-- database) grows `contacts`, `contact_emails` and `companies` from nothing while autovacuum
-- has not analysed them yet: it visits a new database about once a minute. Without column
-- statistics every equality is guessed at 0.5 % of the rows, so a per-row lookup of a
-- staged name or address may be planned on an index that holds only the organization
-- (every lookup then reads all of its rows: 11.8 s and 24.5 s for the company step of the
-- second and third batch of 50,000 rows, seen in `auto_explain`). The import calls this
-- after its first batch of such a run; the statistics it leaves make the lookups use the
-- indexes led by organization and value, whatever the later size. Only the lookup columns
-- are sampled: 0.24 s at 200,000 contacts, against 0.55 s for `contacts` alone whole.
create function crm_analyze_import_lookups() returns void
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
    analyze contacts (org_id, id, deleted_at, email_norm, last_name, company_id,
                      external_system, external_id);
    analyze contact_emails (org_id, contact_id, email_norm, domain);
    analyze companies (org_id, id, name_norm, deleted_at, domain);
end
$$;
revoke all on function crm_analyze_import_lookups() from public;
grant execute on function crm_analyze_import_lookups() to crm_app;
