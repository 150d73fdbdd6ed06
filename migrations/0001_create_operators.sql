CREATE TABLE operators (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  display_name TEXT NOT NULL,
  password_hash TEXT,
  role TEXT NOT NULL CHECK (role IN ('instance_owner', 'instance_admin')),
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'invited')),
  password_change_required INTEGER NOT NULL DEFAULT 0 CHECK (password_change_required IN (0, 1)),
  totp_status TEXT NOT NULL DEFAULT 'disabled' CHECK (totp_status IN ('disabled', 'pending', 'active')),
  totp_secret_ciphertext TEXT,
  totp_last_used_step BIGINT,
  last_login_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX operators_email_key ON operators (lower(email));

CREATE TABLE bootstrap_state (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  owner_operator_id TEXT NOT NULL REFERENCES operators (id),
  completed_at TEXT NOT NULL
);

CREATE TABLE operator_sessions (
  id TEXT PRIMARY KEY,
  operator_id TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL,
  csrf_token_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  client_ip TEXT,
  user_agent TEXT,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE UNIQUE INDEX operator_sessions_token_hash_key ON operator_sessions (token_hash);
CREATE INDEX operator_sessions_operator_idx ON operator_sessions (operator_id, status);

CREATE TABLE recovery_codes (
  id TEXT PRIMARY KEY,
  operator_id TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'used', 'revoked')),
  created_at TEXT NOT NULL,
  used_at TEXT
);
CREATE INDEX recovery_codes_operator_idx ON recovery_codes (operator_id, status);

CREATE TABLE invites (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL,
  email TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('instance_owner', 'instance_admin')),
  pool_ids TEXT NOT NULL DEFAULT '[]',
  status TEXT NOT NULL CHECK (status IN ('active', 'accepted', 'revoked')),
  expires_at TEXT NOT NULL,
  created_by TEXT REFERENCES operators (id) ON DELETE SET NULL,
  accepted_operator_id TEXT REFERENCES operators (id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  accepted_at TEXT,
  revoked_at TEXT
);
CREATE UNIQUE INDEX invites_token_hash_key ON invites (token_hash);
