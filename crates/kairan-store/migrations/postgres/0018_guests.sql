-- Guests (ゲスト, I6; seed 003 §6): a person from outside the body, admitted by an approved
-- guest application for its period. The user row holds the ID (role `guest`, status `pending`
-- until the period starts, `active` during it, `ended` after it); this row holds what the
-- application said of the guest, who sponsors them, and the one-time invitation: the
-- SHA-256 of its token and the token sealed with the server key, so the applicant can open
-- the link again until the guest uses it (then both are cleared).
CREATE TABLE guests (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    org_id TEXT NOT NULL REFERENCES orgs(id),
    application_id TEXT NOT NULL REFERENCES applications(id),
    sponsor_id TEXT NOT NULL REFERENCES users(id),
    affiliation TEXT NOT NULL,
    email TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    invitation_hash TEXT,
    invitation_sealed TEXT,
    invitation_expires_at BIGINT,
    accepted_at BIGINT,
    ended_at BIGINT
);
CREATE UNIQUE INDEX guests_invitation ON guests(invitation_hash);
CREATE INDEX guests_application ON guests(application_id);
CREATE INDEX applications_kind_state ON applications(kind, state, end_date);
