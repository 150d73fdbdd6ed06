#pragma once

#include <optional>
#include <string>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "domain/admin_context.hpp"
#include "domain/onboarding/oauth_transport.hpp"

namespace cxp::persistence {
struct onboarding_flow_row;
} // namespace cxp::persistence

namespace cxp::domain {

/// Where the flows sign in: the issuer base URL (CODEX_POOLER_OAUTH_ISSUER_URL).
struct onboarding_options {
  std::string issuer = "https://auth.openai.com";
};

/// A flow as the operator (or invitee) sees it. The user code appears only while the flow is
/// pending; nothing else secret ever does.
struct flow_view {
  std::string id;
  std::string kind;
  std::string purpose;
  std::string status;
  std::string pool_id;
  std::optional<std::string> target_account_id;
  std::optional<std::string> account_id;
  std::optional<std::string> error_code;
  std::string expires_at;
  std::string created_at;
  std::optional<std::string> user_code;        ///< device, pending
  std::optional<std::string> verification_url; ///< device
  int64_t interval_s = 0;                      ///< device
};

/// `{"id", "kind", …}`; a device flow adds `user_code`, `verification_url`, `interval_s` and the
/// instructions; a failed flow adds the error's public message.
nlohmann::json to_json(const flow_view& view);

/// What starting a browser flow answers: the URL to open (shown once: it holds the state).
struct browser_start {
  flow_view flow;
  std::string authorize_url;
};

struct flow_start_request {
  std::string pool_id;
  std::optional<std::string> account_id; ///< relink this account instead of adding one
};

/// The browser (PKCE paste-back) and device-code flows that add or relink an upstream account
/// (shared/docs/codex-oauth-onboarding.md). Flows are single use, bound to the starting operator
/// and pool, expire (browser 10 min, device at the issuer's expiry or 15 min), and only the newest
/// pending flow per operator stays usable. The state is stored as a keyed hash, the verifier and
/// the device code sealed under the upstream keyring (AAD: onboarding, flow id, "flow_secret").
/// A signed-in account goes through `account_service::import_auth_json`, so routing, custody and
/// audit behave as for imports. Every start, completion and failure writes an
/// `upstream_onboarding.*` audit event. Starting is owner-only, like importing.
///
/// Synchronous and blocking (database and issuer calls): run on a worker thread or the CLI.
class onboarding_service {
public:
  onboarding_service(service_context& context, const onboarding_options& options,
                     oauth::transport& transport)
      : context_(context),
        options_(options),
        transport_(transport) {}

  caf::expected<browser_start> start_browser(const principal& who,
                                             const flow_start_request& request);

  /// Validates the pasted callback URL, consumes the flow (exactly once), exchanges the code and
  /// adds or relinks the account. Errors: the callback parser's codes, `invalid_state` (unknown,
  /// or another operator's), `expired_flow`, `flow_not_pending`, `stale_flow`, `provider_denied`,
  /// `token_exchange_failed`, `codex_account_identity_missing`, `identity_mismatch`,
  /// `unauthorized_pool`.
  caf::expected<flow_view> complete_browser(const principal& who, const std::string& pasted);

  /// Requests a user code and stores the pending flow; polling happens in the background
  /// (`poll_due`). Errors: `codex_auth_unavailable` (device login disabled),
  /// `codex_auth_transient`.
  caf::expected<flow_view> start_device(const principal& who, const flow_start_request& request);

  /// One flow, for the operator who started it (or an owner).
  caf::expected<flow_view> get(const principal& who, const std::string& id);

  /// Polls every due device flow once (claimed in the database, so one node polls each); returns
  /// how many were polled.
  size_t poll_due(int limit = 16);

  /// Polls one flow now, when it is due (the CLI waits with this). Nothing when it is not.
  void poll_now(const std::string& id);

  // For the invite service.
  caf::expected<flow_view> start_device_for_invite(const std::string& invite_id,
                                                   const std::string& pool_id);
  flow_view view_of(const persistence::onboarding_flow_row& row);

private:
  caf::expected<flow_view> start_device_row(const principal& who,
                                            persistence::onboarding_flow_row row);
  void poll_one(const persistence::onboarding_flow_row& row);
  caf::expected<flow_view> exchange_and_import(const persistence::onboarding_flow_row& row,
                                               const std::string& code,
                                               const std::string& verifier);
  caf::error fail_flow(const persistence::onboarding_flow_row& row, const std::string& from,
                       const caf::error& why);

  service_context& context_;
  const onboarding_options& options_;
  oauth::transport& transport_;
};

} // namespace cxp::domain
