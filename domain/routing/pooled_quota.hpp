#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "domain/routing/quota.hpp"

namespace cxp::domain {

/// One upstream account of a pool as the pooled quota view sees it.
struct quota_member {
  std::string account_id;
  bool routable = false; ///< active or refreshing: it can carry load (others count for nothing)
  std::string plan_type;
  std::vector<quota_window> windows;         ///< its latest evidence, every family
  std::optional<time_point> exhausted_until; ///< a main-family usage limit blocks it until then
};

/// One pooled window: the share of the members' capacity used, and the reset that matters.
struct pooled_window {
  int32_t window_minutes = 0;
  double used_percent = 0.0; ///< 0..100, rounded to two decimals
  std::optional<time_point> reset_at;

  bool operator==(const pooled_window&) const = default;
};

/// The pooled windows of one limit family. `primary` is the family's shortest window,
/// `secondary` its longest (a lone weekly window is `secondary`, any other lone one `primary`).
struct pooled_family {
  std::string limit_id{main_limit}; ///< e.g. codex, codex_bengalfox
  std::string limit_name;           ///< an additional family's display name
  std::optional<pooled_window> primary;
  std::optional<pooled_window> secondary;
  bool limit_reached = false; ///< no member can serve this family now

  bool operator==(const pooled_family&) const = default;
};

/// What the Codex clients of a pool (and of one key) are told about its capacity.
struct pooled_quota {
  std::string plan_type = "plus"; ///< the members' most common plan
  pooled_family main;
  std::vector<pooled_family> additional; ///< by limit id

  bool operator==(const pooled_quota&) const = default;
};

/// The pooled view of `members` at `now` (the definition is README "Pooled quota"):
/// - members are the routable accounts; paused, disabled and reauth-required ones are left out;
/// - per family and window duration (matched by duration, never by the slot it was reported
///   in), each member counts equally: its current evidence's used percent (clamped 0..100;
///   evidence is current until its reset passes, or for `quota_freshness` without a reset),
///   100 when a usage limit blocks it and it has no current evidence for that window, else 0
///   (no evidence: its capacity is assumed free); the pooled percent is the mean;
/// - an additional family's members are the routable accounts that reported it;
/// - the reset: when every member is full in that window, the earliest reset among them (the
///   first account back); otherwise the earliest reset among the members carrying the load
///   (not blocked, with current evidence), else the earliest known one;
/// - `limit_reached` when every member is blocked for the family (or there is none).
pooled_quota pool_quota(const std::vector<quota_member>& members, time_point now);

/// `members` with what one upstream answer of `account_id` said merged in: its `observed`
/// windows (newer evidence replaces older, as `merge_windows`) and a usage limit until
/// `exhausted_until`. The answer a client is about to get then counts in the view it is shown.
std::vector<quota_member> with_observation(std::vector<quota_member> members,
                                           const std::string& account_id,
                                           const std::vector<quota_window>& observed,
                                           std::optional<time_point> exhausted_until);

/// A Pool API key's own token cap as a window: `window_minutes` 1440 (UTC day) or 10080 (ISO
/// week), the share of the cap used, and when it starts again.
struct key_window {
  int32_t window_minutes = 0;
  double used_percent = 0.0;
  time_point reset_at{};
};

/// `quota` tightened by the key's caps: a key window replaces the pooled main window of the same
/// duration when it is more used; a window of a duration the pool does not have (the daily cap)
/// takes the primary slot when it is more used than the pool's primary window (or there is
/// none). A key window at 100 % makes the main family's `limit_reached` true.
pooled_quota tighten(pooled_quota quota, const std::vector<key_window>& key_windows);

/// The `x-codex-*` response headers of `quota` (codex-protocol §6.1): per window of the main
/// family `x-codex-{primary,secondary}-{used-percent,window-minutes,reset-at,
/// reset-after-seconds}`; each additional family under its own prefix with its
/// `-limit-name`. No credit headers: the pool spends no credits.
std::vector<std::pair<std::string, std::string>> quota_headers(const pooled_quota& quota,
                                                               time_point now);

/// The `codex.rate_limits` events of `quota` (codex-protocol §6.3): the main family's first,
/// then one per additional family (`metered_limit_name`).
std::vector<nlohmann::json> rate_limits_events(const pooled_quota& quota);

/// `quota` as the Codex usage document (`/wham/usage`, codex-protocol §6.4; integer percents,
/// rounded down so 100 means full).
nlohmann::json usage_document(const pooled_quota& quota, time_point now);

} // namespace cxp::domain
