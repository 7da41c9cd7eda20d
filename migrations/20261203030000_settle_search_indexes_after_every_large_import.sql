-- After a large import the pending entries of the search indexes are merged every time, not
-- only when the statistics are refreshed.
--
-- crm_analyze_after_import (20261202060000) returned early when the tables had been
-- analyzed in the last minute, and the GIN clean-up sat behind that early return. A large
-- import is exactly when autovacuum's analyze runs during the load, so the clean-up was
-- skipped when it mattered: measured on 1,000,000 imported contacts (125,000 companies),
-- the search indexes kept pending lists of 97 to 263 pages, which every search reads row by
-- row. The benchmark's 200 queries (surnames, every other with a typo) cost 8.2 ms of
-- server CPU on average and 14 ms at the 95th percentile with them, 5.3 ms and 8 ms after
-- gin_clean_pending_list. Merging reads only the pending entries (at most
-- gin_pending_list_limit, 4 MB by default, per index), so it is cheap enough to do after
-- every large import; the statistics keep their once-a-minute limit, since ANALYZE reads
-- every tenant's rows.
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
    perform gin_clean_pending_list('contacts_search_idx'::regclass);
    perform gin_clean_pending_list('contacts_words_idx'::regclass);
    perform gin_clean_pending_list('companies_search_idx'::regclass);
    perform gin_clean_pending_list('companies_words_idx'::regclass);
    perform gin_clean_pending_list('crm_private.search_words_trgm_idx'::regclass);
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
end
$$;
revoke all on function crm_analyze_after_import() from public;
grant execute on function crm_analyze_after_import() to crm_app;
