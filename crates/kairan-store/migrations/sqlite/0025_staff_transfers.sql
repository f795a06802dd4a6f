-- Personnel transfers (異動, I1): a staff CSV prepared ahead and applied on its effective day
-- (typically 1 April) by the clock. The file is kept as it was checked (hex of its bytes) with
-- its SHA-256; `state` is scheduled → applied | failed | cancelled, and `result` holds the
-- summary (or, when it failed, the problems found on the day) as JSON.
CREATE TABLE staff_transfers (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    effective_date TEXT NOT NULL,
    file_hex TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    rows_count BIGINT NOT NULL,
    changes BIGINT NOT NULL,
    state TEXT NOT NULL,
    created_by TEXT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    result TEXT
);
CREATE INDEX staff_transfers_due ON staff_transfers(state, effective_date);
CREATE INDEX staff_transfers_org ON staff_transfers(org_id, created_at);
