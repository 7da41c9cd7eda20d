-- The one-record duplicate check of companies (`company add`, each company a records import
-- creates) looks existing companies up by the first four letters of the name key and by its
-- first letter with its last word. Migration 20261203020000 indexed those as expressions
-- (`left(name_key, 4)`, ...), which a query under row-level security cannot use: `left` and
-- `split_part` are not leakproof, so the planner keeps the comparison above the policy and
-- reads every company of the organization, twice per check (35-50 ms a company at 10,000
-- companies). Kept as columns, the comparison is plain text equality (leakproof) and the
-- indexes serve it.
--
-- A generated column cannot read another (`name_key`), so these fold the name themselves.
alter table companies
    add column name_prefix text
        generated always as (left(crm_company_key(name), 4)) stored,
    add column name_initial_last text
        generated always as (left(crm_company_key(name), 1) || ' '
                             || split_part(crm_company_key(name), ' ', -1)) stored;

drop index companies_name_prefix_idx;
drop index companies_name_last_word_idx;
create index companies_name_prefix_idx on companies (org_id, name_prefix)
    where deleted_at is null;
create index companies_name_initial_last_idx on companies (org_id, name_initial_last)
    where deleted_at is null;
