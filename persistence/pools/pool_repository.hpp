#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/audit/audit_repository.hpp"
#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// One row of `pools`. Flags are plain bools here; the table stores them as INTEGER 0/1.
struct pool_row {
  std::string id;
  std::string slug;
  std::string name;
  std::string status = "active"; ///< active | disabled
  std::string routing_strategy = "bridge_ring";
  int32_t ring_size = 3;
  bool sticky_sessions = true;
  bool prompt_cache_affinity = true;
  bool v1_compatibility_enabled = true;
  bool allow_image_generation = true;
  std::optional<std::string> created_by;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> disabled_at;
};

/// Filters for `pool_repository::list`; every member that is set narrows the result.
struct pool_list_filter {
  std::optional<std::string> status;
  /// Case-insensitive substring of the name or the slug (LIKE wildcards in it are literal).
  std::optional<std::string> search;
  /// instance_admin scope: only these pools; nullopt = all pools, empty = none.
  std::optional<std::vector<std::string>> visible_pool_ids;
  /// Keyset position: rows strictly after (created_at, id) in ascending order.
  std::optional<std::string> after_created_at;
  std::optional<std::string> after_id;
  int limit = 50;
};

/// All SQL on `pools`, plus reads of `operator_pool_assignments`. Synchronous; called from db
/// workers, the CLI and tests. Mutations take the audit event to write in the same transaction.
class pool_repository {
public:
  explicit pool_repository(database& db) : db_(db) {}

  /// Inserts `row` and `audit`. A slug equal to an existing one ignoring case fails with
  /// `errc::conflict`.
  caf::expected<void> insert(const pool_row& row, const audit_event_row& audit);

  /// The pool with `id`, or `errc::not_found`.
  caf::expected<pool_row> get(const std::string& id);

  /// Ordered by (created_at, id) ascending, at most `filter.limit` rows.
  caf::expected<std::vector<pool_row>> list(const pool_list_filter& filter);

  /// Writes every mutable column of `row` (matched by id) and `audit` in one transaction.
  /// Fails with `errc::not_found` when the pool is gone and `errc::conflict` on a slug clash.
  caf::expected<void> update(const pool_row& row, const audit_event_row& audit);

  /// The ids of the pools assigned to an operator (for building an instance_admin principal).
  caf::expected<std::vector<std::string>> assigned_pool_ids(const std::string& operator_id);

private:
  database& db_;
};

} // namespace cxp::persistence
