#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "common/secret.hpp"
#include "domain/admin_context.hpp"
#include "domain/onboarding/onboarding_service.hpp"

namespace cxp::domain {

/// A hosted invite as operators see it; never holds the token.
struct upstream_invite_view {
  std::string id;
  std::string pool_id;
  std::string email;
  std::string status; ///< active | accepted | revoked | expired (an active one past its time)
  std::optional<std::string> created_by;
  std::optional<std::string> account_id;
  std::string expires_at;
  std::string created_at;
  std::optional<std::string> accepted_at;
  std::optional<std::string> revoked_at;
};

nlohmann::json to_json(const upstream_invite_view& view);

/// A new invite and its link, shown once: only the token's keyed hash is stored.
struct created_upstream_invite {
  upstream_invite_view invite;
  secret<std::string> token;
  std::string path; ///< `/onboarding/invites/<token>`
};

/// What the invite page shows the invitee: the invited email, the invite's state and its newest
/// device flow (user code while pending). Never a token.
struct invite_page_state {
  upstream_invite_view invite;
  std::optional<flow_view> flow;
};

nlohmann::json to_json(const invite_page_state& state);

/// Hosted invites for upstream accounts (codex-oauth-onboarding.md §3): an owner invites an email
/// to a pool; the link (24 h, revocable, reissuable, one active per pool and email) opens a page
/// that runs the device-code flow for the invitee without any pooler login. The signed-in email
/// must match (`invite_email_mismatch`); an account already in the instance is attached, not
/// duplicated (the import path updates it in place). Operator actions are owner-only and audited
/// (`upstream_invite.create|revoke|reissue`, and `.accept` when a flow completes).
/// Synchronous and blocking: worker threads or the CLI.
class upstream_invite_service {
public:
  upstream_invite_service(service_context& context, onboarding_service& flows)
      : context_(context),
        flows_(flows) {}

  caf::expected<created_upstream_invite> create(const principal& who, const std::string& pool_id,
                                                const std::string& email);
  caf::expected<std::vector<upstream_invite_view>> list(const principal& who,
                                                        const std::optional<std::string>& pool_id);
  caf::expected<upstream_invite_view> revoke(const principal& who, const std::string& id);
  /// Revokes the invite and issues a new token for the same pool and email.
  caf::expected<created_upstream_invite> reissue(const principal& who, const std::string& id);

  /// The page's state for a raw token: `invite_invalid` (unknown), `invite_revoked`,
  /// `invite_expired`; an accepted invite answers its state (the page shows success).
  caf::expected<invite_page_state> open(const std::string& token);

  /// Starts (or, while one is pending, reuses) the invite's device flow.
  caf::expected<invite_page_state> start_device(const std::string& token);

private:
  service_context& context_;
  onboarding_service& flows_;
};

} // namespace cxp::domain
