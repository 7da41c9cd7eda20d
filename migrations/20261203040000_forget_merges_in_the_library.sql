-- The merge snapshots of a record deleted for good are deleted by the library, in
-- crm_detach, instead of by the row-level triggers contacts_forget_merges and
-- companies_forget_merges (20261202140000).
--
-- Those triggers wrote another table (record_merges) from a row of contacts or companies.
-- Citus runs triggers of distributed tables on the shards, and a trigger that writes
-- another distributed table from there is what it calls unsafe: whether the write lands in
-- the same distributed transaction was not something this project could run. Every path
-- that deletes contacts or companies for good (the erasure, the retention purge) calls
-- crm_detach right before the DELETE, in the same transaction, so the snapshots go there,
-- with an explicit org_id filter that routes the statement to the tenant's shard. What is
-- kept is the rule of 20261202140000: no copy of a purged record's data stays behind, and
-- that merge can no longer be undone. (Deleting an organization removes its snapshots
-- through the foreign key, as before.)
drop trigger contacts_forget_merges on contacts;
drop trigger companies_forget_merges on companies;
drop function crm_forget_merges_of();

create or replace function crm_detach(p_table text, p_ids uuid[]) returns void
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
begin
    if v_org is null then
        raise exception 'no organization set for this transaction' using errcode = '42501';
    end if;
    case p_table
    when 'teams' then
        update users set team_id = null where org_id = v_org and team_id = any(p_ids);
    when 'industries' then
        update companies set industry_id = null where org_id = v_org and industry_id = any(p_ids);
    when 'account_types' then
        update companies set account_type_id = null
        where org_id = v_org and account_type_id = any(p_ids);
    when 'companies' then
        update contacts set company_id = null where org_id = v_org and company_id = any(p_ids);
        update deals set company_id = null where org_id = v_org and company_id = any(p_ids);
        delete from record_merges where org_id = v_org and merged_ids && p_ids;
    when 'contacts' then
        update deals set contact_id = null where org_id = v_org and contact_id = any(p_ids);
        delete from record_merges where org_id = v_org and merged_ids && p_ids;
    when 'stages' then
        update deal_stage_history set from_stage_id = null
        where org_id = v_org and from_stage_id = any(p_ids);
        update deal_stage_history set to_stage_id = null
        where org_id = v_org and to_stage_id = any(p_ids);
    when 'users' then
        update activities set assignee_id = null where org_id = v_org and assignee_id = any(p_ids);
    else
        raise exception 'crm_detach: unknown table' using errcode = '22023';
    end case;
end
$$;
revoke all on function crm_detach(text, uuid[]) from public;
grant execute on function crm_detach(text, uuid[]) to crm_app;
