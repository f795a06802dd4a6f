-- Files attached in talks (C4, G9). A row exists only for a file that was scanned: clean files
-- are in the blob store under their SHA-256, infected ones in quarantine (kept for the
-- security officer, never served).
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    talk_id TEXT NOT NULL REFERENCES talks(id),
    uploader_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    -- 'clean' or 'infected'
    status TEXT NOT NULL,
    -- What the scanner found, for an infected file.
    signature TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX files_by_talk ON files (talk_id, created_at);
