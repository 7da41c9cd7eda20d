-- Merges are recorded in a dedicated column (issue 14, item 4). Until now a merge wrote
-- `merged_into` into the free-form `custom` JSON, which anyone who may edit a contact can
-- write too, and GDPR jobs followed it: a planted value pulled another person into an
-- erasure. Now
--   * contacts.merged_into_id names the contact a (soft-deleted) record was merged into;
--   * only a merge writes it: the application role cannot set or change it directly (a
--     trigger refuses), only through crm_record_merge, which a merge calls right after it
--     soft-deleted the record;
--   * GDPR follows only this column (and what the operator names);
--   * the values merges wrote so far move here (a value that is not a soft-deleted record
--     pointing at another contact of its organization was not written by a merge and is
--     dropped), and the key leaves `custom` everywhere.
-- No foreign key: an erasure or retention purge removes the records of a merge together,
-- and a future unmerge checks the target itself.

alter table contacts add column merged_into_id uuid;
create index contacts_merged_into_idx on contacts (org_id, merged_into_id)
    where merged_into_id is not null;

update contacts c set merged_into_id = t.id
from contacts t
where c.custom ? 'merged_into'
  and c.deleted_at is not null
  and (c.custom->>'merged_into') ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
  and t.org_id = c.org_id and t.id = (c.custom->>'merged_into')::uuid and t.id <> c.id;
update contacts set custom = custom - 'merged_into' where custom ? 'merged_into';

-- Refuses any change of merged_into_id made by the application role itself (a merge goes
-- through crm_record_merge, which runs as the schema owner).
create function crm_guard_merge_column() returns trigger
language plpgsql
as $$
begin
    if current_user = 'crm_app'
       and (tg_op = 'INSERT' and new.merged_into_id is not null
            or tg_op = 'UPDATE' and new.merged_into_id is distinct from old.merged_into_id) then
        raise exception 'merged_into_id is written by a merge only' using errcode = '42501';
    end if;
    return new;
end
$$;
create trigger contacts_guard_merge_column before insert or update of merged_into_id
    on contacts for each row execute function crm_guard_merge_column();

-- Records that contact p_remove was merged into p_keep. Only for a merge in progress: both
-- contacts are in the transaction's organization, p_keep is live, p_remove was soft-deleted
-- by this very transaction and not merged before; the actor may write and delete records.
create function crm_record_merge(p_remove uuid, p_keep uuid) returns void
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
    v_org uuid := nullif(current_setting('crm.org_id', true), '')::uuid;
    v_actor uuid := nullif(current_setting('crm.actor_id', true), '')::uuid;
begin
    if v_org is null or not exists (
        select 1 from users u
        where u.org_id = v_org and u.id = v_actor and u.active and u.deleted_at is null
          and u.role in ('owner', 'admin', 'manager', 'user')) then
        raise exception 'only a user who may merge records' using errcode = '42501';
    end if;
    if p_remove = p_keep
       or not exists (select 1 from contacts k
                      where k.org_id = v_org and k.id = p_keep and k.deleted_at is null) then
        raise exception 'not a merge in progress' using errcode = '42501';
    end if;
    update contacts set merged_into_id = p_keep
    where org_id = v_org and id = p_remove and deleted_at = now() and merged_into_id is null;
    if not found then
        raise exception 'not a merge in progress' using errcode = '42501';
    end if;
end
$$;
revoke all on function crm_record_merge(uuid, uuid) from public;
grant execute on function crm_record_merge(uuid, uuid) to crm_app;
