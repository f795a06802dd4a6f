-- Classification (G1) and per-body personal-data rules (G2), and notifications.
-- A body's scheme as JSON (kairan_domain::classification::Scheme); absent means the default.
CREATE TABLE org_protection (
    org_id TEXT PRIMARY KEY REFERENCES orgs(id),
    scheme TEXT NOT NULL,
    -- {"rules": {"my_number": {"action": "mask", "notify": true, "implies": 2}, ...},
    --  "keywords": [...]}; a kind not listed keeps its default rule, no list the default list.
    dlp_rules TEXT NOT NULL DEFAULT '{}',
    updated_at BIGINT NOT NULL,
    updated_by TEXT
);

-- Classes are ranks on the body's confidentiality scale, 0 = least confidential. Existing
-- talks get the least class and the default scheme's ceiling (one below the top).
ALTER TABLE talks ADD COLUMN ceiling BIGINT NOT NULL DEFAULT 1;
ALTER TABLE talks ADD COLUMN default_class BIGINT NOT NULL DEFAULT 0;
-- The highest class of anything ever posted in the talk (a container shows its contents' class).
ALTER TABLE talks ADD COLUMN max_class BIGINT NOT NULL DEFAULT 0;
ALTER TABLE talks ADD COLUMN integrity BIGINT;
ALTER TABLE talks ADD COLUMN availability BIGINT;

ALTER TABLE messages ADD COLUMN class BIGINT NOT NULL DEFAULT 0;
-- A forward keeps its class and remembers where it came from.
ALTER TABLE messages ADD COLUMN forwarded_from TEXT;

-- Things a person must see (the security officer's DLP alerts; later approvals).
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    actor_id TEXT,
    target_id TEXT,
    -- Kinds and positions only: never a detected value.
    details TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user ON notifications(user_id, read_at);
