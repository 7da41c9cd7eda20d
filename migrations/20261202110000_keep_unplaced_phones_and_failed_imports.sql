-- Messy phone numbers and imports that stop (issue 14, items 11 and 13; issue 15, item 2).
--
-- A phone number that cannot be placed in a country (no country code, and none of the
-- contact's address, its company's or the organization's region makes it valid) is kept as
-- written: the row then has no E.164 form. The CHECK on the E.164 shape stays and holds for
-- every number that has one.
alter table contact_phones alter column number_e164 drop not null;
alter table company_phones alter column number_e164 drop not null;
alter table contact_phones add constraint contact_phones_raw_bounded
    check (length(number_raw) between 1 and 100) not valid;
alter table company_phones add constraint company_phones_raw_bounded
    check (length(number_raw) between 1 and 100) not valid;

-- An import that stops (an error, Ctrl-C, a crash) is marked failed with the reason, so no
-- run stays `running` forever; `error` says why, in words that hold no row data.
alter table import_runs add column error text;
