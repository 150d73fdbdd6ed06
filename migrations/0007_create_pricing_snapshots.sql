CREATE TABLE pricing_snapshots (
  id TEXT PRIMARY KEY,
  price_version TEXT NOT NULL,
  effective_at TEXT NOT NULL,
  source_url TEXT NOT NULL,
  imported_at TEXT NOT NULL,
  model_count INTEGER NOT NULL CHECK (model_count > 0)
);
CREATE UNIQUE INDEX pricing_snapshots_version_key ON pricing_snapshots (price_version);
CREATE INDEX pricing_snapshots_effective_idx ON pricing_snapshots (effective_at, imported_at);

CREATE TABLE pricing_model_prices (
  snapshot_id TEXT NOT NULL REFERENCES pricing_snapshots (id) ON DELETE CASCADE,
  model TEXT NOT NULL,
  service_tier TEXT NOT NULL CHECK (service_tier IN ('standard', 'batch', 'flex', 'fast')),
  price_bucket TEXT NOT NULL CHECK (price_bucket IN ('default', 'short_context', 'long_context')),
  available INTEGER NOT NULL CHECK (available IN (0, 1)),
  input_micros_per_mtok BIGINT NOT NULL DEFAULT 0,
  cached_input_micros_per_mtok BIGINT NOT NULL DEFAULT 0,
  cache_write_micros_per_mtok BIGINT NOT NULL DEFAULT 0,
  output_micros_per_mtok BIGINT NOT NULL DEFAULT 0,
  reasoning_micros_per_mtok BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (snapshot_id, model, service_tier, price_bucket)
);

ALTER TABLE request_logs ADD COLUMN service_tier TEXT;
ALTER TABLE request_logs ADD COLUMN cost_micros BIGINT;
ALTER TABLE request_logs ADD COLUMN pricing_snapshot_id TEXT;
ALTER TABLE request_logs ADD COLUMN pricing_status TEXT CHECK (pricing_status IN ('priced', 'unpriced', 'not_applicable'));
CREATE INDEX request_logs_account_idx ON request_logs (account_id, occurred_at);
CREATE INDEX request_logs_model_idx ON request_logs (model, occurred_at);
