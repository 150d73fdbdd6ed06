#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace cxp::bench {

/// Milliseconds rounded to microseconds, as the benchmarks print them.
inline double rounded(double ms) {
  return std::round(ms * 1000.0) / 1000.0;
}

/// Nearest-rank percentile of sorted samples (0 when there are none), rounded.
inline double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return rounded(sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1]);
}

} // namespace cxp::bench
