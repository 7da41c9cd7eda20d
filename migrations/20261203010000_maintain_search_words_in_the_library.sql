-- The dictionary of search words (crm_private.search_words, 20261202060000) is kept by the
-- library's own writes instead of six statement-level triggers with transition tables
-- (issue 20). Citus does not run such triggers on distributed tables: on a coordinator the
-- dictionary would silently stop following the records.
--
-- Every library path that inserts contacts or companies, changes their search text, or
-- deletes them for good calls crm_search_words_update in the same transaction (through
-- crm-core's search::words): with the ids of the rows written and the search texts they
-- had before (none after an insert; no ids after a delete). The rule stays: a word joins
-- with the first row holding it and leaves with the last one.
--
-- The function can only make the dictionary more exact, whatever the caller passes: it
-- adds words that rows of the tenant hold now and removes words that no row of the tenant
-- holds. It reads only the transaction's tenant and filters org_id explicitly, so Citus
-- routes each statement to that tenant's shards. The application role still cannot read
-- the dictionary.

drop trigger contacts_words_ins on contacts;
drop trigger contacts_words_upd on contacts;
drop trigger contacts_words_del on contacts;
drop trigger companies_words_ins on companies;
drop trigger companies_words_upd on companies;
drop trigger companies_words_del on companies;
drop function crm_search_words_sync();

-- p_kind: 'contact' or 'company'; p_ids: the records written (inserted or changed);
-- p_before: the search texts the changed or deleted records had before.
create function crm_search_words_update(p_kind text, p_ids uuid[], p_before text[])
returns void
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_now text[];
begin
    if v_org is null then
        raise exception 'no organization set for this transaction' using errcode = '42501';
    end if;
    if p_kind = 'contact' then
        select coalesce(array_agg(distinct w), '{}') into v_now
        from contacts t, unnest(crm_search_words(t.search_text)) w
        where t.org_id = v_org and t.id = any(coalesce(p_ids, '{}')) and w !~ '[@.0-9]';
    elsif p_kind = 'company' then
        select coalesce(array_agg(distinct w), '{}') into v_now
        from companies t, unnest(crm_search_words(t.search_text)) w
        where t.org_id = v_org and t.id = any(coalesce(p_ids, '{}')) and w !~ '[@.0-9]';
    else
        raise exception 'crm_search_words_update: unknown kind' using errcode = '22023';
    end if;
    -- In word order, so two transactions adding the same words never wait crosswise.
    if cardinality(v_now) > 0 then
        insert into crm_private.search_words (org_id, word)
        select v_org, w from unnest(v_now) w order by w
        on conflict do nothing;
    end if;
    -- The words the rows had before and do not hold now leave, unless another record of the
    -- tenant holds them.
    if cardinality(p_before) > 0 then
        delete from crm_private.search_words s
        using (select w from unnest(p_before) b, unnest(crm_search_words(b)) w
               where w !~ '[@.0-9]'
               except
               select unnest(v_now)) g
        where s.org_id = v_org and s.word = g.w
          and not exists (select 1 from contacts c where c.org_id = v_org
                          and crm_search_words(c.search_text) @> array[g.w])
          and not exists (select 1 from companies c where c.org_id = v_org
                          and crm_search_words(c.search_text) @> array[g.w]);
    end if;
end
$$;
revoke all on function crm_search_words_update(text, uuid[], text[]) from public;
grant execute on function crm_search_words_update(text, uuid[], text[]) to crm_app;
