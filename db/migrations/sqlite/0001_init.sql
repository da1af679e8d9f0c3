-- Parallax schema 1 (SQLite): the whole domain of SPEC.md §2, §5 and §7.
--
-- Kept structurally identical to postgres/0001_init.sql: the same tables,
-- columns, constraints and index names. Only types differ (INTEGER here where
-- PostgreSQL has BIGINT, REAL for DOUBLE PRECISION; STRICT tables) and the
-- audit_log trigger syntax.
--
-- Conventions: ids are TEXT (UUIDv7); times are epoch milliseconds; booleans
-- are INTEGER 0/1 with a CHECK; JSON documents are TEXT, kept byte-exact.
-- Tenant-owned rows carry tenant_id, and children reference their parent
-- through (tenant_id, parent_id) so a row can never point into another tenant.
-- Deleting a tenant cascades to everything it owns except audit_log, which
-- has no foreign key and outlives it.

CREATE TABLE tenants (
	id TEXT NOT NULL PRIMARY KEY,
	slug TEXT NOT NULL,
	name TEXT NOT NULL,
	plan TEXT NOT NULL DEFAULT 'free',
	status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	CONSTRAINT tenants_slug_key UNIQUE (slug)
) STRICT;

CREATE TABLE tenant_quotas (
	tenant_id TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
	members INTEGER NOT NULL CHECK (members >= 0),
	workspaces INTEGER NOT NULL CHECK (workspaces >= 0),
	agents INTEGER NOT NULL CHECK (agents >= 0),
	patterns INTEGER NOT NULL CHECK (patterns >= 0),
	executions_per_day INTEGER NOT NULL CHECK (executions_per_day >= 0),
	concurrent_executions INTEGER NOT NULL CHECK (concurrent_executions >= 0),
	tokens_per_month INTEGER NOT NULL CHECK (tokens_per_month >= 0),
	requests_per_minute INTEGER NOT NULL CHECK (requests_per_minute >= 0),
	updated_at INTEGER NOT NULL
) STRICT;

-- Atomic quota counters: UPSERT value = value + n. period is '2025-01-31'
-- (daily), '2025-01' (monthly), '2025-01-31T10:42' (per minute) or '' (gauge).
CREATE TABLE tenant_usage (
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	metric TEXT NOT NULL,
	period TEXT NOT NULL,
	value INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, metric, period)
) STRICT;

-- Users are global (one person, many tenants); email is stored lower-cased.
CREATE TABLE users (
	id TEXT NOT NULL PRIMARY KEY,
	email TEXT NOT NULL,
	name TEXT NOT NULL,
	password_hash TEXT,
	status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
	email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	password_changed_at INTEGER,
	last_login_at INTEGER,
	CONSTRAINT users_email_key UNIQUE (email)
) STRICT;

CREATE TABLE user_identities (
	id TEXT NOT NULL PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	issuer TEXT NOT NULL,
	subject TEXT NOT NULL,
	email TEXT,
	email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
	created_at INTEGER NOT NULL,
	last_login_at INTEGER,
	CONSTRAINT user_identities_issuer_subject_key UNIQUE (issuer, subject)
) STRICT;
CREATE INDEX user_identities_user_idx ON user_identities (user_id);

CREATE TABLE memberships (
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'operator', 'viewer')),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, user_id)
) STRICT;
CREATE INDEX memberships_user_idx ON memberships (user_id);
CREATE INDEX memberships_role_idx ON memberships (role, tenant_id);

CREATE TABLE workspaces (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	slug TEXT NOT NULL,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	CONSTRAINT workspaces_tenant_slug_key UNIQUE (tenant_id, slug),
	CONSTRAINT workspaces_tenant_id_key UNIQUE (tenant_id, id)
) STRICT;
CREATE UNIQUE INDEX workspaces_default_idx ON workspaces (tenant_id) WHERE is_default = 1;

