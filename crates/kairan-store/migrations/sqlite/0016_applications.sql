-- Applications and approvals (申請と承認, issue 10): one table for every workflow (guests
-- first; inter-body groups, exceptions, external services and SNS posts later). `fields` is the
-- kind's typed document, checked in kairan-domain; the period is kept in columns as well
-- (YYYY-MM-DD, the date in Japan) so the clock job can find what starts and ends. `version`
-- moves with every change: a transition is a compare-and-set on it, so two approvers acting at
-- once cannot both win.
CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    applicant_id TEXT NOT NULL REFERENCES users(id),
    state TEXT NOT NULL,
    fields TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX applications_org_state ON applications(org_id, state);
CREATE INDEX applications_applicant ON applications(applicant_id, updated_at);

-- Every step of an application, in order: who (none: the server's clock job), from which state
-- to which, and the reason given when it was returned or rejected (free text stays here; the
-- audit log keeps its hash).
CREATE TABLE application_events (
    application_id TEXT NOT NULL REFERENCES applications(id),
    seq BIGINT NOT NULL,
    actor_id TEXT REFERENCES users(id),
    transition TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    reason TEXT,
    at BIGINT NOT NULL,
    PRIMARY KEY (application_id, seq)
);
