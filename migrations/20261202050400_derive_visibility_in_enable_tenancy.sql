-- Tables added later follow record visibility without being named (issue 14, item 1):
-- crm_enable_tenancy, which every migration calls for a new tenant table, now derives the
-- visibility rule from the table itself. For each foreign key to contacts, companies,
-- deals or activities the policy requires crm_sees(kind, column); a table naming records
-- by entity_type / entity_id requires crm_sees(entity_type, entity_id). A table with
-- neither keeps the plain organization policy. (The catalog-driven test
-- visibility::every_row_that_belongs_to_a_record_follows_its_visibility checks the result.)

create or replace function crm_enable_tenancy(t regclass, privileges text default 'select, insert, update, delete')
returns void
language plpgsql
as $$
declare
    v_rule text;
begin
    execute format('alter table %s enable row level security', t);
    execute format('alter table %s force row level security', t);
    execute format(
        'create policy tenant_isolation on %s as permissive for all to public '
        'using (org_id = nullif(current_setting(''crm.org_id'', true), '''')::uuid) '
        'with check (org_id = nullif(current_setting(''crm.org_id'', true), '''')::uuid)', t);
    execute format('grant %s on %s to crm_app', privileges, t);
    select string_agg(x, ' and ' order by x) into v_rule from (
        select format('crm_sees(%L, %I)',
                      case r.relname when 'contacts' then 'contact' when 'companies' then 'company'
                                     when 'deals' then 'deal' else 'activity' end,
                      a.attname) as x
        from pg_constraint k
        join pg_class r on r.oid = k.confrelid
        join pg_attribute a on a.attrelid = k.conrelid and a.attnum = any(k.conkey)
        where k.conrelid = t and k.contype = 'f' and a.attname <> 'org_id'
          and r.relname in ('contacts', 'companies', 'deals', 'activities')
          and r.relnamespace = 'public'::regnamespace
        union
        select 'crm_sees(entity_type, entity_id)'
        where exists (select 1 from pg_attribute a where a.attrelid = t
                      and a.attname = 'entity_type' and not a.attisdropped)
          and exists (select 1 from pg_attribute a where a.attrelid = t
                      and a.attname = 'entity_id' and not a.attisdropped)
    ) rules;
    if v_rule is not null then
        perform crm_enable_visibility(t, v_rule);
    end if;
end
$$;
