#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <nlohmann/json.hpp>

#include "common/secret.hpp"
#include "domain/admin_context.hpp"

namespace cxp::domain {

/// Lifetime of an operator browser session.
constexpr std::chrono::hours operator_session_ttl{14 * 24};
/// Shortest accepted operator password, in characters.
constexpr size_t min_password_length = 12;
/// Longest accepted operator password, in bytes (bounds the Argon2 input).
constexpr size_t max_password_length = 1024;
/// Invite lifetime when the request names none, and the accepted range.
constexpr int max_invite_ttl_hours = 30 * 24;
/// Issuer shown by authenticator apps.
constexpr std::string_view totp_issuer = "Codex Pooler";

/// An operator as the admin API and the CLI show it: never the password hash or TOTP secret.
struct operator_view {
  std::string id, email, display_name, role, status;
  bool password_change_required;
  std::string totp_status;
  std::vector<std::string> pool_ids;
  std::optional<std::string> last_login_at;
  std::string created_at, updated_at;
};

nlohmann::json to_json(const operator_view&);

struct bootstrap_request {
  std::string email, password, display_name;
};

/// A logged-in browser session: raw tokens returned only at login (cookie + CSRF), stored as
/// hmac_sha256(context.token_hash_key, token).
struct session_tokens {
  secret<std::string> session_token, csrf_token;
  std::string expires_at;
};

struct login_request {
  std::string email, password;
  std::optional<std::string> totp_code, recovery_code;
  std::string client_ip, user_agent;
};

struct login_result {
  operator_view user;
  session_tokens tokens;
};

/// What the edge learns from a cookie: the principal plus the CSRF hash to check state-changing
/// requests.
struct session_info {
  principal who;
  operator_view user;
  std::string session_id;
  std::string csrf_token_hash;
};

/// A TOTP secret being enrolled; both values are shown once (as text and QR code).
struct totp_enrollment {
  secret<std::string> secret_base32, otpauth_uri;
};

struct invite_request {
  std::string email, role;
  std::vector<std::string> pool_ids;
  std::optional<int> ttl_hours;
};

/// An invite as listed; `status` is active | accepted | revoked | expired (an active invite past
/// its `expires_at`).
struct invite_view {
  std::string id, email, role, status, expires_at, created_at;
  std::vector<std::string> pool_ids;
  std::optional<std::string> accepted_at;
};

nlohmann::json to_json(const invite_view&);

struct created_invite {
  invite_view invite;
  secret<std::string> token;      ///< shown once
  secret<std::string> accept_url; ///< the link to send the invitee; holds the token
};

/// `{base}/invite#token={token}`: the token rides in the fragment, which browsers never send to
/// a server, so it stays out of access logs and referrers.
secret<std::string> invite_accept_url(std::string_view login_base_url,
                                      const secret<std::string>& token);

/// The fields an owner may change on an operator; unset fields stay as they are.
struct operator_fields {
  std::optional<std::string> display_name, role, status;
  std::optional<std::vector<std::string>> pool_ids;
};

/// True when `err` is the `unauthenticated` error that `operator_sessions::login` returns after a
/// correct password when TOTP is active and no code was given (the UI then asks for the code).
bool is_totp_required(const caf::error& err);

} // namespace cxp::domain
