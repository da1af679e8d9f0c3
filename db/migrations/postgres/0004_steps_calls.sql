-- What a step did, for the execution page and GET /executions/{id}: the node's type and its
-- agent calls ([{agent, attempt, status, latency_ms, error}], JSON text).
ALTER TABLE steps ADD COLUMN node_type TEXT;
ALTER TABLE steps ADD COLUMN calls TEXT;
