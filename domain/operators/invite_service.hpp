#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "domain/admin_context.hpp"
#include "domain/operators/operator_model.hpp"
#include "persistence/operators/operator_repository.hpp"

namespace cxp::domain {

/// Operator invites: an owner creates, lists and revokes them; the invitee accepts one through
/// its token and becomes an operator. Every mutation writes one audit event in the same
/// transaction; details never hold the token. Synchronous: blocks on the database (and on Argon2
/// when an invite is accepted). `context` must outlive it.
class invite_service {
public:
  explicit invite_service(service_context& context);

  /// Owner only; email unique among operators (conflict); role instance_owner|instance_admin;
  /// pool_ids must exist for admins; ttl_hours 1..720, default `operator.invite_ttl_hours`.
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
  service_context& context_;
  persistence::operator_repository repository_;
};

} // namespace cxp::domain
