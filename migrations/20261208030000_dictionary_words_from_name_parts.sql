-- The dictionary's words of new or changed contacts, from their distinct name parts.
--
-- `crm_search_words_update` took the words of every contact it was given from its
-- `search_text`, `crm_fold(first_name || ' ' || last_name || ' ' || email || ' ' || phone)`:
-- a regular expression over the whole text per contact, 7.9 s of server time in an import
-- of a million contacts (batches of 50,000 hold about 900 distinct words). The words of
-- that text are those of its four parts folded one by one: `crm_fold` maps character by
-- character (`lower`; `ä` → `ae`...; `unaccent`, whose rules file has no source of more than
-- one character) and then makes every run of whitespace one space, and the words are the
-- space-separated pieces (after `-` → space) without `@`, `.` or a digit, so a piece never
-- spans two parts. So the function now folds
--
-- * the distinct first names and last names;
-- * an e-mail address only when it is not plain ASCII `local@domain` with no `-` before the
--   `@`: a plain one is left as it is by `crm_fold`, its piece holding the `@` is never a
--   word, and the only words it can hold are the domain's pieces after its first `-`
--   (`digital` in `…@salzach-digital-holding.com`), taken from its distinct domains;
-- * a phone number only when it is not `+` and digits (a stored E.164 number has no word).
--
-- Checked against the former query on the million contacts of a benchmark tenant: the same
-- 4,442 words (10.1 s before, 5.4 s now as the owner), and per batch of 50,000: the same 900
-- words, 447–610 ms before, 314–332 ms now. The dictionary test's `assert_exact` compares
-- the dictionary with the words recomputed from every row after each kind of write.
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
        -- The words of `search_text` are those of its parts, folded one by one (see above).
        with r as materialized (
            select t.first_name, t.last_name, t.email_norm, t.phone from contacts t
            where t.org_id = v_org and t.id = any(coalesce(p_ids, '{}'))),
        folded as (
            select crm_fold(x.p) as f from (
                select first_name as p from r
                union select last_name from r
                union select email_norm from r
                      where email_norm !~ '^[a-z0-9._+]+@[a-z0-9.-]+$'
                union select phone from r where phone !~ '^\+[0-9]+$') x
            union
            select substr(y.d, strpos(y.d, '-') + 1) from (
                select distinct split_part(email_norm, '@', 2) as d from r
                where email_norm ~ '^[a-z0-9._+]+@[a-z0-9.-]+$') y
            where strpos(y.d, '-') > 0)
        select coalesce(array_agg(distinct w), '{}') into v_now
        from folded, unnest(crm_search_name_words(folded.f)) w;
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
