#pragma once

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/secret.hpp"
#include "persistence/audit/audit_repository.hpp"
#include "persistence/crypto/secret_box.hpp"
#include "persistence/db/database.hpp"

namespace cxp::domain {

/// Who performs an admin action: checked by every service method and written to the audit log.
struct principal {
  enum class kind { operator_session, cli, anonymous };

  kind type = kind::anonymous;
  std::string operator_id;           ///< empty for cli and anonymous
  std::string role;                  ///< instance_owner | instance_admin | "" (anonymous)
  std::vector<std::string> pool_ids; ///< the pools an instance_admin may manage
  std::string client_ip;

  /// The CLI acts with owner rights: whoever runs it already holds the database credentials.
  bool is_owner() const { return type == kind::cli || role == "instance_owner"; }
  bool can_manage_pool(const std::string& pool_id) const {
    return is_owner() || std::find(pool_ids.begin(), pool_ids.end(), pool_id) != pool_ids.end();
  }
  std::string actor_type() const {
    switch (type) {
    case kind::operator_session:
      return "operator";
    case kind::cli:
      return "cli";
    case kind::anonymous:
      return "anonymous";
    }
    return "anonymous";
  }
};

/// Everything the admin services need, built once by the composition root (server or CLI) and
/// passed by reference. The services are synchronous and block on the database: the edge runs
/// them on db workers, the CLI on its main thread.
struct service_context {
  persistence::database& db;
  const cxp::clock& clock;
  const persistence::keyring&
    upstream_keys;                       ///< CODEX_POOLER_UPSTREAM_SECRET_KEY (+ older versions)
  const persistence::keyring& totp_keys; ///< CODEX_POOLER_TOTP_ENCRYPTION_KEY
  secret<std::string> api_key_hash_key;  ///< derive_key(SECRET_KEY_BASE, "pool-api-key")
  secret<std::string> token_hash_key;    ///< derive_key(SECRET_KEY_BASE, "operator-token")
};

/// Keyset pagination: `cursor` is the opaque `next_cursor` of the previous page.
struct page_request {
  static constexpr int default_limit = 50;
  static constexpr int max_limit = 200;
  int limit = default_limit;
  std::optional<std::string> cursor;
};

/// True when `value` is one of the fixed vocabulary `allowed` (statuses, efforts, …).
template <size_t N>
bool is_one_of(const std::array<std::string_view, N>& allowed, std::string_view value) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

/// Builds an audit row for `who` doing `action` now; the caller fills target and details.
inline persistence::audit_event_row audit_event(const service_context& context,
                                                const principal& who, std::string action,
                                                std::string outcome = "success") {
  persistence::audit_event_row row;
  row.id = new_uuid();
  row.occurred_at = to_iso8601(context.clock.now());
  row.actor_type = who.actor_type();
  if (!who.operator_id.empty()) {
    row.actor_id = who.operator_id;
  }
  row.action = std::move(action);
  row.outcome = std::move(outcome);
  if (!who.client_ip.empty()) {
    row.client_ip = who.client_ip;
  }
  return row;
}

} // namespace cxp::domain
