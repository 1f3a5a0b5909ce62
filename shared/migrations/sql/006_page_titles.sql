-- The page title a service's page reported through the JS-SDK when a tester opened it in the
-- super-app simulator (the latest observation per service). The page rule of seed §7.4 says
-- the title equals the service's listed name; reviewers see the comparison among the
-- service's machine pre-checks ("page-title-matches").
CREATE TABLE page_titles (
    service_id  uuid PRIMARY KEY REFERENCES services (id),
    title       text NOT NULL,
    observed_at timestamptz NOT NULL DEFAULT now()
);
