-- Removing a stage must not rewrite the past. The first migration let deal_stage_history
-- rows that entered a stage be deleted with it (on delete cascade) and cleared the stage a
-- row left (on delete set null), so a deal's history lost entries whenever a stage was
-- removed. History rows now keep the names of both stages as they were when the deal moved,
-- and the stage a row entered is cleared (not the row deleted) when that stage goes.

alter table deal_stage_history
    add column from_stage_name text,
    add column to_stage_name text;

update deal_stage_history h
set from_stage_name = (select s.name from stages s
                       where s.org_id = h.org_id and s.id = h.from_stage_id),
    to_stage_name = (select s.name from stages s
                     where s.org_id = h.org_id and s.id = h.to_stage_id);

alter table deal_stage_history alter column to_stage_id drop not null;
alter table deal_stage_history
    drop constraint deal_stage_history_org_id_to_stage_id_fkey,
    add constraint deal_stage_history_to_stage_fkey foreign key (org_id, to_stage_id)
        references stages (org_id, id) on delete set null (to_stage_id);
