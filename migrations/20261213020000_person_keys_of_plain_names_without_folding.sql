-- `contacts.name_key` (`crm_person_key(first_name, last_name)`, a stored generated column)
-- without `crm_fold` and the key's regular expression for plain names.
--
-- The key is `crm_name_key(first || ' | ' || last)` (each part with `|` as a space):
-- `crm_fold`, then every run of characters other than `[a-z0-9|]` as one space, trimmed.
-- For a text of ASCII letters, digits, spaces and `|` only, with no two spaces in a row,
-- `crm_fold` is `lower` (its ASCII path; such a text has no whitespace run to collapse) and
-- the runs are single spaces, each kept as it is: the key is the text lowered and trimmed.
-- Most names are such texts. The column cost about 3 µs a contact (dropped, 200,000
-- generated contacts went in 0.5–0.8 s faster); a plain name's key now costs 1.7 µs less
-- (the same 200,000 inserted as the owner, `psql`, in a transaction rolled back, the table
-- vacuumed between runs: 6.73 and 6.54 s before, 6.40 and 6.18 s after). Other names take
-- the former expression; the test
-- `the_person_key_of_a_plain_name_is_the_folded_key` compares the two over names with and
-- without accents, spaces, `|`, tabs and punctuation.
--
-- Written as one expression so that it is inlined into the column's expression (the
-- parameters are plain columns there), every function and operator named with its schema.
create or replace function crm_person_key(p_first text, p_last text) returns text
language sql immutable parallel safe
as $$
    select case
        when pg_catalog.strpos(pg_catalog.replace(coalesce(p_first, ''), '|', ' ') || ' | '
                               || pg_catalog.replace(coalesce(p_last, ''), '|', ' '), '  ') = 0
         and (pg_catalog.replace(coalesce(p_first, ''), '|', ' ') || ' | '
              || pg_catalog.replace(coalesce(p_last, ''), '|', ' '))
             operator(pg_catalog.~) '^[A-Za-z0-9 |]*$'
        then pg_catalog.btrim(pg_catalog.lower(pg_catalog.replace(coalesce(p_first, ''), '|', ' ')
                              || ' | ' || pg_catalog.replace(coalesce(p_last, ''), '|', ' ')))
        else public.crm_name_key(pg_catalog.replace(coalesce(p_first, ''), '|', ' ') || ' | '
                                 || pg_catalog.replace(coalesce(p_last, ''), '|', ' '))
    end
$$;
