CREATE TABLE pools (
  id TEXT PRIMARY KEY,
  slug TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  routing_strategy TEXT NOT NULL DEFAULT 'bridge_ring'
    CHECK (routing_strategy IN ('bridge_ring', 'deterministic_rotation', 'least_recent_success', 'quota_first')),
  ring_size INTEGER NOT NULL DEFAULT 3 CHECK (ring_size >= 1),
  sticky_sessions INTEGER NOT NULL DEFAULT 1 CHECK (sticky_sessions IN (0, 1)),
  prompt_cache_affinity INTEGER NOT NULL DEFAULT 1 CHECK (prompt_cache_affinity IN (0, 1)),
  v1_compatibility_enabled INTEGER NOT NULL DEFAULT 1 CHECK (v1_compatibility_enabled IN (0, 1)),
  allow_image_generation INTEGER NOT NULL DEFAULT 1 CHECK (allow_image_generation IN (0, 1)),
  created_by TEXT REFERENCES operators (id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  disabled_at TEXT
);
CREATE UNIQUE INDEX pools_slug_key ON pools (lower(slug));

CREATE TABLE operator_pool_assignments (
  operator_id TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
  pool_id TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  PRIMARY KEY (operator_id, pool_id)
);

CREATE TABLE upstream_accounts (
  id TEXT PRIMARY KEY,
  chatgpt_account_id TEXT NOT NULL,
  chatgpt_user_id TEXT,
  email TEXT,
  label TEXT,
  plan_type TEXT,
  status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'refreshing', 'reauth_required', 'paused', 'disabled')),
  onboarding_method TEXT NOT NULL DEFAULT 'import',
  secret_key_version TEXT NOT NULL,
  access_token_ciphertext TEXT NOT NULL,
  refresh_token_ciphertext TEXT NOT NULL,
  access_token_expires_at TEXT,
  last_refresh_at TEXT,
  last_refresh_error TEXT,
  created_by TEXT REFERENCES operators (id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX upstream_accounts_identity_key
  ON upstream_accounts (chatgpt_account_id, coalesce(chatgpt_user_id, ''));

CREATE TABLE pool_accounts (
  pool_id TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  account_id TEXT NOT NULL REFERENCES upstream_accounts (id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  PRIMARY KEY (pool_id, account_id)
);
CREATE INDEX pool_accounts_account_idx ON pool_accounts (account_id);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  pool_id TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  display_name TEXT NOT NULL,
  key_prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'revoked')),
  revocation_epoch INTEGER NOT NULL DEFAULT 0,
  expires_at TEXT,
  last_used_at TEXT,
  allowed_models TEXT,
  enforced_model TEXT,
  max_reasoning_effort TEXT,
  enforced_reasoning_effort TEXT,
  max_requests_per_minute INTEGER CHECK (max_requests_per_minute > 0),
  max_tokens_per_day BIGINT CHECK (max_tokens_per_day > 0),
  max_tokens_per_week BIGINT CHECK (max_tokens_per_week > 0),
  created_by TEXT REFERENCES operators (id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (key_prefix);
CREATE INDEX api_keys_pool_idx ON api_keys (pool_id, status);
