-- A contact's only e-mail address and only phone number may live on the contact row alone.
--
-- `contacts.email`, `email_norm` and `phone` mirror the primary rows of `contact_emails`
-- and `contact_phones`. A contact without any rows of a kind shows its mirror as its one
-- address or number (`store::contact::read`, merge, GDPR): the demo seed and older imports
-- wrote such contacts, and from now on the import writes every contact whose one address
-- (kind `work`) or one number (kind `office`, written in its E.164 form) the mirror holds
-- exactly that way. Those rows were a good part of an import's cost: each was a row,
-- three or four B-tree entries and a foreign-key check that locks the contact just
-- inserted (1M generated contacts, back to back on one machine: 74.0 s with them, 64.7 s
-- without).
--
-- Readers that look for addresses and numbers across contacts read them through the two
-- views below: the rows, and the mirror of each contact that has no rows of that kind. The
-- views run with the reader's rights (`security_invoker`): row security of `contacts` and
-- of the rows applies as it does to the tables.
create view contact_email_list with (security_invoker = true) as
    select e.org_id, e.contact_id, e.id, e.email, e.email_norm, e.kind, e.is_primary,
           e.domain, e.created_at
    from contact_emails e
    union all
    select c.org_id, c.id, c.id, c.email, c.email_norm, 'work', true,
           split_part(c.email_norm, '@', 2), c.created_at
    from contacts c
    where c.email_norm is not null
      and not exists (select 1 from contact_emails x
                      where x.org_id = c.org_id and x.contact_id = c.id);

-- Whether a number is written in E.164 form: what `contact_phones.number_e164` is checked
-- against, for the mirrors (inlined where it is used).
create function crm_is_e164(p text) returns boolean
language sql immutable parallel safe
return p operator(pg_catalog.~) '^\+[1-9][0-9]{4,14}$';

-- A mirrored number is in E.164 form when it reads as one (what `contact_phones` checks);
-- the two forms are two branches, so that a lookup of `number_e164` by prefix reads the
-- index on `contacts.phone`.
create view contact_phone_list with (security_invoker = true) as
    select p.org_id, p.contact_id, p.id, p.number_e164, p.number_raw, p.kind, p.is_primary,
           p.created_at
    from contact_phones p
    union all
    select c.org_id, c.id, c.id, c.phone, c.phone, 'office', true, c.created_at
    from contacts c
    where crm_is_e164(c.phone)
      and not exists (select 1 from contact_phones x
                      where x.org_id = c.org_id and x.contact_id = c.id)
    union all
    select c.org_id, c.id, c.id, null, c.phone, 'office', true, c.created_at
    from contacts c
    where not crm_is_e164(c.phone)
      and not exists (select 1 from contact_phones x
                      where x.org_id = c.org_id and x.contact_id = c.id);

grant select on contact_email_list, contact_phone_list to crm_app;
grant execute on function crm_is_e164(text) to crm_app;

-- The lookups the rows' indexes served, for the mirrors: an address or number by prefix
-- (search as you type, matching an import), a domain (search by `@domain`). The first
-- covers deleted contacts too, so the partial index on their addresses goes.
create index contacts_email_norm_idx on contacts (org_id, email_norm text_pattern_ops);
create index contacts_email_domain_idx on contacts (org_id, split_part(email_norm, '@', 2));
create index contacts_phone_idx on contacts (org_id, phone text_pattern_ops);
drop index contacts_deleted_email_idx;

-- The search's address paths read the views (the function's body is otherwise unchanged:
-- it is rewritten in place, and each rewrite must find its text).
do $$
declare
    d text := pg_get_functiondef('crm_search(text, integer)'::regprocedure);
    r text[];
begin
    foreach r slice 1 in array array[
        ['from contact_phones p', 'from contact_phone_list p'],
        ['from contact_emails e', 'from contact_email_list e']]
    loop
        if strpos(d, r[1]) = 0 then
            raise exception 'crm_search no longer reads %', r[1];
        end if;
        d := replace(d, r[1], r[2]);
    end loop;
    execute d;
end
$$;
