-- Moving in (issue 16): contacts get postal addresses (business and private; `city` is the
-- business city and already exists), and contacts and companies keep the id they had in the
-- system they were imported from, so a second import of a newer export recognises them.

alter table contacts
    add column street text,
    add column postal_code text,
    add column country text check (country ~ '^[A-Z]{2}$'),
    add column home_street text,
    add column home_postal_code text,
    add column home_city text,
    add column home_country text check (home_country ~ '^[A-Z]{2}$'),
    add column external_system text,
    add column external_id text,
    add constraint contacts_external_pair
        check ((external_system is null) = (external_id is null));

create unique index contacts_external_unique on contacts (org_id, external_system, external_id)
    where deleted_at is null and external_id is not null;

alter table companies
    add column external_system text,
    add column external_id text,
    add constraint companies_external_pair
        check ((external_system is null) = (external_id is null));

create unique index companies_external_unique on companies (org_id, external_system, external_id)
    where deleted_at is null and external_id is not null;
