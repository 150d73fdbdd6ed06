#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "common/secret.hpp"
#include "domain/admin_context.hpp"
#include "domain/operators/login_throttle.hpp"
#include "persistence/operators/operator_repository.hpp"

namespace cxp::domain {

/// Lifetime of an operator browser session.
constexpr std::chrono::hours operator_session_ttl{14 * 24};
/// Shortest accepted operator password, in characters.
constexpr size_t min_password_length = 12;
/// Longest accepted operator password, in bytes (bounds the Argon2 input).
constexpr size_t max_password_length = 1024;
/// Invite lifetime when the request names none, and the accepted range.
constexpr int default_invite_ttl_hours = 72;
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
  secret<std::string> token; ///< shown once
};

/// The fields an owner may change on an operator; unset fields stay as they are.
struct operator_fields {
  std::optional<std::string> display_name, role, status;
  std::optional<std::vector<std::string>> pool_ids;
};

/// True when `err` is the `unauthenticated` error that `operator_service::login` returns after a
/// correct password when TOTP is active and no code was given (the UI then asks for the code).
bool is_totp_required(const caf::error& err);

/// Bootstrap, operator login with optional TOTP and recovery codes, browser sessions, operator
/// management and invites. A plain synchronous class: every call blocks on the database (and on
/// Argon2, ~50 ms, where passwords are hashed or verified), so the edge runs it on db workers and
/// the CLI on its main thread. Holds no state of its own besides the references it is given
/// (`context` and `throttle` must outlive it), hence safe to use from several threads at once.
///
/// Authorization: `list`, `update`, `create_operator` and every invite method except
/// `accept_invite` need an owner (`errc::forbidden` otherwise); `get` also lets an operator read
/// itself; the TOTP and password methods act on `who.operator_id` and need an operator session.
/// Every mutation writes one audit event in the same transaction; details never hold a secret.
/// Emails are trimmed and stored lower-cased; emails and display names must be valid UTF-8
/// without control characters (validation error naming the field); passwords need at least 12
/// characters (validation error on field "password").
class operator_service {
public:
  operator_service(service_context& context, login_throttle& throttle);

  /// "pending" while no operator exists, "completed" afterwards.
  caf::expected<std::string> bootstrap_status();

  /// Creates the first `instance_owner` only while no operator exists; race-safe through the
  /// `bootstrap_state` singleton, `errc::conflict` afterwards.
  caf::expected<operator_view> bootstrap(const principal& who, const bootstrap_request& request);

  /// Email+password (then TOTP code or a recovery code when TOTP is active). Throttled: when
  /// locked -> errc::rate_limited WITHOUT verifying the password (no argon2 call). Unknown email ->
  /// dummy_verify then unauthenticated (same error as a wrong password). TOTP active and no code
  /// -> errc::unauthenticated with internal context "totp_required" (see `is_totp_required`); a
  /// used TOTP step cannot be reused (totp_last_used_step). Writes audit auth.login
  /// success/failure. Session TTL 14 days.
  caf::expected<login_result> login(const login_request& request);

  /// Resolves a session cookie. Revoked/expired sessions and disabled operators ->
  /// unauthenticated. Refreshes `last_seen_at` at most once a minute. The principal has kind
  /// operator_session, the operator's id, role and assigned pools; the edge fills `client_ip`.
  caf::expected<session_info> authenticate_session(std::string_view raw_session_token);

  /// True when `raw_csrf_token` is the CSRF token issued with `session` (constant-time compare).
  /// The edge calls it for every state-changing request authenticated by cookie.
  bool verify_csrf(const session_info& session, std::string_view raw_csrf_token) const;

  /// Revokes the session (audit auth.logout).
  caf::expected<void> logout(const session_info& session);

  /// Checks `current_password` (wrong -> validation error on "current_password"), stores the new
  /// one and clears password_change_required. Needs an operator session.
  caf::expected<void> change_password(const principal& who, const std::string& current_password,
                                      const std::string& new_password);

  /// Starts TOTP enrollment: status pending, secret sealed with context.totp_keys.
  /// `errc::conflict` when TOTP is already active (disable it first).
  caf::expected<totp_enrollment> begin_totp(const principal& who);

  /// Activates pending TOTP with a current code (wrong -> validation error on "code") and returns
  /// 10 recovery codes, shown once (stored as keyed hashes of the normalized code).
  caf::expected<std::vector<secret<std::string>>> confirm_totp(const principal& who,
                                                               const std::string& code);

  /// Turns TOTP off after checking the password (wrong -> validation error on "password").
  caf::expected<void> disable_totp(const principal& who, const std::string& password);

  /// Every operator; owner only.
  caf::expected<std::vector<operator_view>> list(const principal& who);

  /// One operator; owners see everyone, others only themselves.
  caf::expected<operator_view> get(const principal& who, const std::string& id);

  /// Owner only; cannot demote/disable the last active owner -> conflict. Disabling revokes the
  /// operator's sessions. Owners carry no pool assignments (they see every pool).
  caf::expected<operator_view> update(const principal& who, const std::string& id,
                                      const operator_fields& fields);

  /// Owner only: creates an active operator with a temporary password that must be changed at
  /// the first login (password_change_required). Email taken -> conflict.
  caf::expected<operator_view> create_operator(const principal& who, const std::string& email,
                                               const std::string& display_name,
                                               const std::string& role,
                                               const std::string& temp_password,
                                               const std::vector<std::string>& pool_ids = {});

  /// Owner only; email unique among operators (conflict); role instance_owner|instance_admin;
  /// pool_ids must exist for admins; ttl_hours 1..720, default 72.
  caf::expected<created_invite> create_invite(const principal& who, const invite_request& request);

  /// Owner only, newest first.
  caf::expected<std::vector<invite_view>> list_invites(const principal& who);

  /// Owner only; a non-active invite -> conflict.
  caf::expected<invite_view> revoke_invite(const principal& who, const std::string& id);

  /// The invitee sets display name + password through the token; creates the operator (with its
  /// pool assignments) and marks the invite accepted; expired/revoked/used -> not_found (do not
  /// reveal which).
  caf::expected<operator_view> accept_invite(std::string_view raw_token,
                                             const std::string& display_name,
                                             const std::string& password);

private:
  std::string now_text() const;
  persistence::audit_event_row login_audit(const principal& who, const std::string& outcome,
                                           const std::string& email,
                                           const std::string& reason) const;
  caf::error fail_login(const principal& who, const std::string& email,
                        const std::string& client_ip, const std::string& reason);
  caf::expected<persistence::operator_row> load_self(const principal& who);
  caf::expected<std::vector<std::string>> check_pools(const std::string& role,
                                                      const std::vector<std::string>& pool_ids);

  service_context& context_;
  login_throttle& throttle_;
  persistence::operator_repository repository_;
};

} // namespace cxp::domain
