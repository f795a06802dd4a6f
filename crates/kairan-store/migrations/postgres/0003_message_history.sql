-- Edits, deletions and reactions (C2, G7; PostgreSQL). Every earlier version of a message is kept here for
-- auditors; members see only the current text, "edited", or "deleted".
CREATE TABLE message_versions (
    message_id TEXT NOT NULL REFERENCES messages(id),
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    replaced_by TEXT NOT NULL REFERENCES users(id),
    replaced_at BIGINT NOT NULL,
    -- 'edited' or 'deleted': what replaced this version.
    reason TEXT NOT NULL,
    PRIMARY KEY (message_id, version)
);

CREATE TABLE message_reactions (
    message_id TEXT NOT NULL REFERENCES messages(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    stamp TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id, stamp)
);
