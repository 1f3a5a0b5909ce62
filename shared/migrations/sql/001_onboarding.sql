-- Accounts of the open platform's back office: administrators and the vendors they issue.
CREATE TABLE accounts (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    role                 text NOT NULL CHECK (role IN ('admin', 'vendor')),
    login                text NOT NULL,
    password_hash        text NOT NULL,
    must_change_password boolean NOT NULL DEFAULT true,
    company_name         text NOT NULL DEFAULT '',
    contact_name         text NOT NULL DEFAULT '',
    contact_mobile       bytea,            -- sealed ("account-mobile")
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    disabled_reason      text,
    created_by           uuid REFERENCES accounts (id),
    created_at           timestamptz NOT NULL DEFAULT now(),
    password_changed_at  timestamptz
);
CREATE UNIQUE INDEX accounts_login_key ON accounts (lower(login));

-- Sign-in sessions. Only hashes of the session token and CSRF token are stored.
CREATE TABLE sessions (
    token_hash  bytea PRIMARY KEY,
    csrf_hash   bytea NOT NULL,
    account_id  uuid NOT NULL REFERENCES accounts (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX sessions_account_idx ON sessions (account_id) WHERE revoked_at IS NULL;

-- Failed sign-ins, per login name and per client address, for backoff and lockout.
CREATE TABLE login_throttle (
    key           text PRIMARY KEY,
    failures      integer NOT NULL,
    window_start  timestamptz NOT NULL,
    blocked_until timestamptz
);

-- Applications (one business system of a vendor), seed §3.
CREATE TABLE applications (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    vendor_id       uuid NOT NULL REFERENCES accounts (id),
    name            text NOT NULL,
    contact_name    text NOT NULL,
    contact_mobile  bytea NOT NULL,        -- sealed ("application-mobile")
    needs_user_info boolean NOT NULL,
    user_info_level text CHECK (user_info_level IN ('basic', 'identity', 'real_name')),
    description     text NOT NULL,
    status          text NOT NULL CHECK (status IN ('draft', 'pending', 'approved', 'rejected')),
    reject_reason   text,
    app_code        text UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    declared_at     timestamptz,           -- first submission
    submitted_at    timestamptz,           -- latest submission: the review queue's order
    decided_at      timestamptz,
    CHECK (needs_user_info = (user_info_level IS NOT NULL)),
    CHECK ((status = 'approved') = (app_code IS NOT NULL))
);
CREATE INDEX applications_vendor_idx ON applications (vendor_id, created_at DESC);
CREATE INDEX applications_queue_idx ON applications (submitted_at) WHERE status = 'pending';

-- appSecrets, sealed ("app-secret"). More than one is live during a rotation's overlap.
CREATE TABLE app_secrets (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id uuid NOT NULL REFERENCES applications (id),
    environment    text NOT NULL CHECK (environment IN ('test', 'production')),
    secret         bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    last_used_at   timestamptz
);
CREATE INDEX app_secrets_app_idx ON app_secrets (application_id, environment);

-- Every review decision, with who made it and why.
CREATE TABLE review_decisions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    subject_type text NOT NULL,
    subject_id   uuid NOT NULL,
    decision     text NOT NULL,
    reason       text,
    admin_id     uuid NOT NULL REFERENCES accounts (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_decisions_subject_idx ON review_decisions (subject_type, subject_id, created_at);

-- Append-only audit log of admin actions, credential views and personal-data reads.
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_id     uuid,
    actor_role   text NOT NULL,
    action       text NOT NULL,
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    detail       jsonb NOT NULL DEFAULT '{}',
    request_id   text
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject_type, subject_id, at);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Transactional outbox: events written in the same transaction as the change they report,
-- delivered later as CloudEvents.
CREATE TABLE outbox (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    source          text NOT NULL,
    type            text NOT NULL,
    subject         text NOT NULL,
    data            jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text
);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE sent_at IS NULL;
