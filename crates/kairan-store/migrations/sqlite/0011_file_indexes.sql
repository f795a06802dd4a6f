-- Files are found by their bytes (quarantining every copy, the sweep of leftover blobs) and,
-- on every node each minute, by a waiting scan; neither may read the whole table.
CREATE INDEX files_by_sha256 ON files (sha256);
CREATE INDEX files_pending_scan ON files (created_at) WHERE status = 'pending_scan';
