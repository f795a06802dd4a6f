-- When a guest's personal data (name, affiliation, address) was removed after its period
-- (`guests.purge_after_days`); the ID and its messages stay.
ALTER TABLE guests ADD COLUMN purged_at BIGINT;