-- role NULL: the member's tenant role applies in this workspace.
CREATE TABLE workspace_members (
	tenant_id TEXT NOT NULL,
	workspace_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	role TEXT CHECK (role IN ('owner', 'admin', 'developer', 'operator', 'viewer')),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (workspace_id, user_id),
	CONSTRAINT workspace_members_workspace_fkey FOREIGN KEY (tenant_id, workspace_id)
		REFERENCES workspaces (tenant_id, id) ON DELETE CASCADE,
	CONSTRAINT workspace_members_membership_fkey FOREIGN KEY (tenant_id, user_id)
		REFERENCES memberships (tenant_id, user_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX workspace_members_user_idx ON workspace_members (tenant_id, user_id);

CREATE TABLE invitations (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	workspace_id TEXT,
	email TEXT NOT NULL,
	role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'operator', 'viewer')),
	token_hash TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	accepted_at INTEGER,
	accepted_by TEXT REFERENCES users (id) ON DELETE SET NULL,
	revoked_at INTEGER,
	created_by TEXT,
	created_at INTEGER NOT NULL,
	CONSTRAINT invitations_token_hash_key UNIQUE (token_hash),
	CONSTRAINT invitations_workspace_fkey FOREIGN KEY (tenant_id, workspace_id)
		REFERENCES workspaces (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX invitations_tenant_idx ON invitations (tenant_id, created_at DESC);
CREATE INDEX invitations_email_idx ON invitations (tenant_id, email);

-- Refresh tokens (stored hashed). Rotation links parent_id within a
-- family_id; reuse of a rotated token revokes the whole family.
CREATE TABLE sessions (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	family_id TEXT NOT NULL,
	token_hash TEXT NOT NULL,
	parent_id TEXT,
	status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'rotated', 'revoked')),
	kind TEXT NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'browser')),
	csrf_hash TEXT,
	ip TEXT,
	user_agent TEXT,
	created_at INTEGER NOT NULL,
	last_used_at INTEGER,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER,
	revoke_reason TEXT,
	CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
) STRICT;
CREATE INDEX sessions_family_idx ON sessions (family_id);
CREATE INDEX sessions_user_idx ON sessions (user_id, status, created_at DESC);
CREATE INDEX sessions_tenant_idx ON sessions (tenant_id, user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE api_keys (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	workspace_id TEXT NOT NULL,
	name TEXT NOT NULL,
	prefix TEXT NOT NULL,
	key_hash TEXT NOT NULL,
	role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'operator', 'viewer')),
	created_by TEXT,
	expires_at INTEGER,
	last_used_at INTEGER,
	revoked_at INTEGER,
	created_at INTEGER NOT NULL,
	CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
	CONSTRAINT api_keys_workspace_fkey FOREIGN KEY (tenant_id, workspace_id)
		REFERENCES workspaces (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, workspace_id, created_at DESC);
CREATE INDEX api_keys_prefix_idx ON api_keys (prefix);

