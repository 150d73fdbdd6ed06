#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "common/clock.hpp"

namespace cxp::domain {

/// The period [from, to) a report covers.
struct report_period {
  time_point from{};
  time_point to{};
};

/// How a report reads its `from` and `to` parameters.
struct period_rules {
  std::chrono::hours default_length{24}; ///< `from` when absent: `to` minus this
  std::chrono::hours longest{24};        ///< the longest period accepted
  bool hour_aligned_from = false;        ///< `from` rounded down to its hour (hourly series)
};

/// The period of optional ISO-8601 bounds: `to` defaults to `now`. An unparsable bound, an empty
/// period or one longer than `rules.longest` adds a message for the field to `errors` (the
/// caller's, so a report's other parameters are judged in the same answer).
report_period read_period(const std::optional<std::string>& from,
                          const std::optional<std::string>& to, time_point now,
                          const period_rules& rules, std::map<std::string, std::string>& errors);

} // namespace cxp::domain
