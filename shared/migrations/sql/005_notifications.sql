-- Notifications: every review decision reaches the vendor (functions/notify), in the portal
-- inbox, by SMS to the contact mobile, and to the webhook endpoints the vendor registered.

-- An outbox row the broker refused for good (an event it can never accept): the relay stops
-- trying and leaves it here for an operator, with last_error.
ALTER TABLE outbox ADD COLUMN dead_at timestamptz;

-- Events a consumer has handled, by CloudEvents source and id: recorded in the same
-- transaction as the handling's effects, so a redelivered event has no second effect.
CREATE TABLE processed_events (
    source       text NOT NULL,
    id           text NOT NULL,
    type         text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, id)
);

-- The vendor portal's inbox: one message per decision event about the vendor's resources.
CREATE TABLE vendor_messages (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    vendor_id    uuid NOT NULL REFERENCES accounts (id),
    event_source text NOT NULL,
    event_id     text NOT NULL,
    event_type   text NOT NULL,
    title        text NOT NULL,
    body         text NOT NULL,
    link         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    read_at      timestamptz,
    CONSTRAINT vendor_messages_event_key UNIQUE (vendor_id, event_source, event_id)
);
CREATE INDEX vendor_messages_inbox_idx ON vendor_messages (vendor_id, created_at DESC, id);
CREATE INDEX vendor_messages_unread_idx ON vendor_messages (vendor_id) WHERE read_at IS NULL;

-- Notification SMS to a vendor's contact mobile, written with the event's effects and sent
-- after the commit (the provider cannot be part of the transaction); retried by the
-- notifier's periodic tick until sent or given up. The number is read from the account when
-- sending, so it is never stored here.
CREATE TABLE sms_jobs (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    vendor_id       uuid NOT NULL REFERENCES accounts (id),
    event_source    text NOT NULL,
    event_id        text NOT NULL,
    template_code   text NOT NULL,
    params          jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    provider_id     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    CONSTRAINT sms_jobs_event_key UNIQUE (vendor_id, event_source, event_id)
);
CREATE INDEX sms_jobs_due_idx ON sms_jobs (next_attempt_at) WHERE status = 'pending';

-- Webhook endpoints a vendor registered. The signing secret (Standard Webhooks, whsec_…) is
-- sealed ("webhook-secret"); after a rotation the previous one still signs until it expires.
-- Deleting an endpoint keeps the row (and its delivery history) but stops deliveries.
CREATE TABLE webhook_endpoints (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    vendor_id           uuid NOT NULL REFERENCES accounts (id),
    url                 text NOT NULL,
    description         text NOT NULL DEFAULT '',
    secret              bytea NOT NULL,
    previous_secret     bytea,
    previous_expires_at timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz
);
CREATE INDEX webhook_endpoints_vendor_idx ON webhook_endpoints (vendor_id, created_at) WHERE deleted_at IS NULL;

-- One delivery of one event to one endpoint: the exact body (signed anew at each attempt),
-- the attempts so far, the last answer, and when to try next; given up ("failed") after the
-- notifier's WEBHOOK_MAX_ATTEMPTS.
CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints (id),
    vendor_id        uuid NOT NULL REFERENCES accounts (id),
    event_source     text NOT NULL,
    event_id         text NOT NULL,
    event_type       text NOT NULL,
    payload          text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_deliveries_event_key UNIQUE (endpoint_id, event_source, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC, id);
