-- `crm_search_name_words` is inlined wherever it is called.
--
-- It was declared `strict` over a body that is not (`array_remove` takes a null array), and
-- the planner inlines a strict SQL function only when its body is strict too. So every
-- evaluation went through the SQL-function executor: twice per contact an import writes
-- (the word index's expression, then the dictionary's words of the new rows), 675,000 calls
-- and 3.8 s of server time in an import of 300,000 contacts. Without `strict` the body is
-- inlined into the index expression and into the queries alike, so the search's word
-- conditions still match the index (checked with `explain`). The result is the same for
-- every input: a null text gives a null array either way (`translate`, `regexp_replace`,
-- `string_to_array` and `array_remove` of null are null), so the index needs no rebuild.
-- Measured in `psql` over 300,000 search texts: 1.82 s with the old declaration, 1.32 s
-- with this one; the words of 50,000 new contacts for the dictionary: 586 ms, now 473 ms.
create or replace function crm_search_name_words(t text) returns text[]
language sql immutable parallel safe
as $$ select array_remove(string_to_array(
          regexp_replace(translate(t, '-', ' '), '[^ ]*[@.0-9][^ ]*', '', 'g'), ' '), '') $$;
