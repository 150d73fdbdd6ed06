#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"

namespace cxp::actors {

/// One quota window of an upstream account as last observed.
struct quota_window {
  std::string kind; ///< primary | secondary (a 10080-minute window is always secondary)
  int32_t window_minutes = 0;
  double used_percent = 0.0;
  std::optional<time_point> reset_at;
  time_point observed_at{};
};

/// How long an observation counts as evidence.
constexpr auto quota_freshness = std::chrono::minutes{15};

/// Windows learned from the `x-codex-{primary,secondary}-*` headers of one upstream answer
/// (2xx or 429). `headers` has lower-case names. A window needs its `used-percent` header; its
/// reset comes from `reset-at` (unix seconds) or else `reset-after-seconds` relative to `now`.
std::vector<quota_window>
parse_rate_limit_headers(const std::map<std::string, std::string>& headers, time_point now);

/// Windows from a `codex.rate_limits` stream event (`rate_limits.primary|secondary`).
std::vector<quota_window> parse_rate_limits_event(const nlohmann::json& event, time_point now);

/// Windows from a `/wham/usage` document (`rate_limit.primary_window|secondary_window` with
/// `used_percent`, `limit_window_seconds`, `reset_at` or `reset_after_seconds`).
std::vector<quota_window> parse_usage_document(const nlohmann::json& document, time_point now);

/// `current` updated with `observed`: a window of the same kind is replaced by the newer one.
std::vector<quota_window> merge_windows(std::vector<quota_window> current,
                                        const std::vector<quota_window>& observed);

/// The `resets_at` (or `resets_in_seconds`) of a `usage_limit_reached` error body, if any.
std::optional<time_point> parse_usage_limit_reset(const nlohmann::json& body, time_point now);

/// True when a fresh window says the account is used up until a reset still in the future.
bool is_exhausted(const std::vector<quota_window>& windows, time_point now);

/// The latest reset among the exhausting windows: when the account is usable again.
std::optional<time_point> exhausted_until(const std::vector<quota_window>& windows, time_point now);

/// Remaining capacity for `quota_first`: the minimum of (100 − used) over fresh windows with a
/// future reset; 0 when there is no such window or one is exhausted.
double capacity_score(const std::vector<quota_window>& windows, time_point now);

} // namespace cxp::actors
