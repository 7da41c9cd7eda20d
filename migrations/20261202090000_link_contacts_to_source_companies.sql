-- Moving in, companies too (issue 16): a contact keeps the id its company had in the system
-- it was imported from (HubSpot's `Primary Associated Company ID`, Salesforce's `Account ID`,
-- Twenty's `Company Id`), so a company import before or after links them by it.

alter table contacts
    add column company_external_system text,
    add column company_external_id text,
    add constraint contacts_company_external_pair
        check ((company_external_system is null) = (company_external_id is null));

create index contacts_company_external_idx
    on contacts (org_id, company_external_system, company_external_id)
    where company_external_id is not null;
