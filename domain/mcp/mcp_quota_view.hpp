#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "domain/accounts/account_service.hpp"
#include "persistence/routing/routing_repository.hpp"

namespace cxp::domain {

/// An upstream account's quota as an operator reads it: each stored window (family, minutes,
/// used %, reset, when and how it was observed), `freshness_status` (`fresh` when the newest
/// observation is younger than `quota_freshness`, `stale` when older, `missing` without any),
/// `routing_usable` (the account is active and no window of its main family is exhausted with a
/// reset still ahead) and, when exhausted, `exhausted_until` (the latest such reset).
nlohmann::json quota_view(const account_view& account,
                          const std::vector<persistence::quota_window_row>& windows,
                          time_point now);

} // namespace cxp::domain
