-- Nonces of signed requests, kept for the signature window to refuse replays. A lost nonce
-- only reopens a replay window of minutes for a request that was already answered, so the
-- table is UNLOGGED: no WAL on the hot path.
CREATE UNLOGGED TABLE request_nonces (
    application_id uuid NOT NULL,
    nonce          text NOT NULL,
    expires_at     timestamptz NOT NULL,
    PRIMARY KEY (application_id, nonce)
);

-- One-time SSO tickets (stored hashed), bound to citizen, service and application.
CREATE TABLE sso_tickets (
    ticket_hash    bytea PRIMARY KEY,
    environment    text NOT NULL CHECK (environment IN ('test', 'production')),
    citizen_id     uuid NOT NULL REFERENCES citizens (id),
    service_id     uuid NOT NULL REFERENCES services (id),
    application_id uuid NOT NULL REFERENCES applications (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz
);
CREATE INDEX sso_tickets_expiry_idx ON sso_tickets (expires_at);

-- Access tokens from exchanged tickets (stored hashed). The user-info level is fixed at
-- issue, so a changed level applies to new tokens.
CREATE TABLE access_tokens (
    token_hash      bytea PRIMARY KEY,
    ticket_hash     bytea NOT NULL REFERENCES sso_tickets (ticket_hash),
    environment     text NOT NULL CHECK (environment IN ('test', 'production')),
    application_id  uuid NOT NULL REFERENCES applications (id),
    citizen_id      uuid NOT NULL REFERENCES citizens (id),
    user_info_level text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz
);
CREATE INDEX access_tokens_ticket_idx ON access_tokens (ticket_hash);

-- Citizens signed in to the super-app simulator (test environment only), and the one-time
-- codes they sign in with.
CREATE TABLE citizen_sessions (
    token_hash bytea PRIMARY KEY,
    citizen_id uuid NOT NULL REFERENCES citizens (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE TABLE citizen_login_codes (
    mobile_index bytea PRIMARY KEY,
    code_hash    bytea NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

-- The development SMS provider's record of what it "sent", where developers and the
-- super-app simulator can read it. Never used by a real provider.
CREATE TABLE dev_sms (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    to_index      bytea NOT NULL,
    to_mobile     bytea NOT NULL,   -- sealed ("dev-sms-mobile")
    sign_name     text NOT NULL,
    template_code text NOT NULL,
    params        bytea NOT NULL,   -- sealed JSON ("dev-sms-params")
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dev_sms_to_idx ON dev_sms (to_index, created_at DESC);
