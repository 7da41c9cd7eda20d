-- A company's name keys are computed once per write. `name_key`, `name_prefix` and
-- `name_initial_last` were three generated columns, and a generated column cannot read
-- another, so every insert or update of a company folded its name with `crm_company_key`
-- four times (24 µs each: a regular expression of the legal forms): about half of a
-- company insert, 22.8 s of server time for the 125,000 companies of a 1M-contact import.
-- 20,000 company inserts (rolled back, `psql`): 2.6-3.0 s before, 1.6 s with this trigger.
--
-- The columns keep their values and become plain columns that this trigger sets on every
-- insert and update, from the name alone: whatever a statement writes into them is
-- replaced, as a generated column would be.
create function crm_company_name_keys() returns trigger
language plpgsql
set search_path = public, pg_temp
as $$
begin
    new.name_key := crm_company_key(new.name);
    new.name_prefix := left(new.name_key, 4);
    new.name_initial_last := left(new.name_key, 1) || ' ' || split_part(new.name_key, ' ', -1);
    return new;
end
$$;

alter table companies
    alter column name_key drop expression,
    alter column name_prefix drop expression,
    alter column name_initial_last drop expression;

create trigger companies_name_keys before insert or update on companies
    for each row execute function crm_company_name_keys();
