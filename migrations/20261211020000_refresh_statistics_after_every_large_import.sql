-- A large import ends with fresh planner statistics again.
--
-- `crm_analyze_after_import` (20261203030000) skipped the statistics when `contacts` had
-- been analysed in the last minute: ANALYZE samples every tenant's rows, so it was to run at
-- most once a minute, and not right after autovacuum had. But an organization's first
-- import analyses the lookup columns of its first batch itself (`crm_analyze_import_lookups`,
-- after 6,250 rows), and that counted as fresh once a million-row import took less than a
-- minute (57 s): the import ended with the statistics of its first 6,250 rows, and every
-- search until autovacuum came by was planned on them. 200 searches right after such an
-- import (surnames, every other with a typo; autovacuum kept away from the tables): most
-- took about 450 ms instead of 5; the benchmark's search scenario, run right after its
-- import, measured p95 372.8 ms.
--
-- The once-a-minute limit now counts this function's own refreshes, recorded in the row
-- below: the first large import to end in a minute claims it and analyses (a concurrent
-- claimant waits on the row's lock, then finds it fresh and skips), the others in the same
-- minute skip the analysis. The GIN clean-up runs every time, as before. Analysing the seven
-- tables after a million contacts takes about 1.1 s.
create table crm_private.statistics_refreshes (
    only_row boolean primary key default true check (only_row),
    refreshed_at timestamptz not null
);

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
    perform gin_clean_pending_list('contacts_name_words_idx'::regclass);
    perform gin_clean_pending_list('companies_search_idx'::regclass);
    perform gin_clean_pending_list('companies_name_words_idx'::regclass);
    perform gin_clean_pending_list('crm_private.search_words_trgm_idx'::regclass);
    insert into crm_private.statistics_refreshes as r (only_row, refreshed_at)
    values (true, now())
    on conflict (only_row) do update set refreshed_at = excluded.refreshed_at
        where r.refreshed_at < now() - interval '1 minute';
    if not found then
        return;
    end if;
    analyze contacts;
    analyze contact_emails;
    analyze contact_phones;
    analyze contact_owners;
    analyze contact_tags;
    analyze companies;
    analyze crm_private.search_words;
end
$$;

revoke all on function crm_analyze_after_import() from public;
grant execute on function crm_analyze_after_import() to crm_app;
