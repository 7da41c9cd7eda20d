-- Two per-import costs of the search and duplicate keys, with the same results.
--
-- 1. `crm_company_key` removed the legal forms with one regular expression of 36
--    alternatives and a look-ahead, run once per match: 31 µs a company name (37,500
--    generated names, `psql`: 1.17 s), most of the name-keys trigger's cost per company
--    insert (125,000 in a 1M-contact import). The expression removes, scanning the words
--    left to right, the longest legal form starting at each word (a form is a run of whole
--    words, each followed by a space). This function walks the same words the same way and
--    keeps the others: 7.5 µs a name (0.28 s for the 37,500), the same keys for all of them;
--    the test `the_company_key_walks_the_words_as_the_legal_form_expression_did` compares it
--    with the former expression over every word sequence of the forms' words up to length
--    three and random ones with separators.
--
--    The words are those of `crm_name_key` with `|` as a space; its output holds only
--    `[a-z0-9| ]`, so splitting on single spaces gives the words and empty pieces where
--    spaces repeat. A form must be single-spaced inside (the expression's forms are), so an
--    empty piece ends a form as a second space did. What the expression left, its spaces
--    made single and trimmed, is the kept words joined by one space.
--
--    Like the name-keys trigger (20261211010000) it has no `set search_path` (it runs once
--    per company row) and names every function and operator with its schema.
--
-- 2. `crm_search_words_update` read the contacts it was given as `id = any(ids)`: for the
--    50,000 ids of an import batch the planner estimated the list element by element
--    (40 ms of planning per call) and read the table by a scan that grows with the tenant
--    (every row of it in the last batches of a large import). The ids are now joined, and
--    bounded by the smallest and largest of them, which for an import batch (UUIDv7, made in
--    file order) is a range of the primary key holding just the batch. The e-mail pattern
--    is tested once per row instead of twice. The words found are the same (the dictionary
--    tests compare it with the rows after every kind of write).
create or replace function crm_company_key(t text) returns text
language plpgsql immutable parallel safe strict
as $$
declare
    w text[] := pg_catalog.string_to_array(
        pg_catalog.replace(public.crm_name_key(t), '|', ' '), ' ');
    n integer := pg_catalog.cardinality(w);
    i integer := 1;
    k integer;
    kept text[] := '{}';
begin
    while i operator(pg_catalog.<=) n loop
        -- How many words the longest form starting at word i takes (0: none starts here).
        k := case
            when w[i] operator(pg_catalog.=) '' then 1
            when w[i] operator(pg_catalog.=) 'gmbh' then
                case when w[i + 1] operator(pg_catalog.=) 'co'
                      and w[i + 2] operator(pg_catalog.=) any ('{kgaa,kg,ohg}'::text[])
                     then 3 else 1 end
            when w[i] operator(pg_catalog.=) 'ag' then
                case when w[i + 1] operator(pg_catalog.=) 'co'
                      and w[i + 2] operator(pg_catalog.=) any ('{kg,ohg}'::text[])
                     then 3 else 1 end
            when w[i] operator(pg_catalog.=) 'se' then
                case when w[i + 1] operator(pg_catalog.=) 'co'
                      and w[i + 2] operator(pg_catalog.=) 'kg'
                     then 3 else 1 end
            when w[i] operator(pg_catalog.=) 'ug' then
                case when w[i + 1] operator(pg_catalog.=) 'haftungsbeschraenkt' then
                         case when w[i + 2] operator(pg_catalog.=) 'co'
                               and w[i + 3] operator(pg_catalog.=) 'kg'
                              then 4 else 2 end
                     else 1 end
            when w[i] operator(pg_catalog.=) 'e' then
                case when w[i + 1] operator(pg_catalog.=) any ('{k,kfm,kfr,v}'::text[])
                     then 2 else 0 end
            when w[i] operator(pg_catalog.=) 'co' then
                case when w[i + 1] operator(pg_catalog.=) any ('{kg,ltd}'::text[])
                     then 2 else 0 end
            when w[i] operator(pg_catalog.=) any (
                    '{mbh,ggmbh,kgaa,kg,ohg,ek,ev,gbr,ltd,limited,inc,llc,plc,sarl,sa,bv,nv,corp}'::text[])
                then 1
            else 0
        end;
        if k operator(pg_catalog.=) 0 then
            kept := pg_catalog.array_append(kept, w[i]);
            k := 1;
        end if;
        i := i operator(pg_catalog.+) k;
    end loop;
    return pg_catalog.array_to_string(kept, ' ');
end
$$;

create or replace function crm_search_words_update(p_kind text, p_ids uuid[], p_before text[])
returns void
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_ids uuid[] := coalesce(p_ids, '{}');
    v_lo uuid;
    v_hi uuid;
    v_now text[];
begin
    if v_org is null then
        raise exception 'no organization set for this transaction' using errcode = '42501';
    end if;
    -- The ids' bounds (uuid has no min/max; its text form orders as it does, byte by byte).
    select min(x::text collate "C")::uuid, max(x::text collate "C")::uuid into v_lo, v_hi
    from unnest(v_ids) x;
    if p_kind = 'contact' then
        -- The words of `search_text` are those of its parts, folded one by one
        -- (20261208030000).
        with r as materialized (
            select t.first_name, t.last_name, t.email_norm, t.phone,
                   t.email_norm ~ '^[a-z0-9._+]+@[a-z0-9.-]+$' as plain
            from unnest(v_ids) i(id)
            join contacts t on t.org_id = v_org and t.id = i.id
            where t.id between v_lo and v_hi),
        folded as (
            select crm_fold(x.p) as f from (
                select first_name as p from r
                union select last_name from r
                union select email_norm from r where not plain
                union select phone from r where phone !~ '^\+[0-9]+$') x
            union
            select substr(y.d, strpos(y.d, '-') + 1) from (
                select distinct split_part(email_norm, '@', 2) as d from r where plain) y
            where strpos(y.d, '-') > 0)
        select coalesce(array_agg(distinct w), '{}') into v_now
        from folded, unnest(crm_search_name_words(folded.f)) w;
    elsif p_kind = 'company' then
        select coalesce(array_agg(distinct w), '{}') into v_now
        from unnest(v_ids) i(id)
        join companies t on t.org_id = v_org and t.id = i.id,
        unnest(crm_search_name_words(t.search_text)) w
        where t.id between v_lo and v_hi;
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
