// Shapes of the admin API's answers (docs/admin-api.md).

export type Role = 'instance_owner' | 'instance_admin';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface SessionUser {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  password_change_required: boolean;
}

export interface SessionInfo {
  status: string;
  authenticated: boolean;
  user: SessionUser;
}

export interface BootstrapStatus {
  status: string;
  bootstrap: 'pending' | 'completed';
  csrf_token: string;
}

export interface Operator {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  status: string;
  password_change_required: boolean;
  totp_status: string;
  pool_ids: string[];
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface Invite {
  id: string;
  email: string;
  role: Role;
  status: string;
  pool_ids: string[];
  expires_at: string;
  created_at: string;
  accepted_at: string | null;
}

export interface CreatedInvite extends Invite {
  token: string;
  accept_url: string;
}

export type RoutingStrategy = 'bridge_ring' | 'deterministic_rotation' | 'least_recent_success' | 'quota_first';

export interface Pool {
  id: string;
  slug: string;
  name: string;
  status: 'active' | 'disabled';
  routing_strategy: RoutingStrategy;
  ring_size: number;
  sticky_sessions: boolean;
  prompt_cache_affinity: boolean;
  v1_compatibility_enabled: boolean;
  allow_image_generation: boolean;
  created_at: string;
  updated_at: string;
  disabled_at: string | null;
}

export interface PoolModel {
  slug: string;
  status: 'active' | 'stale' | 'retired';
  account_count: number;
  first_seen_at: string;
  last_seen_at: string | null;
  stale_at: string | null;
  retired_at: string | null;
  synced_at: string | null;
}

export type AccountStatus = 'active' | 'refreshing' | 'reauth_required' | 'paused' | 'disabled';

export interface Account {
  id: string;
  chatgpt_account_id: string;
  chatgpt_user_id: string | null;
  email: string | null;
  label: string | null;
  plan_type: string | null;
  status: AccountStatus;
  onboarding_method: string;
  secret_key_version: string;
  access_token_expires_at: string | null;
  last_refresh_at: string | null;
  pool_ids: string[];
  created_at: string;
  updated_at: string;
}

export interface ImportResult {
  source: string;
  account: Account | null;
  error: { code: string; message: string } | null;
}

export interface KeyPolicy {
  allowed_models?: string[] | null;
  enforced_model?: string | null;
  max_reasoning_effort?: string | null;
  enforced_reasoning_effort?: string | null;
  max_requests_per_minute?: number | null;
  max_tokens_per_day?: number | null;
  max_tokens_per_week?: number | null;
}

export interface ApiKey {
  id: string;
  pool_id: string;
  display_name: string;
  key_prefix: string;
  status: 'active' | 'paused' | 'revoked';
  expires_at: string | null;
  policy: KeyPolicy | null;
  last_used_at?: string | null;
  created_at: string;
  updated_at: string;
}

export interface CreatedApiKey extends ApiKey {
  key: string;
}

export interface RequestAttempt {
  attempt_number: number;
  account_id: string | null;
  started_at: string;
  status_code: number | null;
  outcome: string;
  error_code: string | null;
  latency_ms: number | null;
  ttfb_ms: number | null;
}

export interface RoutingCandidate {
  account_id: string;
  label: string | null;
  outcome: 'served' | 'skipped' | 'failed';
  reason: string | null;
  attempt: number;
}

export interface RequestLog {
  id: string;
  occurred_at: string;
  pool_id: string | null;
  api_key_id: string | null;
  account_id: string | null;
  route: string;
  transport: string;
  model: string | null;
  service_tier: string | null;
  status_code: number;
  outcome: 'succeeded' | 'failed' | 'rejected' | 'cancelled';
  error_code: string | null;
  attempt_count: number;
  latency_ms: number | null;
  ttfb_ms: number | null;
  input_tokens: number | null;
  cached_input_tokens: number | null;
  output_tokens: number | null;
  reasoning_tokens: number | null;
  cost_micros: number | null;
  pricing_status: string | null;
  client_ip: string | null;
  client?: string | null;
  attempts?: RequestAttempt[];
  routing?: { candidates: RoutingCandidate[]; omitted?: number } | null;
}

export interface AuditEvent {
  id: string;
  occurred_at: string;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  pool_id: string | null;
  outcome: string;
  client_ip: string | null;
  details: Record<string, unknown>;
}

export const JOB_KINDS = [
  'token_refresh',
  'quota_reconciliation',
  'catalog_sync',
  'pricing_import',
  'usage_rollup',
  'retention',
  'runtime_cleanup',
] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export interface Job {
  id: string;
  kind: JobKind;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  pool_id: string | null;
  origin: 'schedule' | 'manual';
  attempts: number;
  max_attempts: number;
  timeout_ms: number;
  run_at: string;
  started_at: string | null;
  finished_at: string | null;
  locked_by: string | null;
  last_error: string | null;
  outcome: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
}

export interface UsageSums {
  requests: number;
  errors: number;
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cost_micros: number;
  unpriced_requests: number;
}

export interface UsageReport {
  from: string;
  to: string;
  totals: UsageSums;
  by_pool: (UsageSums & { pool_id: string })[];
  by_model: (UsageSums & { model: string })[];
  by_hour: (UsageSums & { bucket_start: string })[];
}

export type SettingType = 'integer' | 'string' | 'string_list' | 'boolean' | 'bulkhead_table' | string;

export interface Setting {
  key: string;
  type: SettingType;
  secret: boolean;
  description: string;
  source: string;
  value?: unknown;
  default?: unknown;
  min?: number;
  max?: number;
  allowed?: string[];
  configured?: boolean;
}

export interface QuotaWindow {
  account_id: string;
  limit_id: string;
  limit_name: string | null;
  window_kind: string;
  window_minutes: number;
  used_percent: number;
  reset_at: string | null;
  source: string;
  observed_at: string;
}

export type StatsSums = UsageSums & { cache_hit_share: number | null };

export interface StatsReport {
  from: string;
  to: string;
  group_by: 'pool' | 'api_key' | 'account' | 'model' | 'transport' | 'client';
  series: { key: string | null; totals: StatsSums; buckets: (StatsSums & { bucket_start: string })[] }[];
}

// Adding accounts by sign-in (docs/admin-api.md, "Adding accounts by sign-in").

export type SignInFlowStatus = 'pending' | 'exchanging' | 'completed' | 'failed' | 'expired' | 'superseded';

/// A browser (PKCE paste-back) or device-code flow. The user code is present only while the flow
/// is pending; `error` carries the public message of a failed one.
export interface SignInFlow {
  id: string;
  kind: 'browser' | 'device';
  purpose: string;
  status: SignInFlowStatus;
  pool_id: string;
  target_account_id: string | null;
  account_id: string | null;
  error: { code: string; message: string } | null;
  expires_at: string;
  created_at: string;
  user_code?: string | null;
  verification_url?: string | null;
  interval_s?: number;
  instructions?: string;
}

export interface BrowserFlowStart {
  flow: SignInFlow;
  authorize_url: string;
}

export interface DeviceFlowStart {
  flow: SignInFlow;
}

export interface UpstreamInvite {
  id: string;
  pool_id: string;
  email: string;
  status: 'active' | 'accepted' | 'revoked' | 'expired';
  created_by: string | null;
  account_id: string | null;
  expires_at: string;
  created_at: string;
  accepted_at: string | null;
  revoked_at: string | null;
}

/// A created or reissued hosted invite: `path` (`/onboarding/invites/<token>`) is in this answer
/// only.
export interface CreatedUpstreamInvite {
  invite: UpstreamInvite;
  token: string;
  path: string;
}
