#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/clock.hpp"
#include "domain/routing/pooled_quota.hpp"

namespace cxp::domain {

/// What a pool can serve right now, as its Prometheus gauges report it
/// (`codex_pooler_pool_accounts`, `codex_pooler_pool_eligible_accounts`,
/// `codex_pooler_pool_quota_used_percent`).
struct pool_capacity {
  int32_t accounts = 0; ///< the pool's accounts, any status
  /// Routable accounts (active or refreshing) that no usage limit of the main family blocks now:
  /// the ones a turn for a model every account serves could be given. 0 means the pool answers
  /// every such turn with no_eligible_account or usage_limit_reached.
  int32_t eligible = 0;
  /// The pooled main-family windows (README "Pooled quota"): the shortest (5 h) and the longest
  /// (weekly) window's used percent, 0..100; absent when no member reported that window. With
  /// no routable member the pool's `limit_reached` holds and both read 100.
  std::optional<double> primary_used_percent;
  std::optional<double> secondary_used_percent;
};

/// The capacity of a pool whose accounts are `members`, at `now`. Pure.
pool_capacity capacity_of(const std::vector<quota_member>& members, time_point now);

} // namespace cxp::domain
