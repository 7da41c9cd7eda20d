-- Search: a second, looser dictionary look for a query word nothing is alike to.
--
-- A query word no dictionary word is alike to at word similarity 0.5 is looked up once more
-- at 0.3 (`muler`: `mueller` is 0.4) before the word path gives up: the contacts' trigram
-- index, dropped by 20261204020000, found such queries through the other words of the whole
-- search text (`Jurgen Muler`).
--
-- This redefinition first shipped inside 20261204020000 itself, edited after that migration
-- had landed; the migration is restored as it landed and the change lives here. For the same
-- reason 20261204010000 is again as it landed (with `crm_fold` in PL/pgSQL), which makes
-- 20261204015000 a repetition of the same definition: harmless, and kept, since it landed.

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
        p_all := p_all || format(' and crm_search_words(t.search_text) && %L::text[]', v_best);
        v_any := v_any || v_found;
    end loop;
    p_any := format(' and crm_search_words(t.search_text) && %L::text[]', v_any);
end
$$;
