-- Passkeys and security keys (WebAuthn, I3): several per user, named, removable. The public
-- key is all the server keeps; `sign_count` moves forward with each use (compare-and-set),
-- so a cloned authenticator is noticed.
CREATE TABLE passkeys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    credential_id TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    sign_count BIGINT NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    aaguid TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_user ON passkeys(user_id);

-- The challenge of a ceremony in progress: one per session and purpose, used once.
CREATE TABLE webauthn_challenges (
    session_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    challenge TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, purpose)
);
