#pragma once

#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "domain/admin_context.hpp"
#include "domain/operators/login_throttle.hpp"
#include "domain/operators/operator_model.hpp"
#include "persistence/operators/operator_repository.hpp"

namespace cxp::domain {

/// Operator login (password, then a TOTP or recovery code when TOTP is active) and the browser
/// sessions it opens: what every admin request resolves its cookie and CSRF token with. A plain
/// synchronous class: every call blocks on the database (and on Argon2, ~50 ms, where a password
/// is verified), so the edge runs it on db workers. `context` and `throttle` must outlive it.
class operator_sessions {
public:
  operator_sessions(service_context& context, login_throttle& throttle);

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

private:
  persistence::audit_event_row login_audit(const principal& who, const std::string& outcome,
                                           const std::string& email,
                                           const std::string& reason) const;
  caf::error fail_login(const principal& who, const std::string& email,
                        const std::string& client_ip, const std::string& reason);

  service_context& context_;
  login_throttle& throttle_;
  persistence::operator_repository repository_;
};

} // namespace cxp::domain
