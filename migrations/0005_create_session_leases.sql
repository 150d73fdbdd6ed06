CREATE TABLE session_leases (
  session_key_hash TEXT PRIMARY KEY,
  owner_node_id TEXT NOT NULL,
  lease_token TEXT NOT NULL,
  account_id TEXT,
  acquired_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX session_leases_owner_idx ON session_leases (owner_node_id, expires_at);
