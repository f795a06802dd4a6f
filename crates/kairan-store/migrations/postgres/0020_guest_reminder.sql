-- When the applicant was reminded that the guest's period ends soon (once per period; an
-- extension clears it so the new end is reminded too).
ALTER TABLE guests ADD COLUMN reminded_at BIGINT;
