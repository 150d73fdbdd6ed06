CREATE TABLE instance_settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_by TEXT REFERENCES operators (id) ON DELETE SET NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE audit_events (
  id TEXT PRIMARY KEY,
  occurred_at TEXT NOT NULL,
  actor_type TEXT NOT NULL CHECK (actor_type IN ('operator', 'system', 'cli', 'anonymous')),
  actor_id TEXT,
  action TEXT NOT NULL,
  target_type TEXT,
  target_id TEXT,
  pool_id TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
  client_ip TEXT,
  details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at, id);
CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at);

CREATE TABLE request_logs (
  id TEXT PRIMARY KEY,
  occurred_at TEXT NOT NULL,
  pool_id TEXT,
  api_key_id TEXT,
  account_id TEXT,
  route TEXT NOT NULL,
  transport TEXT NOT NULL,
  model TEXT,
  status_code INTEGER NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'rejected', 'cancelled')),
  error_code TEXT,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  latency_ms BIGINT,
  ttfb_ms BIGINT,
  input_tokens BIGINT,
  cached_input_tokens BIGINT,
  output_tokens BIGINT,
  reasoning_tokens BIGINT,
  session_key_hash TEXT,
  client_ip TEXT
);
CREATE INDEX request_logs_occurred_idx ON request_logs (occurred_at, id);
CREATE INDEX request_logs_pool_idx ON request_logs (pool_id, occurred_at);
CREATE INDEX request_logs_key_idx ON request_logs (api_key_id, occurred_at);

CREATE TABLE request_attempts (
  id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL,
  attempt_number INTEGER NOT NULL,
  account_id TEXT,
  started_at TEXT NOT NULL,
  status_code INTEGER,
  outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'retryable_failed', 'cancelled')),
  error_code TEXT,
  latency_ms BIGINT,
  ttfb_ms BIGINT
);
CREATE UNIQUE INDEX request_attempts_number_key ON request_attempts (request_id, attempt_number);

CREATE TABLE quota_windows (
  account_id TEXT NOT NULL REFERENCES upstream_accounts (id) ON DELETE CASCADE,
  window_kind TEXT NOT NULL CHECK (window_kind IN ('primary', 'secondary')),
  window_minutes INTEGER NOT NULL CHECK (window_minutes > 0),
  used_percent DOUBLE PRECISION NOT NULL,
  reset_at TEXT,
  source TEXT NOT NULL,
  observed_at TEXT NOT NULL,
  PRIMARY KEY (account_id, window_kind)
);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  run_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3,
  locked_by TEXT,
  locked_until TEXT,
  last_error TEXT,
  payload TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX jobs_claim_idx ON jobs (status, run_at);

CREATE TABLE cluster_nodes (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  host TEXT NOT NULL,
  http_port INTEGER NOT NULL,
  cluster_port INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('up', 'draining', 'down')),
  started_at TEXT NOT NULL,
  last_heartbeat_at TEXT NOT NULL
);
