#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/secret.hpp"

/// The wire side of ChatGPT's OAuth sign-in as the Codex CLI speaks it
/// (shared/docs/codex-oauth-onboarding.md §0-2): PKCE, the authorize URL, the token and device
/// endpoints' bodies and answers. Pure functions; any thread.
namespace cxp::domain::oauth {

/// The public Codex CLI client (no secret).
constexpr std::string_view client_id = "app_EMoamEEZ73f0CkXaXp7hrann";
/// Hydra exact-matches registered redirects, so the browser flow must use the CLI's loopback
/// callback and the operator pastes the URL the browser lands on.
constexpr std::string_view browser_redirect_uri = "http://localhost:1455/auth/callback";
constexpr std::string_view scope =
  "openid profile email offline_access api.connectors.read api.connectors.invoke";
/// Allow-listed for this client; a custom value fails at consent.
constexpr std::string_view originator = "codex_cli_rs";

/// How long a browser flow may wait for its paste-back; a device flow's own deadline is below.
constexpr auto flow_lifetime = std::chrono::minutes{10};
/// How long a device code is polled at most (the CLI's "expires in 15 minutes").
constexpr auto device_deadline = std::chrono::minutes{15};
/// The poll interval when the issuer names none, and the step added by each slow_down.
constexpr auto default_poll_interval = std::chrono::seconds{5};
constexpr auto slow_down_step = std::chrono::seconds{5};
constexpr auto max_poll_interval = std::chrono::seconds{60};
/// Error bodies above this are dropped whole, so a truncated echoed secret cannot leak.
constexpr size_t max_error_body_bytes = 4096;

/// A fresh PKCE pair and state: verifier 64 random bytes and state 32, both base64url.
struct pkce_pair {
  secret<std::string> verifier;
  std::string challenge; ///< base64url(SHA-256(verifier)), method S256
  secret<std::string> state;
};
pkce_pair make_pkce();

/// base64url-nopad(SHA-256(`verifier`)).
std::string challenge_of(std::string_view verifier);

/// `{issuer}/oauth/authorize?…` in the CLI's parameter order, plus `prompt=login` so one browser
/// can add several accounts.
std::string authorize_url(std::string_view issuer, std::string_view challenge,
                          std::string_view state);

/// The form body of an authorization_code grant.
std::string code_exchange_body(std::string_view code, std::string_view redirect_uri,
                               std::string_view verifier);

/// What a successful code exchange yields, claims read from the (unverified) id_token.
struct signed_in_account {
  secret<std::string> access_token;
  secret<std::string> refresh_token;
  secret<std::string> id_token;
  std::string chatgpt_account_id; ///< empty when the claims have none
  std::optional<std::string> chatgpt_user_id;
  std::optional<std::string> email;
  std::optional<std::string> plan_type;
};

/// Parses a 200 from the token endpoint. Missing id/access/refresh token or a non-JWT id_token ->
/// `errc::token_exchange_failed`.
caf::expected<signed_in_account> parse_token_answer(std::string_view body);

/// The `error` code of an issuer error answer: `error` when a string, else `error.code`, else top
/// level `code`; empty when the body is not JSON or too large.
std::string error_code_of(std::string_view body);

/// A Codex auth.json holding `account`'s tokens, for the account import path.
std::string to_auth_json(const signed_in_account& account, time_point now);

/// `POST {issuer}/api/accounts/deviceauth/usercode` answer.
struct device_code {
  secret<std::string> device_auth_id;
  secret<std::string> user_code;
  std::chrono::seconds interval{default_poll_interval};
  std::optional<time_point> expires_at;
};

/// Parses a 200 from the user-code endpoint (`interval` string or number, `user_code` or
/// `usercode`). Missing fields -> `errc::codex_auth_transient`.
caf::expected<device_code> parse_device_code(std::string_view body);

/// The JSON body of a user-code request and of a poll.
std::string usercode_body();
std::string device_poll_body(std::string_view device_auth_id, std::string_view user_code);

/// What one poll answered.
enum class poll_outcome { pending, slow_down, approved, expired, denied, failed };

struct poll_result {
  poll_outcome outcome = poll_outcome::failed;
  secret<std::string> authorization_code; ///< approved only
  secret<std::string> code_verifier;      ///< approved only
};

/// Classifies a poll answer: 403/404 and (authorization|deviceauth_authorization)_pending keep
/// polling; slow_down; expired_token/deviceauth_expired; access_denied; a 200 with code and
/// verifier is approval; anything else fails.
poll_result classify_poll(unsigned status, std::string_view body);

/// `{issuer}/deviceauth/callback`, the redirect of the device flow's code exchange.
std::string device_redirect_uri(std::string_view issuer);

/// The device verification page shown next to the code.
std::string verification_url(std::string_view issuer);

} // namespace cxp::domain::oauth
