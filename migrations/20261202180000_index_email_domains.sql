-- Duplicates on the way in (issue 17): a new contact is compared with the existing contacts
-- of its e-mail domain; this index finds them without reading every address.
create index contact_emails_domain_idx on contact_emails (org_id, split_part(email_norm, '@', 2));
