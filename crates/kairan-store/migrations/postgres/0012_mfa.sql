-- Second factors (I3). A TOTP secret is stored sealed with the server's key (never in the
-- clear); `last_step` is the newest time step the credential accepted, so no code is
-- accepted twice. A row without `confirmed_at` is an enrolment that has not yet been proved
-- with a code. Recovery codes are stored only as keyed hashes.
CREATE TABLE totp_credentials (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    secret_sealed TEXT NOT NULL,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT
);
CREATE INDEX totp_credentials_user ON totp_credentials(user_id);

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- What a session still owes after the password: 'none' (nothing), 'verify' (a second
-- factor the user has) or 'enrol' (the policy requires one and the user has none yet).
ALTER TABLE sessions ADD COLUMN mfa_state TEXT NOT NULL DEFAULT 'none';

-- The fingerprint of the key that seals secrets in this database. Every node must hold the
-- same key; a node with another one refuses to start instead of failing every sign-in.
CREATE TABLE server_key (
    id BIGINT PRIMARY KEY,
    fingerprint TEXT NOT NULL
);
