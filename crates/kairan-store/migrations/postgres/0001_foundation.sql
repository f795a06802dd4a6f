-- Foundation (PostgreSQL): bodies, departments, staff IDs, roles, sessions and the audit chain.
-- Times are microseconds since the Unix epoch (UTC); IDs are UUIDv7 text.
CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

CREATE TABLE departments (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    parent_id TEXT REFERENCES departments(id),
    name TEXT NOT NULL,
    sort_order BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX departments_org ON departments(org_id);
CREATE UNIQUE INDEX departments_name ON departments(org_id, COALESCE(parent_id, ''), name);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    department_id TEXT REFERENCES departments(id),
    login_id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    kana TEXT NOT NULL,
    title TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    password_hash TEXT NOT NULL,
    must_change_password BIGINT NOT NULL DEFAULT 1,
    password_changed_at BIGINT,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    last_sign_in_at BIGINT,
    failed_since_last_sign_in BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    created_by TEXT
);
CREATE INDEX users_org ON users(org_id, kana);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    granted_by TEXT,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE password_history (
    user_id TEXT NOT NULL REFERENCES users(id),
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX password_history_user ON password_history(user_id, created_at);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    prev_sign_in_at BIGINT,
    failed_before BIGINT NOT NULL DEFAULT 0,
    ended_at BIGINT,
    end_reason TEXT
);
CREATE INDEX sessions_user ON sessions(user_id, ended_at);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL,
    at_us BIGINT NOT NULL,
    org_id TEXT,
    actor_id TEXT,
    action TEXT NOT NULL,
    target_id TEXT,
    ip TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log(org_id, seq);

-- The head of the chain, kept apart from the log so that records cut from the end are found,
-- and locked by every append so concurrent writers never fork the chain.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
