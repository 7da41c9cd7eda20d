-- Time zones for reading local times and bare dates (DESIGN.md, "Decisions for this wave"):
-- a user's own, defaulting to the organization's, defaulting to the machine's. An IANA name
-- such as Europe/Berlin, checked by the library when it is set; null means "the default".
alter table organizations add column time_zone text
    check (time_zone is null or length(time_zone) between 1 and 64);
alter table users add column time_zone text
    check (time_zone is null or length(time_zone) between 1 and 64);
