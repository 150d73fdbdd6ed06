#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <caf/error.hpp>

namespace cxp {

/// The one list of stable error codes. Each enumerator is spelled like its wire code; the edge's
/// error table maps every code to an HTTP status, a public message and an OpenAI error `type`.
enum class errc : uint8_t {
  internal_error = 1,
  invalid_request,
  validation_failed,
  unauthenticated,
  forbidden,
  not_found,
  method_not_allowed,
  conflict,
  rate_limited,
  payload_too_large,
  unsupported_media_type,
  csrf_token_invalid,
  database_unavailable,
  service_unavailable,
  timeout,
  config_invalid,
  migration_failed,
  decryption_failed,
  api_key_missing,
  api_key_invalid,
  api_key_inactive,
  model_not_allowed,
  totp_required,
  password_change_required,
  usage_limit_reached,
  no_eligible_account,
  pinned_continuation_unavailable,
  reauth_required,
  pool_unavailable,
  upstream_request_failed,
  stream_idle_timeout,
  invalid_model,
  reasoning_effort_not_allowed,
  v1_compatibility_disabled,
  unsupported_endpoint,
  unsupported_parameter,
  image_generation_disabled,
  cluster_protocol_mismatch,
  owner_unavailable,
  api_key_policy_limit_exceeded,
  server_is_overloaded,
  request_headers_too_large,
  client_address_not_allowed,
  unsupported_content_encoding,
  mcp_token_required,
  mcp_token_invalid,
  mcp_service_disabled,
  mcp_account_disabled,
  mcp_operator_disabled,
  mcp_operator_password_change_required,
  origin_not_allowed,
  not_acceptable,
  // Upstream account onboarding (browser sign-in, device code, invites, relink).
  invalid_callback_url,
  invalid_callback_origin,
  duplicate_callback_param,
  missing_state,
  provider_denied,
  missing_callback_result,
  invalid_state,
  expired_flow,
  flow_not_pending,
  stale_flow,
  token_exchange_failed,
  identity_mismatch,
  unauthorized_pool,
  codex_auth_unavailable,
  codex_auth_transient,
  codex_device_code_expired,
  codex_device_code_denied,
  codex_device_code_timeout,
  codex_account_identity_missing,
  invite_email_mismatch,
  invite_invalid,
  invite_expired,
  invite_revoked,
};

/// The first and last enumerators, for tests that walk every code.
constexpr auto errc_first = errc::internal_error;
constexpr auto errc_last = errc::invite_revoked;

/// The wire spelling of a code, e.g. "validation_failed".
std::string_view to_string(errc code);

/// The CAF category atom under which our codes travel inside `caf::error`.
constexpr caf::atom_value errc_category = caf::atom("cxp");

/// Builds a `caf::error` carrying `code` and an internal context message (logged, never rendered).
caf::error make_error(errc code, std::string context = {});

/// The `errc` inside `err`, or `errc::internal_error` when `err` is from another category.
errc to_errc(const caf::error& err);

/// A `validation_failed` error carrying vetted per-field messages (field -> message), which the
/// edge renders as a 422 with `fields`; the messages must never echo a secret.
caf::error make_validation_error(std::map<std::string, std::string> fields);

/// The field messages of an error built by `make_validation_error`, or empty.
std::map<std::string, std::string> field_errors_of(const caf::error& err);

/// The internal context string of an error built by `make_error`, or the CAF rendering otherwise.
std::string context_of(const caf::error& err);

} // namespace cxp
