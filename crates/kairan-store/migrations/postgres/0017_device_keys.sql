-- The key that binds a registered internet device to the browser or app that registered it
-- (I5): the public half of a non-extractable P-256 key pair (base64url of the SEC1 point). A
-- device with a key signs in only with a signature by it; none: a device registered by a
-- client that offered no key (cookie only).
ALTER TABLE devices ADD COLUMN public_key TEXT;

-- Sign-in challenges already answered, so a captured answer cannot be played again; each row
-- is kept until its challenge would have expired anyway.
CREATE TABLE device_challenges_used (
    challenge_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX device_challenges_used_expiry ON device_challenges_used(expires_at);
