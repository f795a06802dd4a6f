-- Files attached to messages (C4) and screened for personal data (G2).
-- A file is uploaded first (only its uploader sees it) and attached when its message is sent;
-- the message keeps a copy of what it shows (name, size, type, class) so a page of history is
-- one read, and the file row says which message holds it, for download rights.
ALTER TABLE messages ADD COLUMN attachments TEXT;
ALTER TABLE files ADD COLUMN message_id TEXT REFERENCES messages(id);
-- The file's confidentiality rank: the talk's default, raised by what DLP found in its text.
ALTER TABLE files ADD COLUMN class BIGINT NOT NULL DEFAULT 1;
-- What the text scan did: 'scanned', 'no_text' (images), 'truncated', 'skipped' (too large),
-- or 'unreadable' (encrypted or malformed document).
ALTER TABLE files ADD COLUMN text_scan TEXT NOT NULL DEFAULT 'no_text';
-- Kinds of personal data found, as JSON {"my_number": 2, …}; never the values.
ALTER TABLE files ADD COLUMN findings TEXT;
CREATE INDEX files_by_message ON files (message_id);
