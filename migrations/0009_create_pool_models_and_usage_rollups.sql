-- A pool's model catalog as the catalog sync job sees it: the union of what its accounts
-- report. A model no account reports any more turns stale, and retired after
-- `catalog.model_retire_hours`; reported again, it is active again.
CREATE TABLE pool_models (
  pool_id TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  slug TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'stale', 'retired')),
  account_count INTEGER NOT NULL DEFAULT 0,
  first_seen_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  stale_at TEXT,
  retired_at TEXT,
  synced_at TEXT NOT NULL,
  PRIMARY KEY (pool_id, slug)
);

-- Hourly usage by pool × key × account × model, rebuilt from request_logs by the usage rollup
-- job. Absent dimensions are stored as '' so the primary key stays total.
CREATE TABLE usage_rollups (
  bucket_start TEXT NOT NULL,
  pool_id TEXT NOT NULL,
  api_key_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  model TEXT NOT NULL,
  requests BIGINT NOT NULL,
  errors BIGINT NOT NULL,
  input_tokens BIGINT NOT NULL,
  cached_input_tokens BIGINT NOT NULL,
  output_tokens BIGINT NOT NULL,
  reasoning_tokens BIGINT NOT NULL,
  cost_micros BIGINT NOT NULL,
  unpriced_requests BIGINT NOT NULL,
  computed_at TEXT NOT NULL,
  PRIMARY KEY (bucket_start, pool_id, api_key_id, account_id, model)
);
CREATE INDEX usage_rollups_pool_idx ON usage_rollups (pool_id, bucket_start);

-- A refresh the sweep asks of an account's owner ahead of expiry (1), as opposed to a replica's
-- 401 (0): the owner keeps serving the old token meanwhile.
ALTER TABLE account_leases ADD COLUMN refresh_ahead INTEGER NOT NULL DEFAULT 0 CHECK (refresh_ahead IN (0, 1));

-- When the last transient refresh failure happened, so the refresh sweep can cool down.
ALTER TABLE upstream_accounts ADD COLUMN last_refresh_error_at TEXT;
CREATE INDEX upstream_accounts_expiry_idx ON upstream_accounts (access_token_expires_at);
CREATE INDEX request_attempts_started_idx ON request_attempts (started_at);
