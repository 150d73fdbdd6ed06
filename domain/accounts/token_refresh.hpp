#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/secret.hpp"

namespace cxp::domain {

/// The OAuth client id the Codex CLI refreshes with; refresh tokens are bound to it.
constexpr std::string_view codex_oauth_client_id = "app_EMoamEEZ73f0CkXaXp7hrann";

/// The JSON body of a refresh request (codex-protocol §7.3).
std::string make_refresh_body(const secret<std::string>& refresh_token);

/// The outcome of one `POST /oauth/token` refresh.
struct refresh_outcome {
  enum class kind { refreshed, revoked, transient };
  kind outcome = kind::transient;
  secret<std::string> access_token;
  /// The rotated refresh token; nullopt when the server kept the old one.
  std::optional<secret<std::string>> refresh_token;
  std::optional<time_point> access_token_expires_at;
  /// A bounded code for logs and the account row: e.g. refresh_token_reused, invalid_grant,
  /// http_503, invalid_response. Never token text.
  std::string error_code;
};

/// Classifies a refresh answer (codex-protocol §7.4, notes §4.3): 200 with an access token is
/// `refreshed` (expiry from `expires_in`, else the new token's JWT `exp`); 400/401/403 with a
/// refresh-token error (`invalid_grant`, `refresh_token_reused`, `refresh_token_expired`,
/// `refresh_token_invalidated`, `invalid_refresh_token`, `revoked`, `token_expired`) or any 401
/// is `revoked` (the account needs a new sign-in); everything else, 5xx included, is `transient`.
refresh_outcome classify_refresh_response(unsigned status, std::string_view body, time_point now);

/// The `exp` claim of a JWT access token, when it has one.
std::optional<time_point> jwt_expiry(std::string_view token);

} // namespace cxp::domain
