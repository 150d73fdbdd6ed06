#include "domain/routing/quota_rows.hpp"

#include "common/clock.hpp"

namespace cxp::domain {

std::vector<persistence::quota_window_row> to_rows(const std::string& account_id,
                                                   const std::vector<quota_window>& windows,
                                                   const std::string& source) {
  std::vector<persistence::quota_window_row> rows;
  for (const auto& window : windows) {
    if (window.window_minutes <= 0) {
      continue;
    }
    rows.push_back(
      {account_id, window.kind, window.window_minutes, window.used_percent,
       window.reset_at ? std::optional<std::string>{to_iso8601(*window.reset_at)} : std::nullopt,
       source, to_iso8601(window.observed_at), window.limit_id,
       window.limit_name.empty() ? std::nullopt : std::optional<std::string>{window.limit_name}});
  }
  return rows;
}

std::vector<quota_window> to_windows(const std::vector<persistence::quota_window_row>& rows) {
  std::vector<quota_window> windows;
  for (const auto& row : rows) {
    windows.push_back({row.window_kind, row.window_minutes, row.used_percent,
                       row.reset_at ? parse_iso8601(*row.reset_at) : std::nullopt,
                       parse_iso8601(row.observed_at).value_or(time_point{}), row.limit_id,
                       row.limit_name.value_or("")});
  }
  return windows;
}

} // namespace cxp::domain
