#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "persistence/request_logs/request_log_repository.hpp"

namespace cxp::domain {

/// How one upstream attempt ended; also the result the pool's attempt report carries
/// (`actors::attempt_result`).
enum class attempt_outcome : uint8_t {
  succeeded,
  usage_limited,  ///< 429 usage_limit_reached or a quota code in an event
  upstream_error, ///< 429 without usage limit, 5xx, a retryable failure event, a malformed answer
  network_error,  ///< connect failure, drop, timeout
  unauthorized,   ///< an auth error that a refresh did not cure (or could not)
  rejected,       ///< another 4xx, or a failure the upstream ended itself: neutral for health
  cancelled,      ///< the client went away
};

/// The metric label (`upstream_attempts{outcome}`, `failovers{reason}`) and the report's name:
/// the enumerator's name.
std::string_view to_string(attempt_outcome outcome);

/// The attempt row's `outcome` column: `succeeded`, `cancelled`, `retryable_failed` (another
/// try followed: refresh, reconnect or failover) or `failed`.
std::string_view attempt_row_status(attempt_outcome outcome, bool retried);

/// The request-log row's `outcome` column for a turn whose last attempt ended as `last`:
/// `succeeded`, `cancelled` or `failed`; `rejected` when no attempt reached upstream (nullopt).
std::string_view request_log_status(std::optional<attempt_outcome> last);

/// What an attempt row records besides its outcome.
struct attempt_facts {
  int32_t attempt_number = 1;
  std::string account_id;
  std::string started_at; ///< ISO-8601
  std::optional<int32_t> status_code;
  std::optional<std::string> error_code;
  std::chrono::milliseconds latency{0};
  std::optional<int64_t> ttfb_ms;
};

/// The attempt row for `facts` ended as `outcome` (a fresh id; `retried` as above).
persistence::request_attempt_row make_attempt_row(attempt_facts facts, attempt_outcome outcome,
                                                  bool retried);

} // namespace cxp::domain
