-- The company name-keys trigger without a `set search_path` of its own. A function's `set`
-- clause saves, sets and restores the setting on every call, and a changed search path
-- makes the function's cached expressions check their plans again: for this per-row
-- trigger that was about 40 µs of a company insert's 90 µs (6,000 company inserts into a
-- tenant of 125,000, rolled back, `psql`: 547 ms with the clause, 307 ms without; the
-- trigger disabled, 212 ms). A 1M-contact import creates 125,000 companies: its company
-- step took 9.05 s of statement time at 300,000 contacts, 4.92 s with this function; the
-- whole 1M import, direct and back to back on one machine (A B A B): 70.5 and 67.2 s with
-- the clause (server CPU 115.9 and 112.3 s), 62.9 and 60.4 s without (103.6 and 100.4 s).
--
-- What the clause guarded is kept by naming everything: the trigger runs as the writing
-- user (it is not `security definer`), and every function and operator it uses is written
-- with its schema, so no object on a writer's search path can stand in for them.
create or replace function crm_company_name_keys() returns trigger
language plpgsql
as $$
begin
    new.name_key := public.crm_company_key(new.name);
    new.name_prefix := pg_catalog.left(new.name_key, 4);
    new.name_initial_last := pg_catalog.left(new.name_key, 1) operator(pg_catalog.||) ' '
        operator(pg_catalog.||) pg_catalog.split_part(new.name_key, ' ', -1);
    return new;
end
$$;
