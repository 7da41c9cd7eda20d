-- The one-record duplicate check of companies (`company add`, each company a records import
-- creates) finds existing companies by their name key, its first four letters and its first
-- letter with its last word; these indexes find them without reading every company of the
-- organization (equality only, which row-level security lets use an index).
create index companies_name_key_idx on companies (org_id, name_key)
    where deleted_at is null;
create index companies_name_prefix_idx on companies (org_id, left(name_key, 4))
    where deleted_at is null;
create index companies_name_last_word_idx
    on companies (org_id, (left(name_key, 1) || ' ' || split_part(name_key, ' ', -1)))
    where deleted_at is null;
