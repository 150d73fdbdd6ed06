-- The model catalog each upstream account reported (GET /backend-api/codex/models). A pool's
-- catalog is the union over its accounts; `document` is the upstream model entry as JSON text.
CREATE TABLE account_models (
  account_id TEXT NOT NULL REFERENCES upstream_accounts (id) ON DELETE CASCADE,
  slug TEXT NOT NULL,
  document TEXT NOT NULL,
  synced_at TEXT NOT NULL,
  PRIMARY KEY (account_id, slug)
);
CREATE INDEX account_models_slug_idx ON account_models (slug);
