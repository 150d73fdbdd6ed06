-- The routing decision of a request (JSON text: the candidates in the order routing considered
-- them, with why each skipped one was skipped) and its client (`family/version` parsed from the
-- User-Agent, never the raw header). Both NULL on rows written before.
ALTER TABLE request_logs ADD COLUMN routing TEXT;
ALTER TABLE request_logs ADD COLUMN client TEXT;
