-- The platform-managed list of service tags (the theme a service belongs to, seed §7.2).
CREATE TABLE tags (
    slug       text PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    sort_order integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tags (slug, name, sort_order) VALUES
    ('social-security', '社保', 10), ('housing-fund', '公积金', 20), ('medical', '医疗健康', 30),
    ('education', '教育', 40), ('transport', '交通出行', 50), ('utilities', '生活缴费', 60),
    ('government', '政务办事', 70), ('public-safety', '公安', 80), ('civil-affairs', '民政', 90),
    ('tax', '税务', 100), ('employment', '就业创业', 110), ('culture-tourism', '文化旅游', 120);

-- Services a vendor lists under an approved application (seed §4).
CREATE TABLE services (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id        uuid NOT NULL REFERENCES applications (id),
    name                  text NOT NULL,
    channels              text[] NOT NULL CHECK (channels <@ ARRAY['app', 'wechat', 'alipay'] AND cardinality(channels) > 0),
    service_type          text NOT NULL CHECK (service_type IN ('transaction', 'query')),
    module_callback_code  text NOT NULL,
    module_code           text NOT NULL UNIQUE,
    test_url              text NOT NULL,
    production_url        text,
    description           text NOT NULL,
    tags                  text[] NOT NULL,
    logo_key              text,
    functional_report_key  text,
    functional_report_size bigint,
    security_report_key    text,
    security_report_size   bigint,
    status                text NOT NULL CHECK (status IN ('testing', 'applied', 'approved', 'live_requested', 'live', 'offline')),
    status_reason         text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    applied_at            timestamptz,
    live_requested_at     timestamptz,
    live_at               timestamptz,
    CONSTRAINT services_callback_code_key UNIQUE (application_id, module_callback_code)
);
CREATE INDEX services_application_idx ON services (application_id, created_at DESC);
CREATE INDEX services_review_idx ON services (status, updated_at) WHERE status IN ('applied', 'live_requested');

-- Uploads in flight: the server chose the key; completion checks what arrived.
CREATE TABLE uploads (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    service_id   uuid NOT NULL REFERENCES services (id),
    kind         text NOT NULL CHECK (kind IN ('logo', 'functional_report', 'security_report')),
    object_key   text NOT NULL UNIQUE,
    content_type text NOT NULL,
    size         bigint NOT NULL,
    filename     text NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'complete')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX uploads_service_idx ON uploads (service_id, kind);

-- The super-app's citizen directory. Mobile and ID number are sealed; the blind indexes
-- (keyed hashes) let the platform find a citizen without decrypting every row.
CREATE TABLE citizens (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mobile          bytea NOT NULL,        -- sealed ("citizen-mobile")
    mobile_index    bytea NOT NULL UNIQUE,
    id_number       bytea,                 -- sealed ("citizen-id-number")
    id_number_index bytea UNIQUE,
    name            bytea,                 -- sealed ("citizen-name")
    face_image_key  bytea,                 -- sealed ("citizen-face-key"): the object key names the person's file
    real_name_level text NOT NULL DEFAULT 'basic' CHECK (real_name_level IN ('basic', 'identity', 'real_name')),
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Test citizens an administrator whitelisted for an application (seed §5.1): before a
-- service is live, only they may open it.
CREATE TABLE test_citizens (
    application_id uuid NOT NULL REFERENCES applications (id),
    citizen_id     uuid NOT NULL REFERENCES citizens (id),
    added_by       uuid NOT NULL REFERENCES accounts (id),
    added_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, citizen_id)
);
