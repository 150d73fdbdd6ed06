#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// One upstream try of a request, named by the request and its number.
struct request_attempt_row {
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
  std::optional<std::string> service_tier; ///< as the client asked (`service_tier`), if it did
  /// Set by the request-log writer from the pricing snapshot in force (domain/pricing):
  std::optional<int64_t> cost_micros;             ///< micro-USD; set when priced
  std::optional<std::string> pricing_snapshot_id; ///< the snapshot consulted
  std::optional<std::string> pricing_status;      ///< priced | unpriced | not_applicable
  /// How routing chose the accounts (`domain::routing_json`): ids and reason codes only.
  std::optional<std::string> routing;
  /// The client as `family/version` (`domain::client_label`), never the raw User-Agent.
  std::optional<std::string> client;
  std::vector<request_attempt_row> attempts;
  /// Read back from the database: how many attempts were stored (on insert, `attempts.size()`).
  int32_t attempt_count = 0;
};

/// Filters of the admin request-log list; every set member must match. Times compare as stored.
struct request_log_filter {
  std::optional<std::string> pool_id;
  std::optional<std::string> api_key_id;
  std::optional<std::string> account_id;
  std::optional<std::string> model;
  std::optional<std::string> outcome;
  std::optional<int32_t> status_code;
  std::optional<std::string> from;                          ///< occurred_at at or after
  std::optional<std::string> to;                            ///< occurred_at before
  std::optional<std::vector<std::string>> visible_pool_ids; ///< instance_admin scope; nullopt = all
  /// Keyset position of the last row seen (occurred_at, id): the rows strictly older.
  std::optional<std::pair<std::string, std::string>> before;
  int limit = 50;
};

/// Token totals of one API key's logged requests (for `GET /v1/usage`).
struct key_usage_totals {
  int64_t request_count = 0;
  int64_t input_tokens = 0;
  int64_t cached_input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t reasoning_tokens = 0;
  int64_t cost_micros = 0;    ///< sum over the priced requests
  int64_t priced_count = 0;   ///< requests with pricing_status priced
  int64_t unpriced_count = 0; ///< requests that used tokens the snapshot had no price for
};

/// Writes request logs in batches: one transaction per batch.
class request_log_repository {
public:
  explicit request_log_repository(database& db) : db_(db) {}

  caf::expected<void> insert_batch(const std::vector<request_log_row>& rows);

  /// The newest `limit` rows, newest first, with their attempts (for tests).
  caf::expected<std::vector<request_log_row>> recent(int limit);

  /// The rows matching `filter`, newest first (occurred_at, then id, descending), at most
  /// `filter.limit`, without their attempts (`attempt_count` is set).
  caf::expected<std::vector<request_log_row>> list(const request_log_filter& filter);

  /// One row with its attempts in order, or nullopt when there is none with that id.
  caf::expected<std::optional<request_log_row>> find(const std::string& id);

  /// Request count, token and cost sums of the logged requests made with `api_key_id`, all of them
  /// or those that occurred at or after `since` (an ISO-8601 time as `to_iso8601` writes it).
  caf::expected<key_usage_totals> usage_of_key(const std::string& api_key_id,
                                               const std::optional<std::string>& since = {});

  /// The label of each of `account_ids` that exists and has one (for a row's routing record).
  caf::expected<std::map<std::string, std::string>>
  account_labels(const std::vector<std::string>& account_ids);

private:
  database& db_;
};

} // namespace cxp::persistence
