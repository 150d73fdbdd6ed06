#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "domain/admin_context.hpp"
#include "domain/operators/operator_model.hpp"
#include "persistence/operators/operator_repository.hpp"

namespace cxp::domain {

/// Bootstrap and operator management. Login and sessions are `operator_sessions`, an operator's
/// own password and TOTP `operator_credentials`, invites `invite_service`. A plain synchronous
/// class: every call blocks on the database (and on Argon2, ~50 ms, where passwords are hashed),
/// so the edge runs it on db workers and the CLI on its main thread. `context` must outlive it.
///
/// Authorization: `list`, `update` and `create_operator` need an owner (`errc::forbidden`
/// otherwise); `get` also lets an operator read itself. Every mutation writes one audit event in
/// the same transaction; details never hold a secret. Emails are trimmed and stored lower-cased;
/// emails and display names must be valid UTF-8 without control characters (validation error
/// naming the field); passwords need at least 12 characters (validation error on "password").
class operator_service {
public:
  explicit operator_service(service_context& context);

  /// "pending" while no operator exists, "completed" afterwards.
  caf::expected<std::string> bootstrap_status();
  /// Creates the first `instance_owner` only while no operator exists; race-safe through the
  /// `bootstrap_state` singleton, `errc::conflict` afterwards.
  caf::expected<operator_view> bootstrap(const principal& who, const bootstrap_request& request);
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

private:
  service_context& context_;
  persistence::operator_repository repository_;
};

} // namespace cxp::domain
