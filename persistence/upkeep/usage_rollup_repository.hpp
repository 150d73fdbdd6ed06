#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// Usage summed over some requests: one rollup row's, or a report's over many rows.
struct usage_counts {
  int64_t requests = 0;
  int64_t errors = 0; ///< requests whose outcome was not `succeeded`
  int64_t input_tokens = 0;
  int64_t cached_input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t reasoning_tokens = 0;
  int64_t cost_micros = 0;
  int64_t unpriced_requests = 0;

  void add(const usage_counts& more);
};

/// One `usage_rollups` row: an hour of one pool × key × account × model ('' when absent).
struct usage_rollup_row {
  std::string bucket_start;
  std::string pool_id;
  std::string api_key_id;
  std::string account_id;
  std::string model;
  usage_counts counts;
};

/// The SQL of the hourly usage rollups. Blocking: job workers and db workers.
class usage_rollup_repository {
public:
  explicit usage_rollup_repository(database& db) : db_(db) {}

  /// The newest hour rolled up, if any.
  caf::expected<std::optional<std::string>> latest_bucket();

  /// The time of the first request log at or after `from` (ISO-8601; "" for the oldest).
  caf::expected<std::optional<std::string>> next_request(const std::string& from);

  /// Rebuilds the hour starting at `bucket_start` (ISO-8601, on the hour) from the request logs
  /// of [bucket_start, bucket_end), in one transaction; the rows written.
  caf::expected<int64_t> rebuild(const std::string& bucket_start, const std::string& bucket_end,
                                 const std::string& computed_at);

  /// The rollups of [from, to), for a pool or every pool.
  caf::expected<std::vector<usage_rollup_row>> list(const std::string& from, const std::string& to,
                                                    const std::optional<std::string>& pool_id);

private:
  database& db_;
};

} // namespace cxp::persistence
