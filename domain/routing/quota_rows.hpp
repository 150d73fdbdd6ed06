#pragma once

#include <string>
#include <vector>

#include "domain/routing/quota.hpp"
#include "persistence/routing/routing_repository.hpp"

namespace cxp::domain {

/// The rows that store `windows` of `account_id`, observed through `source` (traffic,
/// usage_probe); windows of unknown duration are not stored.
std::vector<persistence::quota_window_row> to_rows(const std::string& account_id,
                                                   const std::vector<quota_window>& windows,
                                                   const std::string& source);

/// The windows stored in `rows`.
std::vector<quota_window> to_windows(const std::vector<persistence::quota_window_row>& rows);

} // namespace cxp::domain
