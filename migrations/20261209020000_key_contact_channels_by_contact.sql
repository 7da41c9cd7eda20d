-- One index fewer on each of contact_emails and contact_phones, whose rows are only ever
-- read and replaced by their contact (never looked up by their own id: the id orders a
-- contact's rows, read back by `contact_id`).
--
-- * contact_phones: the primary key (org_id, id) and the index (org_id, contact_id) become
--   one primary key (org_id, contact_id, id), which serves every read by contact.
-- * contact_emails: the unique constraint (org_id, contact_id, email_norm) becomes the
--   primary key, and the key (org_id, id) goes.
--
-- Each index was one more B-tree insert for every e-mail address and phone number an import
-- writes (two per contact of a typical import).
alter table contact_phones
    drop constraint contact_phones_pkey,
    add constraint contact_phones_pkey primary key (org_id, contact_id, id);
drop index contact_phones_contact_idx;

alter table contact_emails
    drop constraint contact_emails_pkey,
    drop constraint contact_emails_unique,
    add constraint contact_emails_pkey primary key (org_id, contact_id, email_norm);
