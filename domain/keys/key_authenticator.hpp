#pragma once

#include <string_view>

#include <caf/expected.hpp>

#include "domain/admin_context.hpp"
#include "domain/keys/api_key.hpp"

namespace cxp::domain {

/// Authenticates Pool API keys on the request path, apart from the admin CRUD in
/// `api_key_service` so that the hot path depends on nothing but the key model and its table.
/// Synchronous: blocks on the database (the edge runs it on a db worker).
class key_authenticator {
public:
  explicit key_authenticator(service_context& context);

  /// Shape, prefix lookup, constant-time hash compare, status active, not expired, pool active.
  /// Errors: api_key_missing (empty), api_key_invalid (unknown/mismatch), api_key_inactive
  /// (paused/revoked/expired/pool disabled), or a database error. On success last_used_at is
  /// touched at most once per minute (a failed touch is logged, not returned).
  caf::expected<authenticated_key> authenticate(std::string_view raw_key);

private:
  service_context& context_;
};

} // namespace cxp::domain
