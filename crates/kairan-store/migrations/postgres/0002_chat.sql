-- Chat (C1–C3, PostgreSQL): talks, members with their read position, and messages numbered per talk.
CREATE TABLE talks (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,              -- 'direct' or 'group'
    name TEXT NOT NULL DEFAULT '',
    -- For a 1:1 talk, the two user IDs in order: one talk per pair.
    direct_key TEXT UNIQUE,
    last_seq BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    last_message_at BIGINT
);
CREATE INDEX talks_org ON talks(org_id);

CREATE TABLE talk_members (
    talk_id TEXT NOT NULL REFERENCES talks(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    joined_at BIGINT NOT NULL,
    left_at BIGINT,
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (talk_id, user_id)
);
CREATE INDEX talk_members_user ON talk_members(user_id, left_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    talk_id TEXT NOT NULL REFERENCES talks(id),
    seq BIGINT NOT NULL,
    sender_id TEXT NOT NULL REFERENCES users(id),
    body TEXT NOT NULL,
    reply_to TEXT,
    created_at BIGINT NOT NULL,
    edited_at BIGINT,
    deleted_at BIGINT,
    UNIQUE (talk_id, seq)
);
