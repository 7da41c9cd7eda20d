-- A company's industry and account type are looked up by value only: a list filtered by
-- one (`industry_id = $2`), the foreign keys' checks when one is deleted. Both indexes held
-- an entry for every company, most of them empty: a company an import creates never has
-- either (125,000 of them in an import of a million generated contacts, two B-tree
-- entries each). A lookup by value implies the value is set, so the planner uses the
-- partial indexes for it.
create index companies_industry_set_idx on companies (org_id, industry_id)
    where industry_id is not null;
drop index companies_industry_idx;
create index companies_account_type_set_idx on companies (org_id, account_type_id)
    where account_type_id is not null;
drop index companies_account_type_idx;
