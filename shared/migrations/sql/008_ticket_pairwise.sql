-- A ticket carries the citizen's pairwise id for its application, computed when it is issued
-- (the key is the functions', not the database's), so the exchange records it in the same
-- single statement that consumes the ticket and issues the token. NULL for tickets issued
-- before this column existed; the exchange computes those.
ALTER TABLE sso_tickets ADD COLUMN pairwise_id text;
