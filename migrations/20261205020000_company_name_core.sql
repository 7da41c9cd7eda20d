-- A company's name key without a trailing Austrian legal form, which `crm_company_key`
-- keeps (OG, e.U., KEG, OEG, GesmbH: `nordlicht e u` -> `nordlicht`): what duplicate
-- detection compares. The SQL of detection and of the warnings on the way in (crm-core's
-- `dedupe::detect` and `dedupe::likely`) spelled the pattern out three times; this is now
-- the one place in SQL, and crm-core's `dedupe::company_core` the same rule in Rust (a test
-- compares the two). A plain SQL function, so it is inlined where it is used.
create function crm_company_core(p_key text) returns text
language sql immutable parallel safe strict
as $$
    select pg_catalog.regexp_replace(p_key, ' (og|e u|eu|keg|oeg|gesmbh)$', '')
$$;
