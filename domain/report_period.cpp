#include "domain/report_period.hpp"

namespace cxp::domain {

report_period read_period(const std::optional<std::string>& from,
                          const std::optional<std::string>& to, time_point now,
                          const period_rules& rules, std::map<std::string, std::string>& errors) {
  auto bound = [&errors](const std::optional<std::string>& text, const char* name,
                         time_point fallback) {
    if (!text) {
      return fallback;
    }
    auto at = parse_iso8601(*text);
    if (!at) {
      errors[name] = "must be an ISO-8601 UTC time such as 2026-11-24T10:00:00Z";
      return fallback;
    }
    return *at;
  };
  report_period period;
  period.to = bound(to, "to", now);
  period.from = bound(from, "from", period.to - rules.default_length);
  if (rules.hour_aligned_from) {
    period.from = std::chrono::floor<std::chrono::hours>(period.from);
  }
  if (errors.empty() && (period.from >= period.to || period.to - period.from > rules.longest)) {
    errors["from"] =
      "must be before to, at most " + std::to_string(rules.longest.count() / 24) + " days earlier";
  }
  return period;
}

} // namespace cxp::domain
