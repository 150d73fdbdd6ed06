#include "domain/mcp/mcp_quota_view.hpp"

#include "domain/routing/quota.hpp"

namespace cxp::domain {

namespace {

template <class T>
nlohmann::json nullable(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

constexpr double exhausted_percent = 100.0;

} // namespace

nlohmann::json quota_view(const account_view& account,
                          const std::vector<persistence::quota_window_row>& windows,
                          time_point now) {
  nlohmann::json rendered = nlohmann::json::array();
  std::optional<time_point> newest_observation;
  std::optional<time_point> exhausted_until;
  for (const auto& window : windows) {
    rendered.push_back({{"limit_id", window.limit_id},
                        {"limit_name", nullable(window.limit_name)},
                        {"window_kind", window.window_kind},
                        {"window_minutes", window.window_minutes},
                        {"used_percent", window.used_percent},
                        {"reset_at", nullable(window.reset_at)},
                        {"observed_at", window.observed_at},
                        {"source", window.source}});
    if (auto observed = parse_iso8601(window.observed_at);
        observed && (!newest_observation || *observed > *newest_observation)) {
      newest_observation = observed;
    }
    const auto reset = window.reset_at ? parse_iso8601(*window.reset_at) : std::nullopt;
    if (window.limit_id == main_limit && window.used_percent >= exhausted_percent && reset
        && *reset > now && (!exhausted_until || *reset > *exhausted_until)) {
      exhausted_until = reset;
    }
  }
  std::string freshness = "missing";
  if (newest_observation) {
    freshness = now - *newest_observation <= quota_freshness ? "fresh" : "stale";
  }
  return {{"account_id", account.id},
          {"label", nullable(account.label)},
          {"email", nullable(account.email)},
          {"plan_type", nullable(account.plan_type)},
          {"status", account.status},
          {"pool_ids", account.pool_ids},
          {"windows", rendered},
          {"freshness_status", freshness},
          {"routing_usable", account.status == "active" && !exhausted_until},
          {"exhausted_until",
           exhausted_until ? nlohmann::json(to_iso8601(*exhausted_until)) : nlohmann::json()}};
}

} // namespace cxp::domain
