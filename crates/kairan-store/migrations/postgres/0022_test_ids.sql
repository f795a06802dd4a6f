-- IDs issued for development or testing (I10, seed 004 5.3(1)③): flagged when issued, so the
-- dormant-ID report lists them until they are disabled.
ALTER TABLE users ADD COLUMN is_test BIGINT NOT NULL DEFAULT 0;
