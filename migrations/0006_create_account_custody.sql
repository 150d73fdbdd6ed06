ALTER TABLE upstream_accounts ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;
CREATE INDEX upstream_accounts_refreshed_idx ON upstream_accounts (last_refresh_at);

CREATE TABLE account_leases (
  account_id TEXT PRIMARY KEY REFERENCES upstream_accounts (id) ON DELETE CASCADE,
  owner_node_id TEXT NOT NULL,
  lease_token TEXT NOT NULL,
  acquired_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  refresh_requested_generation BIGINT
);
CREATE INDEX account_leases_owner_idx ON account_leases (owner_node_id);

CREATE TABLE account_refresh_claims (
  account_id TEXT PRIMARY KEY REFERENCES upstream_accounts (id) ON DELETE CASCADE,
  oauth_client_id TEXT NOT NULL,
  node_id TEXT NOT NULL,
  token_generation BIGINT NOT NULL,
  claimed_until TEXT NOT NULL
);

CREATE TABLE oauth_refresh_gates (
  oauth_client_id TEXT PRIMARY KEY,
  touched_at TEXT NOT NULL
);

CREATE TABLE account_health (
  account_id TEXT PRIMARY KEY REFERENCES upstream_accounts (id) ON DELETE CASCADE,
  exhausted_until TEXT,
  demoted_until TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX account_health_updated_idx ON account_health (updated_at);

CREATE TABLE account_circuits (
  account_id TEXT NOT NULL REFERENCES upstream_accounts (id) ON DELETE CASCADE,
  model TEXT NOT NULL,
  route_class TEXT NOT NULL,
  open_until TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (account_id, model, route_class)
);
CREATE INDEX account_circuits_updated_idx ON account_circuits (updated_at);

CREATE TABLE http_session_pins (
  pool_id TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  session_key_hash TEXT NOT NULL,
  account_id TEXT NOT NULL REFERENCES upstream_accounts (id) ON DELETE CASCADE,
  expires_at TEXT NOT NULL,
  PRIMARY KEY (pool_id, session_key_hash)
);
CREATE INDEX http_session_pins_expiry_idx ON http_session_pins (expires_at);

CREATE TABLE account_quota_windows (
  account_id TEXT NOT NULL REFERENCES upstream_accounts (id) ON DELETE CASCADE,
  limit_id TEXT NOT NULL,
  window_minutes INTEGER NOT NULL CHECK (window_minutes > 0),
  window_kind TEXT NOT NULL,
  limit_name TEXT,
  used_percent DOUBLE PRECISION NOT NULL,
  reset_at TEXT,
  source TEXT NOT NULL,
  observed_at TEXT NOT NULL,
  PRIMARY KEY (account_id, limit_id, window_minutes)
);
INSERT INTO account_quota_windows (account_id, limit_id, window_minutes, window_kind, limit_name,
  used_percent, reset_at, source, observed_at)
  SELECT account_id, 'codex', window_minutes, window_kind, NULL, used_percent, reset_at, source,
    observed_at FROM quota_windows;
DROP TABLE quota_windows;
