-- Which citizen a pairwise id means for an application: recorded when a ticket is
-- exchanged, so a vendor can address the citizens who signed in to its services, and no
-- one else.
CREATE TABLE pairwise_ids (
    application_id uuid NOT NULL REFERENCES applications (id),
    pairwise_id    text NOT NULL,
    citizen_id     uuid NOT NULL REFERENCES citizens (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, pairwise_id)
);

-- An application's grant of a platform capability (seed §7.5, §7.7): applied for by the
-- vendor, decided by an administrator, revocable.
CREATE TABLE capability_grants (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id uuid NOT NULL REFERENCES applications (id),
    capability     text NOT NULL CHECK (capability IN ('sms', 'message', 'todo')),
    status         text NOT NULL CHECK (status IN ('draft', 'pending', 'granted', 'rejected', 'revoked')),
    sms_sign_name  text,
    form_key       text,                 -- the city's SMS application form, in object storage
    form_type      text,
    form_size      bigint,
    upload_key     text,                 -- a form upload in flight
    upload_type    text,
    upload_size    bigint,
    upload_expires timestamptz,
    reason         text,
    requested_at   timestamptz,
    decided_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT capability_grants_app_key UNIQUE (application_id, capability)
);
CREATE INDEX capability_grants_queue_idx ON capability_grants (requested_at) WHERE status = 'pending';

-- SMS templates an application applied for with its SMS grant; ${name} marks a parameter.
CREATE TABLE sms_templates (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id uuid NOT NULL REFERENCES applications (id),
    code           text NOT NULL,        -- the provider's template code, e.g. SMS_153055065
    name           text NOT NULL,
    content        text NOT NULL,
    params         text[] NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sms_templates_code_key UNIQUE (application_id, code)
);

-- Every SMS an application sent, with the provider's id and status. The idempotency key
-- makes a retried send return the original result.
CREATE TABLE sms_sends (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id  uuid NOT NULL REFERENCES applications (id),
    idempotency_key text,
    request_hash    bytea NOT NULL,
    template_code   text NOT NULL,
    to_index        bytea NOT NULL,      -- blind index of the number, for the per-number limits
    to_mobile       bytea NOT NULL,      -- sealed ("sms-mobile")
    citizen_id      uuid REFERENCES citizens (id),
    status          text NOT NULL CHECK (status IN ('sent', 'failed')),
    provider        text NOT NULL,
    provider_id     text,
    error           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sms_sends_idempotency_key UNIQUE (application_id, idempotency_key)
);
CREATE INDEX sms_sends_limit_idx ON sms_sends (application_id, template_code, to_index, created_at DESC);

-- Application messages in a citizen's in-app inbox.
CREATE TABLE citizen_messages (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id  uuid NOT NULL REFERENCES applications (id),
    citizen_id      uuid NOT NULL REFERENCES citizens (id),
    idempotency_key text NOT NULL,
    request_hash    bytea NOT NULL,
    title           text NOT NULL,
    body            text NOT NULL,
    link            text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    read_at         timestamptz,
    CONSTRAINT citizen_messages_idempotency_key UNIQUE (application_id, idempotency_key)
);
CREATE INDEX citizen_messages_inbox_idx ON citizen_messages (citizen_id, created_at DESC);

-- To-do items an application gave a citizen, keyed by the vendor's own id.
CREATE TABLE todos (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id uuid NOT NULL REFERENCES applications (id),
    citizen_id     uuid NOT NULL REFERENCES citizens (id),
    external_id    text NOT NULL,
    request_hash   bytea NOT NULL,
    title          text NOT NULL,
    description    text NOT NULL DEFAULT '',
    due_at         timestamptz,
    link           text,
    status         text NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    closed_at      timestamptz,
    CONSTRAINT todos_external_key UNIQUE (application_id, external_id)
);
CREATE INDEX todos_citizen_idx ON todos (citizen_id, status, due_at);

-- Per-application request counters for rate limits: short-lived, so UNLOGGED.
CREATE UNLOGGED TABLE rate_windows (
    application_id uuid NOT NULL,
    capability     text NOT NULL,
    window_start   timestamptz NOT NULL,
    count          integer NOT NULL,
    PRIMARY KEY (application_id, capability, window_start)
);

-- Calls per application, capability and day, for the portal's usage view.
CREATE TABLE capability_usage (
    application_id uuid NOT NULL REFERENCES applications (id),
    capability     text NOT NULL,
    day            date NOT NULL,
    count          bigint NOT NULL,
    PRIMARY KEY (application_id, capability, day)
);
