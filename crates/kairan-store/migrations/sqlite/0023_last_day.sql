-- A leaver's last day (退職日, I1): the day after it (00:00 JST) the ID is disabled, never
-- deleted, so what the person wrote stays attributed. Set from the staff CSV.
ALTER TABLE users ADD COLUMN last_day TEXT;
