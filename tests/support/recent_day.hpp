#pragma once

#include <chrono>
#include <string>

#include "common/clock.hpp"

namespace cxp::test {

/// Yesterday's UTC date, "YYYY-MM-DD". Rows dated on it stay inside the retention window of the
/// gateway under test (whose retention job may run at any moment), whatever day the suite runs.
inline std::string recent_day() {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  return to_iso8601(today - std::chrono::days{1}).substr(0, 10);
}

} // namespace cxp::test
