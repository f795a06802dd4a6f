-- Applications that several bodies decide on (inter-body groups, I7; seed 003 §7): one row per
-- participating body. Each body's administrator approves for their own body and names which of
-- their own staff join (`members`, a JSON list of user IDs); the application is approved when
-- every row carries an approval. Returning the application clears them, so a changed
-- application is approved again by everyone.
CREATE TABLE application_bodies (
    application_id TEXT NOT NULL REFERENCES applications(id),
    org_id TEXT NOT NULL REFERENCES orgs(id),
    position INTEGER NOT NULL,
    approved_by TEXT REFERENCES users(id),
    approved_at BIGINT,
    members TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (application_id, org_id)
);
CREATE INDEX application_bodies_org ON application_bodies(org_id, approved_by);

-- A talk made for an approved inter-body group names its application; members of several
-- bodies read it. `closed_at`: the group's period ended, so it is kept to read and nobody
-- posts; `removed_at`: the retention period after the end passed and nobody sees it any more.
ALTER TABLE talks ADD COLUMN application_id TEXT;
ALTER TABLE talks ADD COLUMN closed_at BIGINT;
ALTER TABLE talks ADD COLUMN removed_at BIGINT;
CREATE INDEX talks_application ON talks(application_id);
