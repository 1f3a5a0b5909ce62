-- Signed requests sweep expired nonces now and then (shared/vendorauth): without an index the
-- sweep read the whole table inside the request that drew it, and that request's core was
-- busy for milliseconds once the table held a few hundred thousand nonces.
CREATE INDEX request_nonces_expires_at ON request_nonces (expires_at);
