-- Where each file was uploaded from (I5): 'lgwan_pc' or 'internet_device'. Files from
-- internet devices are to be sanitized before an LGWAN PC fetches them (issue 9), so the
-- class must stay with the file, not only in its audit record.
ALTER TABLE files ADD COLUMN uploaded_from TEXT NOT NULL DEFAULT 'lgwan_pc';
