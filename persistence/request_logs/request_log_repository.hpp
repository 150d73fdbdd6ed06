#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// One upstream try of a request.
struct request_attempt_row {
  std::string id;
  int32_t attempt_number = 1;
  std::optional<std::string> account_id;
  std::string started_at;
  std::optional<int32_t> status_code;
  std::string outcome; ///< succeeded | failed | retryable_failed | cancelled
  std::optional<std::string> error_code;
  std::optional<int64_t> latency_ms;
  std::optional<int64_t> ttfb_ms;
  std::string request_id; ///< the request's id; the repository sets it when it stores the request
};

/// One client request: metadata only, never a body, prompt, token or raw key.
struct request_log_row {
  std::string id;
  std::string occurred_at;
  std::optional<std::string> pool_id;
  std::optional<std::string> api_key_id;
  std::optional<std::string> account_id;
  std::string route;
  std::string transport; ///< http_sse | http_json
  std::optional<std::string> model;
  int32_t status_code = 0;
  std::string outcome; ///< succeeded | failed | rejected | cancelled
  std::optional<std::string> error_code;
  std::optional<int64_t> latency_ms;
  std::optional<int64_t> ttfb_ms;
  std::optional<int64_t> input_tokens;
  std::optional<int64_t> cached_input_tokens;
  std::optional<int64_t> output_tokens;
  std::optional<int64_t> reasoning_tokens;
  std::optional<std::string> session_key_hash;
  std::optional<std::string> client_ip;
  std::vector<request_attempt_row> attempts;
};

/// Token totals of one API key's logged requests (for `GET /v1/usage`).
struct key_usage_totals {
  int64_t request_count = 0;
  int64_t input_tokens = 0;
  int64_t cached_input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t reasoning_tokens = 0;
};

/// Writes request logs in batches: one transaction per batch.
class request_log_repository {
public:
  explicit request_log_repository(database& db) : db_(db) {}

  caf::expected<void> insert_batch(const std::vector<request_log_row>& rows);

  /// The newest `limit` rows, newest first, with their attempts (for tests and the admin API).
  caf::expected<std::vector<request_log_row>> recent(int limit);

  /// Request count and token sums of the logged requests made with `api_key_id`, all of them or
  /// those that occurred at or after `since` (an ISO-8601 time as `to_iso8601` writes it).
  caf::expected<key_usage_totals> usage_of_key(const std::string& api_key_id,
                                               const std::optional<std::string>& since = {});

private:
  database& db_;
};

} // namespace cxp::persistence
