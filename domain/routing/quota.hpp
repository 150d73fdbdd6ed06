#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"

namespace cxp::domain {

/// The account's main Codex limit family. Others (`x-<id>-*` header groups, `metered_limit_name`
/// of a rate-limits event, `additional_rate_limits` of the usage document) are additional limits
/// of one model or feature.
inline constexpr std::string_view main_limit = "codex";

/// One quota window of an upstream account as last observed. A window is identified by its
/// family and its duration (not by the slot it was reported in): a plan that reports its weekly
/// window as "primary" keeps one weekly window.
struct quota_window {
  std::string kind; ///< primary | secondary (a 10080-minute window is always secondary)
  int32_t window_minutes = 0;
  double used_percent = 0.0;
  std::optional<time_point> reset_at;
  time_point observed_at{};
  std::string limit_id{main_limit}; ///< the limit family, snake_case (e.g. codex_bengalfox)
  std::string limit_name; ///< an additional family's display name, e.g. GPT-5.3-Codex-Spark
};

/// Whether `window` limits requests for `model`: the main family limits every model; an
/// additional family only the model its name names (compared case-insensitively, with spaces and
/// underscores as dashes). An additional family whose model is unknown limits nothing; it stays
/// evidence for display.
bool covers(const quota_window& window, std::string_view model);

/// The windows of `windows` that limit `model` (the main family only when `model` is empty).
std::vector<quota_window> covering(const std::vector<quota_window>& windows,
                                   std::string_view model);

/// How long an observation counts as evidence.
constexpr auto quota_freshness = std::chrono::minutes{15};

/// Windows learned from the `x-<family>-{primary,secondary}-*` headers of one upstream answer
/// (2xx or 429): `x-codex-…` is the main family, every other prefix with a `-primary-used-percent`
/// or `-secondary-used-percent` header an additional one (named by `x-<family>-limit-name`).
/// `headers` has lower-case names. A window needs its `used-percent` header; its reset comes from
/// `reset-at` (unix seconds) or else `reset-after-seconds` relative to `now`.
std::vector<quota_window>
parse_rate_limit_headers(const std::map<std::string, std::string>& headers, time_point now);

/// Windows from a `codex.rate_limits` stream event (`rate_limits.primary|secondary`), of the
/// family its `metered_limit_name` (or `limit_name`) names, the main one when absent.
std::vector<quota_window> parse_rate_limits_event(const nlohmann::json& event, time_point now);

/// Windows from a `/wham/usage` document (`rate_limit.primary_window|secondary_window` with
/// `used_percent`, `limit_window_seconds`, `reset_at` or `reset_after_seconds`), and those of
/// each `additional_rate_limits[]` entry (family `metered_feature`, named `limit_name`).
std::vector<quota_window> parse_usage_document(const nlohmann::json& document, time_point now);

/// `current` updated with `observed`: a window of the same family and duration (or, when a
/// duration is unknown, the same slot) is replaced by the newer one; a family's name is kept when
/// a newer observation does not carry it.
std::vector<quota_window> merge_windows(std::vector<quota_window> current,
                                        const std::vector<quota_window>& observed);

/// The `resets_at` (or `resets_in_seconds`) of a `usage_limit_reached` error body, if any.
std::optional<time_point> parse_usage_limit_reset(const nlohmann::json& body, time_point now);

/// What a usage-limit answer exhausted. `active_limit` is the family it names
/// (`x-codex-active-limit`): the main family, or none, exhausts the account until `reset`
/// (`account_until`); an additional family only gets a full window of its own until `reset`
/// (named like the family's `observed` windows), which blocks just the models it covers.
struct usage_limit_evidence {
  std::optional<time_point> account_until;
  std::optional<quota_window> family_window;
};
usage_limit_evidence usage_limit_of(std::optional<time_point> reset, std::string_view active_limit,
                                    const std::vector<quota_window>& observed, time_point now);

/// True when a fresh window says the account is used up until a reset still in the future.
bool is_exhausted(const std::vector<quota_window>& windows, time_point now);

/// The latest reset among the exhausting windows: when the account is usable again.
std::optional<time_point> exhausted_until(const std::vector<quota_window>& windows, time_point now);

/// Remaining capacity for `quota_first`: the minimum of (100 − used) over fresh windows with a
/// future reset; 0 when there is no such window or one is exhausted.
double capacity_score(const std::vector<quota_window>& windows, time_point now);

} // namespace cxp::domain
