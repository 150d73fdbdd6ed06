ALTER TABLE jobs ADD COLUMN unique_key TEXT;
ALTER TABLE jobs ADD COLUMN pool_id TEXT;
ALTER TABLE jobs ADD COLUMN origin TEXT NOT NULL DEFAULT 'schedule';
ALTER TABLE jobs ADD COLUMN enqueued_by TEXT;
ALTER TABLE jobs ADD COLUMN timeout_ms BIGINT NOT NULL DEFAULT 300000;
ALTER TABLE jobs ADD COLUMN claim_token TEXT;
ALTER TABLE jobs ADD COLUMN started_at TEXT;
ALTER TABLE jobs ADD COLUMN outcome TEXT;
CREATE UNIQUE INDEX jobs_incomplete_unique_key_idx ON jobs (unique_key)
  WHERE status IN ('queued', 'running');
CREATE INDEX jobs_unique_key_idx ON jobs (unique_key);
CREATE INDEX jobs_created_idx ON jobs (created_at, id);
CREATE INDEX jobs_kind_status_idx ON jobs (kind, status);
CREATE INDEX jobs_finished_idx ON jobs (finished_at);

CREATE TABLE job_kind_runs (
  kind TEXT PRIMARY KEY,
  last_success_at TEXT,
  last_failure_at TEXT,
  updated_at TEXT NOT NULL
);

CREATE TABLE scheduler_leases (
  name TEXT PRIMARY KEY CHECK (name = 'scheduler'),
  holder_node_id TEXT NOT NULL,
  epoch BIGINT NOT NULL,
  acquired_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
