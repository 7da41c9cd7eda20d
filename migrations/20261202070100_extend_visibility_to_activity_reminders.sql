-- The reminder claims of 20261202070000 belong to an activity: they follow its visibility
-- (20261202050000), like every other row that belongs to a record.
select crm_enable_visibility('activity_reminders', 'crm_sees(''activity'', activity_id)');
