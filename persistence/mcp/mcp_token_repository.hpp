#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/audit/audit_repository.hpp"
#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// One row of `mcp_tokens`. `token_hash` is the keyed HMAC of the full raw token; the raw token
/// is shown once at creation and never stored.
struct mcp_token_row {
  std::string id;
  std::string operator_id;
  std::string name;
  std::string token_prefix; ///< "mcp-cxp-<12 hex>", unique
  std::string token_hash;
  std::string status = "active"; ///< active | revoked
  std::optional<std::string> expires_at;
  std::string created_at;
  std::optional<std::string> revoked_at;
  std::optional<std::string> revoked_by;
};

/// All SQL on `mcp_tokens` and `operator_mcp_access` (the per-operator MCP switch). Synchronous;
/// called from db workers, the CLI and tests. Mutations take the audit event to write in the same
/// transaction.
class mcp_token_repository {
public:
  explicit mcp_token_repository(database& db) : db_(db) {}

  /// Inserts `row` and `audit`; a duplicate prefix fails with `errc::conflict`.
  caf::expected<void> insert(const mcp_token_row& row, const audit_event_row& audit);

  /// The token whose stored prefix is `prefix`, or nullopt.
  caf::expected<std::optional<mcp_token_row>> find_by_prefix(const std::string& prefix);

  /// The token with `id`, or nullopt.
  caf::expected<std::optional<mcp_token_row>> find(const std::string& id);

  /// The tokens of `operator_id` (every operator's when unset), newest first, at most `limit`.
  caf::expected<std::vector<mcp_token_row>> list(const std::optional<std::string>& operator_id,
                                                 int limit);

  /// Marks an active token revoked; `errc::not_found` when no active token has `id`.
  caf::expected<void> revoke(const std::string& id, const std::string& revoked_by,
                             const std::string& now, const audit_event_row& audit);

  /// Whether `operator_id` switched MCP access on (off when it never chose).
  caf::expected<bool> access_enabled(const std::string& operator_id);

  /// Sets the per-operator switch.
  caf::expected<void> set_access(const std::string& operator_id, bool enabled,
                                 const std::string& now, const audit_event_row& audit);

private:
  database& db_;
};

} // namespace cxp::persistence
