CREATE TABLE mcp_tokens (
  id TEXT PRIMARY KEY,
  operator_id TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  token_prefix TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  expires_at TEXT,
  created_at TEXT NOT NULL,
  revoked_at TEXT,
  revoked_by TEXT REFERENCES operators (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX mcp_tokens_prefix_key ON mcp_tokens (token_prefix);
CREATE INDEX mcp_tokens_operator_idx ON mcp_tokens (operator_id, created_at);

CREATE TABLE operator_mcp_access (
  operator_id TEXT PRIMARY KEY REFERENCES operators (id) ON DELETE CASCADE,
  enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
  updated_at TEXT NOT NULL
);
