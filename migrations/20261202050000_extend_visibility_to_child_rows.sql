-- Record visibility (own / team / all) reaches every row that belongs to a contact, company
-- or deal (issue 14, item 1): e-mails, phones, tags, owners, consents, stage history,
-- company relationships, activities, Lexware links and vouchers, and the audit entries and
-- events about a record. A row about a record the acting user may not see is invisible to
-- them, and so cannot be changed or deleted either; the database enforces it, as for the
-- three records themselves (20261122000040).
--
-- Each child table keeps one tenant policy: USING is the organization AND the visibility of
-- every record the row belongs to; WITH CHECK is the organization only (as for the records).
-- The visibility of a record is answered by crm_sees(kind, id), a SECURITY DEFINER function
-- (reading the owners tables without their own policies, which would otherwise recurse).
-- The first arm of each policy is the same InitPlan as the records' ('all' short-circuits
-- once per statement), so users who see everything pay one comparison per row.
--
-- A later migration adding a child table calls crm_enable_visibility() for it; the
-- catalog-driven test `visibility::every_row_that_belongs_to_a_record_follows_its_visibility`
-- fails when one forgets.

-- Who owns the record (p_kind = 'contact', 'company' or 'deal', p_id) as far as the
-- transaction's actor is concerned: 'mine' when the actor (or, with visibility 'team', a
-- member of the actor's team) is among its owners in any role, 'none' when it has no owner
-- yet, else 'other'. SECURITY DEFINER: it reads the owners tables without their policies
-- (which depend on the records' visibility and would otherwise recurse).
create function crm_owner_state(p_kind text, p_id uuid) returns text
language plpgsql stable security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_actor uuid := nullif(current_setting('crm.actor_id', true), '')::uuid;
    v_vis text := coalesce(nullif(current_setting('crm.visibility', true), ''), 'all');
    v_team uuid := nullif(current_setting('crm.team_id', true), '')::uuid;
    v_owners uuid[];
begin
    if p_kind = 'contact' then
        select array_agg(o.user_id) into v_owners from contact_owners o
        where o.org_id = v_org and o.contact_id = p_id;
    elsif p_kind = 'company' then
        select array_agg(o.user_id) into v_owners from company_owners o
        where o.org_id = v_org and o.company_id = p_id;
    elsif p_kind = 'deal' then
        select array_agg(o.user_id) into v_owners from deal_owners o
        where o.org_id = v_org and o.deal_id = p_id;
    end if;
    if v_owners is null then
        return 'none';
    end if;
    if v_actor = any(v_owners)
       or (v_vis = 'team' and v_team is not null and exists (
               select 1 from users u
               where u.org_id = v_org and u.id = any(v_owners) and u.team_id = v_team)) then
        return 'mine';
    end if;
    return 'other';
end
$$;
revoke all on function crm_owner_state(text, uuid) from public;
grant execute on function crm_owner_state(text, uuid) to crm_app;

-- Whether the transaction's actor may see the record (p_kind, p_id): 'contact', 'company',
-- 'deal' as their policies say (an owner is the actor or a teammate, or the actor created
-- it and nobody owns it yet), 'activity' when every record it is linked to is visible,
-- 'voucher' (a cached Lexware voucher) when every record it belongs to is visible. A null
-- id (no link) and any other kind are visible; a record that does not exist is not
-- (visibility 'all' aside). Reads the organization, actor, visibility and team from the
-- transaction only.
create function crm_sees(p_kind text, p_id uuid) returns boolean
language plpgsql stable security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_actor uuid := nullif(current_setting('crm.actor_id', true), '')::uuid;
    v_vis text := coalesce(nullif(current_setting('crm.visibility', true), ''), 'all');
    v_state text;
    r record;
begin
    if v_vis = 'all' or p_id is null then
        return true;
    end if;
    if v_org is null then
        return false;
    end if;
    if p_kind in ('contact', 'company', 'deal') then
        v_state := crm_owner_state(p_kind, p_id);
        if v_state = 'mine' then
            return true;
        elsif v_state = 'other' then
            return false;
        elsif p_kind = 'contact' then
            return exists (select 1 from contacts c
                           where c.org_id = v_org and c.id = p_id and c.created_by = v_actor);
        elsif p_kind = 'company' then
            return exists (select 1 from companies c
                           where c.org_id = v_org and c.id = p_id and c.created_by = v_actor);
        else
            return exists (select 1 from deals d
                           where d.org_id = v_org and d.id = p_id and d.created_by = v_actor);
        end if;
    elsif p_kind = 'activity' then
        select a.contact_id, a.company_id, a.deal_id into r
        from activities a where a.org_id = v_org and a.id = p_id;
        if not found then
            return false;
        end if;
        return crm_sees('contact', r.contact_id) and crm_sees('company', r.company_id)
           and crm_sees('deal', r.deal_id);
    elsif p_kind = 'voucher' then
        return not exists (
                select 1 from lexware_vouchers v
                join lexware_contact_links l
                  on l.org_id = v.org_id and l.lexware_id = v.lexware_contact_id
                where v.org_id = v_org and v.id = p_id
                  and not (crm_sees('contact', l.contact_id) and crm_sees('company', l.company_id)))
           and not exists (
                select 1 from deal_vouchers dv
                where dv.org_id = v_org and dv.voucher_id = p_id
                  and not crm_sees('deal', dv.deal_id));
    end if;
    return true;
end
$$;
revoke all on function crm_sees(text, uuid) from public;
grant execute on function crm_sees(text, uuid) to crm_app;

-- Replaces the tenant policy of a child table by one whose USING clause also requires
-- `p_visible` (an expression over the table's columns calling crm_sees), unless the
-- transaction's visibility is 'all'. WITH CHECK stays the organization only.
create function crm_enable_visibility(t regclass, p_visible text) returns void
language plpgsql
as $$
begin
    execute format('drop policy tenant_isolation on %s', t);
    execute format(
        'create policy tenant_isolation on %s as permissive for all to public '
        'using ('
        '  org_id = nullif(current_setting(''crm.org_id'', true), '''')::uuid '
        '  and ((select coalesce(nullif(current_setting(''crm.visibility'', true), ''''), ''all'')) = ''all'' '
        '       or (%s))) '
        'with check (org_id = nullif(current_setting(''crm.org_id'', true), '''')::uuid)',
        t, p_visible);
end
$$;

select crm_enable_visibility('contact_emails', 'crm_sees(''contact'', contact_id)');
select crm_enable_visibility('contact_phones', 'crm_sees(''contact'', contact_id)');
select crm_enable_visibility('contact_tags', 'crm_sees(''contact'', contact_id)');
select crm_enable_visibility('consents', 'crm_sees(''contact'', contact_id)');
select crm_enable_visibility('company_emails', 'crm_sees(''company'', company_id)');
select crm_enable_visibility('company_phones', 'crm_sees(''company'', company_id)');
select crm_enable_visibility('company_tags', 'crm_sees(''company'', company_id)');
select crm_enable_visibility('company_relationships',
    'crm_sees(''company'', from_company_id) and crm_sees(''company'', to_company_id)');
select crm_enable_visibility('deal_stage_history', 'crm_sees(''deal'', deal_id)');
select crm_enable_visibility('deal_vouchers', 'crm_sees(''deal'', deal_id)');
select crm_enable_visibility('activities',
    'crm_sees(''contact'', contact_id) and crm_sees(''company'', company_id) '
    'and crm_sees(''deal'', deal_id)');
select crm_enable_visibility('lexware_contact_links',
    'crm_sees(''contact'', contact_id) and crm_sees(''company'', company_id)');
select crm_enable_visibility('lexware_vouchers', 'crm_sees(''voucher'', id)');
select crm_enable_visibility('audit_log', 'crm_sees(entity_type, entity_id)');
select crm_enable_visibility('events', 'crm_sees(entity_type, entity_id)');
-- The owners tables: the actor's own rows belong to records they see by definition, so
-- they are allowed first without a function call.
select crm_enable_visibility('contact_owners',
    'user_id = nullif(current_setting(''crm.actor_id'', true), '''')::uuid '
    'or crm_sees(''contact'', contact_id)');
select crm_enable_visibility('company_owners',
    'user_id = nullif(current_setting(''crm.actor_id'', true), '''')::uuid '
    'or crm_sees(''company'', company_id)');
select crm_enable_visibility('deal_owners',
    'user_id = nullif(current_setting(''crm.actor_id'', true), '''')::uuid '
    'or crm_sees(''deal'', deal_id)');

-- An event is written with `insert ... returning`, which PostgreSQL checks against the
-- policy's USING clause: a change that leaves its record invisible to the actor (a purge,
-- an owner removing themselves) must still write its event. crm_emit writes only to the
-- transaction's organization, so it may bypass the policy.
alter function crm_emit(text, text, uuid, jsonb)
    security definer set search_path = public, pg_temp;
-- Verifying a chain reads every entry of the organization, whatever the visibility of the
-- records they are about (the function returns counts and sequence numbers only).
alter function crm_audit_verify() security definer set search_path = public, pg_temp;

-- The records' own policies ask crm_owner_state instead of reading the owners tables (whose
-- policies now depend on the records): the same rule as 20261122000040. The creator arm
-- reads created_by inline, as `insert ... returning` checks the new row before a STABLE
-- function could see it.
do $$
declare
    r record;
begin
    for r in
        select * from (values ('contacts', 'contact'), ('companies', 'company'), ('deals', 'deal'))
            as t(tbl, kind)
    loop
        execute format('drop policy tenant_isolation on %I', r.tbl);
        execute format(
            'create policy tenant_isolation on %1$I as permissive for all to public '
            'using ('
            '  org_id = nullif(current_setting(''crm.org_id'', true), '''')::uuid '
            '  and ((select coalesce(nullif(current_setting(''crm.visibility'', true), ''''), ''all'')) = ''all'' '
            '       or case crm_owner_state(%2$L, id) '
            '          when ''mine'' then true '
            '          when ''none'' then created_by = nullif(current_setting(''crm.actor_id'', true), '''')::uuid '
            '          else false end)) '
            'with check (org_id = nullif(current_setting(''crm.org_id'', true), '''')::uuid)',
            r.tbl, r.kind);
    end loop;
end
$$;
