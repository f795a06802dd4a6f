-- Directory sign-in (I9). `auth_source` says who checks an ID's password: `local` (Kairan's
-- own hash; the break-glass IDs stay local) or `directory` (the body's LDAP / Active
-- Directory, bound with the user's own credentials). `directory_dn` is the entry found at the
-- last directory sign-in.
ALTER TABLE users ADD COLUMN auth_source TEXT NOT NULL DEFAULT 'local';
ALTER TABLE users ADD COLUMN directory_dn TEXT;

-- The idle limit a session lives by, from its body's sign-in settings (I4) when it began;
-- none: the server's default.
ALTER TABLE sessions ADD COLUMN idle_minutes BIGINT;