-- Login back-off and lock-out, keyed by "acct:<email>" or "ip:<addr>".
CREATE TABLE auth_throttle (
	key TEXT NOT NULL PRIMARY KEY,
	failures INTEGER NOT NULL DEFAULT 0,
	window_start INTEGER NOT NULL,
	locked_until INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX auth_throttle_updated_idx ON auth_throttle (updated_at);

-- allowed_domains is a JSON array, group_map a JSON object {group: role}.
CREATE TABLE sso_configs (
	tenant_id TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
	issuer TEXT NOT NULL,
	client_id TEXT NOT NULL,
	client_secret_enc TEXT,
	allowed_domains TEXT NOT NULL DEFAULT '[]',
	default_role TEXT NOT NULL DEFAULT 'viewer'
		CHECK (default_role IN ('owner', 'admin', 'developer', 'operator', 'viewer')),
	group_claim TEXT,
	group_map TEXT NOT NULL DEFAULT '{}',
	jit_provisioning INTEGER NOT NULL DEFAULT 0 CHECK (jit_provisioning IN (0, 1)),
	sso_required INTEGER NOT NULL DEFAULT 0 CHECK (sso_required IN (0, 1)),
	break_glass_user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
	enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE oidc_states (
	state TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	nonce TEXT NOT NULL,
	code_verifier TEXT NOT NULL,
	browser_binding_hash TEXT NOT NULL,
	next TEXT,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at INTEGER
) STRICT;
CREATE INDEX oidc_states_expires_idx ON oidc_states (expires_at);

-- config and capabilities are JSON; secrets_enc is the sealed secret part of
-- the config. max_concurrency 0 means no cap.
CREATE TABLE agents (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	workspace_id TEXT NOT NULL,
	name TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('http', 'openai', 'ws', 'builtin')),
	config TEXT NOT NULL DEFAULT '{}',
	secrets_enc TEXT,
	capabilities TEXT NOT NULL DEFAULT '[]',
	expertise REAL NOT NULL DEFAULT 0.5 CHECK (expertise >= 0 AND expertise <= 1),
	timeout_ms INTEGER NOT NULL DEFAULT 30000 CHECK (timeout_ms > 0),
	max_concurrency INTEGER NOT NULL DEFAULT 0 CHECK (max_concurrency >= 0),
	status TEXT NOT NULL DEFAULT 'unknown'
		CHECK (status IN ('unknown', 'healthy', 'unhealthy', 'disabled')),
	last_seen_at INTEGER,
	last_error TEXT,
	circuit_state TEXT NOT NULL DEFAULT 'closed'
		CHECK (circuit_state IN ('closed', 'open', 'half_open')),
	circuit_failures INTEGER NOT NULL DEFAULT 0,
	circuit_successes INTEGER NOT NULL DEFAULT 0,
	circuit_opened_at INTEGER,
	connect_token_hash TEXT,
	created_by TEXT,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	CONSTRAINT agents_workspace_name_key UNIQUE (workspace_id, name),
	CONSTRAINT agents_tenant_id_key UNIQUE (tenant_id, id),
	CONSTRAINT agents_connect_token_hash_key UNIQUE (connect_token_hash),
	CONSTRAINT agents_workspace_fkey FOREIGN KEY (tenant_id, workspace_id)
		REFERENCES workspaces (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX agents_list_idx ON agents (tenant_id, workspace_id, name);

-- tags is a JSON array. Versions are immutable; latest_version counts them.
CREATE TABLE patterns (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	workspace_id TEXT NOT NULL,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	tags TEXT NOT NULL DEFAULT '[]',
	latest_version INTEGER NOT NULL DEFAULT 0 CHECK (latest_version >= 0),
	published_version INTEGER,
	cloned_from TEXT,
	created_by TEXT,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	CONSTRAINT patterns_workspace_name_key UNIQUE (workspace_id, name),
	CONSTRAINT patterns_tenant_id_key UNIQUE (tenant_id, id),
	CONSTRAINT patterns_workspace_fkey FOREIGN KEY (tenant_id, workspace_id)
		REFERENCES workspaces (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX patterns_list_idx ON patterns (tenant_id, workspace_id, updated_at DESC, id DESC);

CREATE TABLE pattern_versions (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	pattern_id TEXT NOT NULL,
	version INTEGER NOT NULL CHECK (version >= 1),
	definition TEXT NOT NULL,
	message TEXT NOT NULL DEFAULT '',
	created_by TEXT,
	created_at INTEGER NOT NULL,
	CONSTRAINT pattern_versions_pattern_version_key UNIQUE (pattern_id, version),
	CONSTRAINT pattern_versions_pattern_fkey FOREIGN KEY (tenant_id, pattern_id)
		REFERENCES patterns (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- variants: JSON [{name, version}]; dataset: JSON array of inputs; report:
-- the final per-variant figures once finished.
CREATE TABLE experiments (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	workspace_id TEXT NOT NULL,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT 'draft'
		CHECK (status IN ('draft', 'running', 'completed', 'failed', 'cancelled')),
	pattern_id TEXT NOT NULL,
	variants TEXT NOT NULL DEFAULT '[]',
	dataset TEXT NOT NULL DEFAULT '[]',
	report TEXT,
	created_by TEXT,
	created_at INTEGER NOT NULL,
	started_at INTEGER,
	finished_at INTEGER,
	CONSTRAINT experiments_tenant_id_key UNIQUE (tenant_id, id),
	CONSTRAINT experiments_workspace_fkey FOREIGN KEY (tenant_id, workspace_id)
		REFERENCES workspaces (tenant_id, id) ON DELETE CASCADE,
	CONSTRAINT experiments_pattern_fkey FOREIGN KEY (tenant_id, pattern_id)
		REFERENCES patterns (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX experiments_list_idx ON experiments (tenant_id, workspace_id, created_at DESC, id DESC);

-- One run of a pattern version. checkpoint is the engine's resumable state;
-- request_hash tells a replayed idempotency key from a different request.
CREATE TABLE executions (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	workspace_id TEXT NOT NULL,
	pattern_id TEXT NOT NULL,
	pattern_version INTEGER NOT NULL,
	status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running',
		'waiting_approval', 'succeeded', 'failed', 'cancelled', 'timed_out')),
	input TEXT NOT NULL DEFAULT '{}',
	result TEXT,
	confidence REAL,
	error TEXT,
	actor_type TEXT NOT NULL,
	actor_id TEXT,
	idempotency_key TEXT,
	request_hash TEXT,
	priority INTEGER NOT NULL DEFAULT 0,
	attempts INTEGER NOT NULL DEFAULT 0,
	max_attempts INTEGER NOT NULL DEFAULT 3,
	timeout_ms INTEGER,
	deadline_at INTEGER,
	webhook_url TEXT,
	parent_execution_id TEXT REFERENCES executions (id) ON DELETE SET NULL,
	experiment_id TEXT REFERENCES experiments (id) ON DELETE SET NULL,
	checkpoint TEXT,
	tokens_in INTEGER NOT NULL DEFAULT 0,
	tokens_out INTEGER NOT NULL DEFAULT 0,
	cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
	created_at INTEGER NOT NULL,
	queued_at INTEGER,
	started_at INTEGER,
	finished_at INTEGER,
	CONSTRAINT executions_tenant_id_key UNIQUE (tenant_id, id),
	CONSTRAINT executions_workspace_fkey FOREIGN KEY (tenant_id, workspace_id)
		REFERENCES workspaces (tenant_id, id) ON DELETE CASCADE,
	CONSTRAINT executions_pattern_fkey FOREIGN KEY (tenant_id, pattern_id)
		REFERENCES patterns (tenant_id, id) ON DELETE CASCADE,
	CONSTRAINT executions_version_fkey FOREIGN KEY (pattern_id, pattern_version)
		REFERENCES pattern_versions (pattern_id, version) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX executions_idempotency_idx ON executions (tenant_id, workspace_id, idempotency_key)
	WHERE idempotency_key IS NOT NULL;
CREATE INDEX executions_list_idx ON executions (tenant_id, workspace_id, created_at DESC, id DESC);
CREATE INDEX executions_status_idx ON executions (tenant_id, workspace_id, status, created_at DESC);
CREATE INDEX executions_pattern_idx ON executions (tenant_id, pattern_id, created_at DESC);
CREATE INDEX executions_tenant_created_idx ON executions (tenant_id, created_at);
CREATE INDEX executions_active_idx ON executions (tenant_id, status)
	WHERE status IN ('queued', 'running', 'waiting_approval');
CREATE INDEX executions_parent_idx ON executions (parent_execution_id)
	WHERE parent_execution_id IS NOT NULL;
CREATE INDEX executions_experiment_idx ON executions (experiment_id)
	WHERE experiment_id IS NOT NULL;

CREATE TABLE experiment_runs (
	tenant_id TEXT NOT NULL,
	experiment_id TEXT NOT NULL,
	variant TEXT NOT NULL,
	item_index INTEGER NOT NULL CHECK (item_index >= 0),
	execution_id TEXT REFERENCES executions (id) ON DELETE SET NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (experiment_id, variant, item_index),
	CONSTRAINT experiment_runs_experiment_fkey FOREIGN KEY (tenant_id, experiment_id)
		REFERENCES experiments (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX experiment_runs_execution_idx ON experiment_runs (execution_id)
	WHERE execution_id IS NOT NULL;

-- One node attempt, or one agent call within it (agent_id '' for the node
-- itself: NULL would defeat the unique key).
CREATE TABLE steps (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	execution_id TEXT NOT NULL,
	node_id TEXT NOT NULL,
	attempt INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),
	agent_id TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'waiting',
		'succeeded', 'failed', 'skipped', 'cancelled', 'timed_out')),
	input TEXT,
	output TEXT,
	confidence REAL,
	reasoning TEXT,
	error TEXT,
	tokens_in INTEGER NOT NULL DEFAULT 0,
	tokens_out INTEGER NOT NULL DEFAULT 0,
	started_at INTEGER,
	finished_at INTEGER,
	CONSTRAINT steps_execution_node_key UNIQUE (execution_id, node_id, attempt, agent_id),
	CONSTRAINT steps_execution_fkey FOREIGN KEY (tenant_id, execution_id)
		REFERENCES executions (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX steps_execution_idx ON steps (execution_id, started_at);
CREATE INDEX steps_agent_idx ON steps (tenant_id, agent_id, started_at DESC) WHERE agent_id <> '';

-- The replayable event stream of an execution (SSE ids are seq).
CREATE TABLE events (
	tenant_id TEXT NOT NULL,
	execution_id TEXT NOT NULL,
	seq INTEGER NOT NULL CHECK (seq >= 1),
	type TEXT NOT NULL,
	data TEXT NOT NULL DEFAULT '{}',
	created_at INTEGER NOT NULL,
	PRIMARY KEY (execution_id, seq),
	CONSTRAINT events_execution_fkey FOREIGN KEY (tenant_id, execution_id)
		REFERENCES executions (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- The durable queue (executions, webhook deliveries, schedules, experiment
-- items). fence grows with every claim, so a worker whose lease expired can
-- no longer write. dedupe_key makes "enqueue once" idempotent.
CREATE TABLE jobs (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	ref TEXT,
	payload TEXT,
	dedupe_key TEXT,
	run_at INTEGER NOT NULL,
	priority INTEGER NOT NULL DEFAULT 0,
	attempts INTEGER NOT NULL DEFAULT 0,
	max_attempts INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
	status TEXT NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'running', 'done', 'failed', 'dead')),
	lease_owner TEXT,
	lease_expires_at INTEGER,
	fence INTEGER NOT NULL DEFAULT 0,
	last_error TEXT,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX jobs_claim_idx ON jobs (status, priority DESC, run_at);
CREATE INDEX jobs_lease_idx ON jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_ref_idx ON jobs (kind, ref);
CREATE INDEX jobs_tenant_idx ON jobs (tenant_id) WHERE tenant_id IS NOT NULL;
CREATE UNIQUE INDEX jobs_dedupe_idx ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL;

-- Inbound webhooks that start a pattern; secret_enc signs the requests.
CREATE TABLE triggers (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	workspace_id TEXT NOT NULL,
	pattern_id TEXT NOT NULL,
	name TEXT NOT NULL,
	secret_enc TEXT,
	enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	last_fired_at INTEGER,
	created_by TEXT,
	created_at INTEGER NOT NULL,
	CONSTRAINT triggers_workspace_name_key UNIQUE (workspace_id, name),
	CONSTRAINT triggers_workspace_fkey FOREIGN KEY (tenant_id, workspace_id)
		REFERENCES workspaces (tenant_id, id) ON DELETE CASCADE,
	CONSTRAINT triggers_pattern_fkey FOREIGN KEY (tenant_id, pattern_id)
		REFERENCES patterns (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX triggers_list_idx ON triggers (tenant_id, workspace_id, name);

CREATE TABLE schedules (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	workspace_id TEXT NOT NULL,
	pattern_id TEXT NOT NULL,
	name TEXT NOT NULL,
	cron TEXT NOT NULL,
	input TEXT NOT NULL DEFAULT '{}',
	timezone TEXT NOT NULL DEFAULT 'UTC',
	enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	next_run_at INTEGER,
	last_run_at INTEGER,
	created_by TEXT,
	created_at INTEGER NOT NULL,
	CONSTRAINT schedules_workspace_name_key UNIQUE (workspace_id, name),
	CONSTRAINT schedules_workspace_fkey FOREIGN KEY (tenant_id, workspace_id)
		REFERENCES workspaces (tenant_id, id) ON DELETE CASCADE,
	CONSTRAINT schedules_pattern_fkey FOREIGN KEY (tenant_id, pattern_id)
		REFERENCES patterns (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX schedules_due_idx ON schedules (next_run_at) WHERE enabled = 1;
CREATE INDEX schedules_list_idx ON schedules (tenant_id, workspace_id, name);

-- Append-only (triggers below). tenant_id is NULL for installation events and
-- deliberately has no foreign key: the trail outlives a deleted tenant.
CREATE TABLE audit_log (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT,
	created_at INTEGER NOT NULL,
	actor_type TEXT NOT NULL,
	actor_id TEXT,
	actor_label TEXT,
	action TEXT NOT NULL,
	resource_type TEXT,
	resource_id TEXT,
	ip TEXT,
	outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
	request_id TEXT,
	details TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, created_at DESC, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (tenant_id, action, created_at DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (tenant_id, actor_id, created_at DESC);
CREATE INDEX audit_log_resource_idx ON audit_log (tenant_id, resource_type, resource_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Installation-level state (e.g. the one-time set-up token's hash).
CREATE TABLE settings (
	key TEXT NOT NULL PRIMARY KEY,
	value TEXT NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
