-- Registered internet devices (I5; seed 003 §8-11, §8-12). A browser or app on the internet
-- side holds a random device token (a cookie); the database keeps its SHA-256. A device is
-- `pending` until an administrator approves it (when the body asks for approval), `active`,
-- `refused`, or `lost` (reported lost: its sessions ended, and it stays blocked unless an
-- administrator restores it).
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    org_id TEXT NOT NULL REFERENCES orgs(id),
    token_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    platform TEXT NOT NULL,
    status TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT
);
CREATE UNIQUE INDEX devices_token ON devices(user_id, token_hash);
CREATE INDEX devices_org ON devices(org_id, status);

-- The registered device a session signed in from (none on the LGWAN side).
ALTER TABLE sessions ADD COLUMN device_id TEXT;
CREATE INDEX sessions_device ON sessions(device_id);
