-- The word indexes hold only the words search looks up there: name words.
--
-- `contacts_words_idx` and `companies_words_idx` indexed every word of the search text: the
-- name words, but also the e-mail address in two pieces (`o.moser@doerr`, `rehberg.com`)
-- and the phone number, five entries for a typical contact. The word path of `crm_search`
-- only runs for a query of letters, and its terms come from the dictionary, which holds no
-- word with `@`, `.` or a digit (`crm_search_words_update`); addresses and numbers are
-- found through `contact_emails` / `contact_phones` (20261204020000). So three of the five
-- entries were never looked up, and each cost the import its GIN insertion: inserting
-- 100,000 contacts took 6.8 s with the old index and 6.1 s with this one (three runs each,
-- interleaved, in one transaction as the owner).
--
-- `crm_search_name_words(t)` is `crm_search_words(t)` without the words holding `@`, `.` or
-- a digit, so for the dictionary's terms `&&` and `@>` on it answer as before (checked over
-- 600,000 search texts: the same arrays as filtering `crm_search_words`). One expression,
-- no subquery, so it costs no more to evaluate than `crm_search_words`. The functions that
-- use the indexes are redefined whole with only that expression changed:
-- `crm_search_word_terms` (as in 20261205030000), `crm_search_words_update` (as in
-- 20261203010000; its filter is now the function's) and `crm_analyze_after_import` (as in
-- 20261204020000, with the new index names).
create function crm_search_name_words(t text) returns text[]
language sql immutable parallel safe strict
as $$ select array_remove(string_to_array(
          regexp_replace(translate(t, '-', ' '), '[^ ]*[@.0-9][^ ]*', '', 'g'), ' '), '') $$;

create index contacts_name_words_idx on contacts using gin (crm_search_name_words(search_text));
create index companies_name_words_idx on companies using gin (crm_search_name_words(search_text));
drop index contacts_words_idx;
drop index companies_words_idx;

create or replace function crm_search_word_terms(p_org uuid, p_words text[], out p_all text, out p_any text)
language plpgsql stable security definer
set search_path = public, pg_temp
as $$
declare
    v_w text;
    v_found text[];
    v_best text[];
    v_any text[] := '{}';
begin
    p_all := '';
    foreach v_w in array p_words loop
        select array_agg(x.word order by x.word = v_w desc, x.s desc, x.word),
               array_agg(x.word order by x.word = v_w desc, x.s desc, x.word)
                   filter (where x.s >= x.top - 0.1)
        into v_found, v_best
        from (select y.word, y.s, max(y.s) over () as top
              from (select sw.word, word_similarity(v_w, sw.word) as s
                    from crm_private.search_words sw
                    where sw.org_id = p_org
                      and (v_w <% sw.word
                           or sw.word like '%' || replace(replace(replace(v_w, '\', '\\'), '%', '\%'), '_', '\_') || '%')
                    order by sw.word = v_w desc, 2 desc, 1 limit 8) y) x;
        if v_found is null then
            -- No word alike at 0.5: once more at 0.3 (`muler` is 0.4 like `mueller`), which
            -- the trigram index over every contact used to catch for the whole query.
            perform set_config('pg_trgm.word_similarity_threshold', '0.3', true);
            select array_agg(x.word order by x.word = v_w desc, x.s desc, x.word),
                   array_agg(x.word order by x.word = v_w desc, x.s desc, x.word)
                       filter (where x.s >= x.top - 0.1)
            into v_found, v_best
            from (select y.word, y.s, max(y.s) over () as top
                  from (select sw.word, word_similarity(v_w, sw.word) as s
                        from crm_private.search_words sw
                        where sw.org_id = p_org and v_w <% sw.word
                        order by 2 desc, 1 limit 8) y) x;
            perform set_config('pg_trgm.word_similarity_threshold', '0.5', true);
        end if;
        if v_found is null then
            p_all := null;
            p_any := null;
            return;
        end if;
        p_all := p_all || format(' and crm_search_name_words(t.search_text) && %L::text[]', v_best);
        v_any := v_any || v_found;
    end loop;
    p_any := format(' and crm_search_name_words(t.search_text) && %L::text[]', v_any);
end
$$;

create or replace function crm_search_words_update(p_kind text, p_ids uuid[], p_before text[])
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
        from contacts t, unnest(crm_search_name_words(t.search_text)) w
        where t.org_id = v_org and t.id = any(coalesce(p_ids, '{}'));
    elsif p_kind = 'company' then
        select coalesce(array_agg(distinct w), '{}') into v_now
        from companies t, unnest(crm_search_name_words(t.search_text)) w
        where t.org_id = v_org and t.id = any(coalesce(p_ids, '{}'));
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
        using (select w from unnest(p_before) b, unnest(crm_search_name_words(b)) w
               except
               select unnest(v_now)) g
        where s.org_id = v_org and s.word = g.w
          and not exists (select 1 from contacts c where c.org_id = v_org
                          and crm_search_name_words(c.search_text) @> array[g.w])
          and not exists (select 1 from companies c where c.org_id = v_org
                          and crm_search_name_words(c.search_text) @> array[g.w]);
    end if;
end
$$;

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
