#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "domain/routing/pooled_quota.hpp"

namespace cxp::domain {

/// The caps of one Pool API key's policy; unset means no cap.
struct key_caps {
  std::optional<int32_t> requests_per_minute;
  std::optional<int64_t> tokens_per_day;  ///< input + output tokens per UTC day
  std::optional<int64_t> tokens_per_week; ///< input + output tokens per ISO week (Monday, UTC)

  bool any() const { return requests_per_minute || tokens_per_day || tokens_per_week; }
  bool counts_tokens() const { return tokens_per_day || tokens_per_week; }
};

/// A request refused by a cap, and when it is worth trying again.
struct budget_refusal {
  std::string message;
  time_point retry_at;
};

/// Midnight UTC of the day of `at`.
time_point utc_day_start(time_point at);
/// Monday 00:00 UTC of the week of `at`.
time_point utc_week_start(time_point at);

/// What one key consumed: requests in the last minute (a sliding window) and tokens in the
/// current UTC day and week. Pure bookkeeping; the pool actor that owns the key keeps one.
class key_budget {
public:
  /// Counts a new request when every cap allows it; otherwise says which cap refused it.
  std::optional<budget_refusal> admit(const key_caps& caps, time_point now);

  /// Adds the tokens of a finished attempt.
  void add_tokens(int64_t tokens, time_point now);

  /// Adds totals counted elsewhere (the request logs since the day and week started).
  void seed(int64_t day_tokens, int64_t week_tokens, time_point now);

  /// The token caps of `caps` as windows for the pooled quota view: the UTC day (1440 minutes)
  /// and the ISO week (10080), each with the share of its cap used and when it starts again.
  std::vector<key_window> windows(const key_caps& caps, time_point now);

private:
  void roll(time_point now);

  std::deque<time_point> recent_requests_;
  time_point day_start_{};
  time_point week_start_{};
  int64_t day_tokens_ = 0;
  int64_t week_tokens_ = 0;
};

} // namespace cxp::domain
