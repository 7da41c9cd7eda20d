-- Reminders of due activities (`crm remind`): one row per activity and kind of reminder
-- that has fired, with the due time it fired for.
--
-- The row is the claim: a run inserts it with `on conflict ... do update ... where the due
-- time differs` and emits the event only for the rows that statement returned, in the same
-- transaction. Two runs at once serialise on the primary key (the second sees the first's
-- row once it commits and returns nothing), a run that crashes leaves neither row nor
-- event, and rescheduling an activity (a new due time) re-arms both reminders.
create table activity_reminders (
    org_id uuid not null references organizations (id) on delete cascade,
    activity_id uuid not null,
    kind text not null check (kind in ('due_soon', 'overdue')),
    due_at timestamptz not null,
    fired_at timestamptz not null default now(),
    primary key (org_id, activity_id, kind),
    foreign key (org_id, activity_id) references activities (org_id, id) on delete cascade
);
select crm_enable_tenancy('activity_reminders');

-- The board and the forecast as of a past date walk back from today: the stage moves and
-- the audit entries of deals after that date.
create index deal_stage_history_moved_idx on deal_stage_history (org_id, moved_at);
create index audit_log_deal_at_idx on audit_log (org_id, at) where entity_type = 'deal';
