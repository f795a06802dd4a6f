-- Reading talk content for audit (G7). Auditors, the security officer and CSIRT may read a
-- talk they are not members of only with a stated reason; each reading is a row here (the
-- reason is free text, so it lives here and not in the audit log, which holds identifiers
-- only) and an audit record pointing to it.
CREATE TABLE content_reviews (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    actor_id TEXT NOT NULL REFERENCES users(id),
    talk_id TEXT NOT NULL REFERENCES talks(id),
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX content_reviews_by_org ON content_reviews (org_id, created_at);
