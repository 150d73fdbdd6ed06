CREATE TABLE upstream_invites (
  id TEXT PRIMARY KEY,
  pool_id TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'accepted', 'revoked', 'expired')),
  created_by TEXT REFERENCES operators (id) ON DELETE SET NULL,
  account_id TEXT REFERENCES upstream_accounts (id) ON DELETE SET NULL,
  expires_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  accepted_at TEXT,
  revoked_at TEXT
);
CREATE UNIQUE INDEX upstream_invites_token_key ON upstream_invites (token_hash);
CREATE UNIQUE INDEX upstream_invites_active_key ON upstream_invites (pool_id, lower(email))
  WHERE status = 'active';

CREATE TABLE upstream_onboarding_flows (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('browser', 'device')),
  purpose TEXT NOT NULL CHECK (purpose IN ('link', 'relink', 'invite')),
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'exchanging', 'completed', 'failed', 'expired', 'superseded')),
  operator_id TEXT REFERENCES operators (id) ON DELETE CASCADE,
  pool_id TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  target_account_id TEXT REFERENCES upstream_accounts (id) ON DELETE CASCADE,
  invite_id TEXT REFERENCES upstream_invites (id) ON DELETE CASCADE,
  state_hash TEXT,
  redirect_uri TEXT NOT NULL,
  sealed_secret TEXT NOT NULL,
  poll_interval_s INTEGER NOT NULL DEFAULT 0,
  next_poll_at TEXT,
  poll_claimed_until TEXT,
  error_code TEXT,
  account_id TEXT REFERENCES upstream_accounts (id) ON DELETE SET NULL,
  expires_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX upstream_onboarding_flows_state_key ON upstream_onboarding_flows (state_hash);
CREATE INDEX upstream_onboarding_flows_poll_idx
  ON upstream_onboarding_flows (status, kind, next_poll_at);
CREATE INDEX upstream_onboarding_flows_operator_idx
  ON upstream_onboarding_flows (operator_id, status);
CREATE INDEX upstream_onboarding_flows_invite_idx ON upstream_onboarding_flows (invite_id, status);
