#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace cxp::test {

/// Who signs in on the fake OAuth issuer: the claims its id_token carries.
struct oauth_identity {
  std::string account_id = "acct-oauth";
  std::string user_id = "user-oauth";
  std::string email = "owner@example.com";
  std::string plan_type = "plus";
  bool omit_account_id = false; ///< an id_token without `chatgpt_account_id`
};

/// Knobs of the fake issuer (`POST /__control/oauth/config`, same key names). They stay until the
/// next reset.
struct oauth_knobs {
  oauth_identity identity; ///< who signs in at /oauth/authorize and approves a device by default
  bool authorize_entitlement_error = false; ///< authorize redirects with missing_codex_entitlement
  /// The code exchange fails: "" (succeeds), "invalid_grant" (OAuth-style 400),
  /// "token_exchange_user_error" (OpenAI-style 400), "non_json_502", "status_500", "slow".
  std::string token_failure;
  bool omit_refresh_token = false;
  bool omit_id_token = false;
  int slow_ms = 40'000; ///< how late "slow" answers
  /// The user-code request fails: "" , "disabled_404", "status_500", "malformed", "missing_fields".
  std::string usercode_failure;
  /// How `interval` is spelled: "string" ("5"), "number" (5), or "usercode_key" (a string, and
  /// the code under `usercode`).
  std::string interval_style = "string";
  int interval_s = 5;
  int device_expires_in_s = 900;
  /// What the next device's polls answer, in order, before it falls back to pending (or success
  /// once approved): "pending", "not_found", "slow_down", "expired", "denied",
  /// "authorization_pending".
  std::vector<std::string> device_script;
};

/// Reads knobs from JSON (unknown keys ignored, missing keys keep their value).
void from_json(const nlohmann::json& j, oauth_knobs& knobs);
void from_json(const nlohmann::json& j, oauth_identity& identity);

/// The fake OAuth issuer of shared/docs/codex-oauth-onboarding.md §6: authorize, the code
/// exchange, the device-code endpoints and their test controls. Every secret it mints carries
/// `secret_tag` (fresh per reset) so a test can grep logs and databases for any of them.
struct oauth_state {
  struct issued_code {
    std::string challenge;
    std::string redirect_uri;
    oauth_identity identity;
    int64_t issued_at = 0;
    bool used = false;
  };
  struct device {
    std::string device_auth_id;
    std::string user_code;
    int interval_s = 5;
    int64_t expires_at = 0;
    std::deque<std::string> script;
    std::optional<oauth_identity> approved;
    bool denied = false;
    std::vector<double> polls; ///< fake-clock seconds of every poll
    int too_fast = 0;          ///< polls sooner than the interval asked for
    std::string code;          ///< authorization code handed out on success
  };

  oauth_knobs knobs;
  std::string secret_tag;
  int64_t clock_offset_s = 0; ///< added to the wall clock (`/__control/oauth/clock`)
  int64_t sequence = 0;
  std::map<std::string, issued_code> codes;
  std::map<std::string, device> devices; ///< by device_auth_id
  std::vector<std::string> minted;       ///< every secret handed out or received
  int exchanges = 0;                     ///< authorization_code grants received

  oauth_state();
  void reset();
};

/// The answer to an OAuth request (status, headers, body; `delay_ms` before answering).
struct oauth_reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int delay_ms = 0;
};

/// Tokens minted by a successful exchange, for the fake backend to accept.
struct oauth_tokens_issued {
  oauth_identity identity;
  std::string access_token;
  std::string refresh_token;
};

/// Whether `method path` is an OAuth route of the fake (`/oauth/authorize`, `/oauth/token` with
/// an `authorization_code` grant, `/api/accounts/deviceauth/*`, `/codex/device*`,
/// `/__control/oauth/*`). A refresh grant at /oauth/token is not: the backend fake serves it.
bool is_oauth_request(const std::string& method, const std::string& path,
                      const std::string& content_type, const std::string& body);

/// Serves one OAuth request. `host` is the Host header (the device redirect is
/// `http://<host>/deviceauth/callback`); `issue` registers the tokens of a successful exchange
/// with the backend fake. Runs under the fake's lock.
oauth_reply handle_oauth(oauth_state& state, const std::string& method, const std::string& target,
                         const std::string& content_type, const std::string& body,
                         const std::string& host,
                         const std::function<void(const oauth_tokens_issued&)>& issue);

} // namespace cxp::test
