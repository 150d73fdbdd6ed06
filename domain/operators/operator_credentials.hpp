#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "common/secret.hpp"
#include "domain/admin_context.hpp"
#include "domain/operators/operator_model.hpp"
#include "persistence/operators/operator_repository.hpp"

namespace cxp::domain {

/// An operator's own credentials: password change and TOTP enrollment. Every method acts on
/// `who.operator_id` and needs an operator session (`errc::forbidden` otherwise); each change
/// writes one audit event in the same transaction. Synchronous: blocks on the database and on
/// Argon2. `context` must outlive it.
class operator_credentials {
public:
  explicit operator_credentials(service_context& context);

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

private:
  caf::expected<persistence::operator_row> load_self(const principal& who);

  service_context& context_;
  persistence::operator_repository repository_;
};

} // namespace cxp::domain
