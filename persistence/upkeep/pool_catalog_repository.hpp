#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// One `pool_models` row.
struct pool_model_row {
  std::string pool_id;
  std::string slug;
  std::string status; ///< active | stale | retired
  int32_t account_count = 0;
  std::string first_seen_at;
  std::string last_seen_at;
  std::optional<std::string> stale_at;
  std::optional<std::string> retired_at;
  std::string synced_at;
};

/// What one catalog sync changed in a pool.
struct pool_catalog_change {
  int64_t active = 0;  ///< models some account serves
  int64_t added = 0;   ///< seen for the first time
  int64_t revived = 0; ///< stale or retired before, served again
  int64_t stale = 0;   ///< newly stale: no account serves them
  int64_t retired = 0; ///< stale for longer than the retirement age
};

/// The SQL of a pool's model catalog (`pool_models`). Blocking: job workers and db workers.
class pool_catalog_repository {
public:
  explicit pool_catalog_repository(database& db) : db_(db) {}

  /// Records what the pool's accounts serve now (`served`: slug → accounts serving it), in one
  /// transaction: served models are active; an active model no account serves turns stale at
  /// `now`; a stale one whose stale_at is before `retire_before` is retired.
  caf::expected<pool_catalog_change> record(const std::string& pool_id,
                                            const std::map<std::string, int32_t>& served,
                                            const std::string& now,
                                            const std::string& retire_before);

  /// The pool's models, by slug.
  caf::expected<std::vector<pool_model_row>> models(const std::string& pool_id);

private:
  database& db_;
};

} // namespace cxp::persistence
