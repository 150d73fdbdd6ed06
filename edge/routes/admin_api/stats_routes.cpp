#include "edge/routes/admin_api/stats_routes.hpp"

#include <map>

#include "common/clock.hpp"
#include "domain/pools/pool_service.hpp"
#include "domain/report_period.hpp"
#include "domain/request_logs/client_agent.hpp"
#include "persistence/request_logs/request_stats_repository.hpp"

namespace cxp::edge {

namespace {

using persistence::stats_dimension;
using persistence::usage_counts;

// The raw logs are read per request, so the period is shorter than the rollups' 93 days.
constexpr auto default_period = std::chrono::hours{24};
constexpr auto longest_period = std::chrono::hours{24 * 31};

const std::map<std::string, stats_dimension, std::less<>> dimensions{
  {"pool", stats_dimension::pool},           {"api_key", stats_dimension::api_key},
  {"account", stats_dimension::account},     {"model", stats_dimension::model},
  {"transport", stats_dimension::transport}, {"client", stats_dimension::client}};

struct stats_query {
  std::optional<std::string> group_by;
  std::optional<std::string> pool_id;
  std::optional<std::string> from;
  std::optional<std::string> to;
};

nlohmann::json counts_json(const usage_counts& counts) {
  return {{"requests", counts.requests},
          {"errors", counts.errors},
          {"input_tokens", counts.input_tokens},
          {"cached_input_tokens", counts.cached_input_tokens},
          {"output_tokens", counts.output_tokens},
          {"reasoning_tokens", counts.reasoning_tokens},
          {"cost_micros", counts.cost_micros},
          {"unpriced_requests", counts.unpriced_requests},
          // Cached input over input: a drop after a client release or a transport fallback is
          // the regression operators look for.
          {"cache_hit_share", counts.input_tokens > 0
                                ? nlohmann::json(static_cast<double>(counts.cached_input_tokens)
                                                 / static_cast<double>(counts.input_tokens))
                                : nlohmann::json()}};
}

caf::expected<nlohmann::json> stats(domain::service_context& services, const domain::principal& who,
                                    const stats_query& query) {
  if (query.pool_id) {
    if (auto pool = domain::pool_service{services}.get(who, *query.pool_id); !pool) {
      return pool.error();
    }
  } else if (auto allowed = domain::require_operator(who); !allowed) {
    return allowed.error();
  }
  std::map<std::string, std::string> errors;
  const auto group_name = query.group_by.value_or("pool");
  const auto dimension = dimensions.find(group_name);
  if (dimension == dimensions.end()) {
    errors["group_by"] = "must be pool, api_key, account, model, transport or client";
  }
  const auto [from, to] = domain::read_period(query.from, query.to, services.clock.now(),
                                              {default_period, longest_period, true}, errors);
  if (!errors.empty()) {
    return make_validation_error(std::move(errors));
  }
  auto rows = persistence::request_stats_repository{services.db}.hourly(
    to_iso8601(from), to_iso8601(to), dimension->second);
  if (!rows) {
    return rows.error();
  }
  // series key -> (totals, hour -> counts); std::map keeps both sorted.
  std::map<std::string, std::pair<usage_counts, std::map<std::string, usage_counts>>> series;
  for (const auto& row : *rows) {
    if (query.pool_id ? row.pool_id != *query.pool_id : !who.can_manage_pool(row.pool_id)) {
      continue;
    }
    auto& [totals, hours] = series[row.group];
    totals.add(row.counts);
    hours[row.bucket_start].add(row.counts);
  }
  nlohmann::json out{{"from", to_iso8601(from)},
                     {"to", to_iso8601(to)},
                     {"group_by", group_name},
                     {"series", nlohmann::json::array()}};
  for (const auto& [key, data] : series) {
    nlohmann::json buckets = nlohmann::json::array();
    for (const auto& [hour, counts] : data.second) {
      auto bucket = counts_json(counts);
      bucket["bucket_start"] = hour;
      buckets.push_back(std::move(bucket));
    }
    nlohmann::json entry{{"key", key.empty() ? nlohmann::json() : nlohmann::json(key)},
                         {"totals", counts_json(data.first)},
                         {"buckets", std::move(buckets)}};
    if (dimension->second == stats_dimension::client) {
      // `family/version` as stored; rows from before the client was recorded have neither.
      const auto client = domain::split_client_label(key);
      entry["family"] = key.empty() ? nlohmann::json() : nlohmann::json(client.family);
      entry["version"] = client.version.empty() ? nlohmann::json() : nlohmann::json(client.version);
    }
    out["series"].push_back(std::move(entry));
  }
  return out;
}

} // namespace

void add_stats_routes(route_table& routes, const admin_runtime& runtime) {
  routes.add(http::verb::get, "/admin/api/stats", [&runtime](const exchange_ptr& ex) {
    stats_query query{query_param(*ex, "group_by"), query_param(*ex, "pool_id"),
                      query_param(*ex, "from"), query_param(*ex, "to")};
    run_admin(
      runtime, ex, admin_access::session,
      [&runtime, query = std::move(query)](const domain::principal& who, const nlohmann::json&) {
        return json_reply(stats(runtime.services, who, query));
      });
  });
}

} // namespace cxp::edge
