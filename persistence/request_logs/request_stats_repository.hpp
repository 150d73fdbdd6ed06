#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/db/database.hpp"
#include "persistence/upkeep/usage_rollup_repository.hpp"

namespace cxp::persistence {

/// The request-log column a usage series is grouped by.
enum class stats_dimension { pool, api_key, account, model, transport, client };

/// One hour of one (pool, dimension value): the sums of the request logs that fall in it.
struct stats_row {
  std::string bucket_start; ///< the hour, ISO-8601 ("2026-12-05T10:00:00Z")
  std::string pool_id;      ///< '' for requests refused before their key was known
  std::string group;        ///< the dimension's value; '' when the row has none
  usage_counts counts;      ///< `unpriced_requests` included
};

/// Hourly usage straight from `request_logs` (so the current hour counts at once, and the
/// transport, which the rollups do not keep, can group). Rows are split by pool too, so the
/// caller can keep only the pools an operator may see.
class request_stats_repository {
public:
  explicit request_stats_repository(database& db) : db_(db) {}

  /// The rows of requests with `from` <= occurred_at < `to` (ISO-8601), by hour, pool and
  /// `dimension`, ordered by hour.
  caf::expected<std::vector<stats_row>> hourly(const std::string& from, const std::string& to,
                                               stats_dimension dimension);

private:
  database& db_;
};

} // namespace cxp::persistence
