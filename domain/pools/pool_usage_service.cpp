#include "domain/pools/pool_usage_service.hpp"

#include <algorithm>
#include <map>

#include "domain/admin_input.hpp"
#include "domain/pools/pool_service.hpp"
#include "domain/report_period.hpp"

namespace cxp::domain {

namespace {

using nlohmann::json;

constexpr auto default_period = std::chrono::hours{24};
constexpr auto longest_period = std::chrono::hours{24 * 93};

json totals_json(const usage_totals& totals) {
  return {
    {"requests", totals.requests},           {"errors", totals.errors},
    {"input_tokens", totals.input_tokens},   {"cached_input_tokens", totals.cached_input_tokens},
    {"output_tokens", totals.output_tokens}, {"reasoning_tokens", totals.reasoning_tokens},
    {"cost_micros", totals.cost_micros},     {"unpriced_requests", totals.unpriced_requests}};
}

json breakdown_json(const std::vector<std::pair<std::string, usage_totals>>& groups,
                    const char* key) {
  json out = json::array();
  for (const auto& [name, totals] : groups) {
    auto entry = totals_json(totals);
    entry[key] = name;
    out.push_back(std::move(entry));
  }
  return out;
}

std::vector<std::pair<std::string, usage_totals>>
sorted(const std::map<std::string, usage_totals>& groups) {
  return {groups.begin(), groups.end()};
}

} // namespace

usage_report summarize_usage(std::string from, std::string to,
                             const std::vector<persistence::usage_rollup_row>& rows) {
  usage_report report;
  report.from = std::move(from);
  report.to = std::move(to);
  std::map<std::string, usage_totals> by_pool;
  std::map<std::string, usage_totals> by_model;
  std::map<std::string, usage_totals> by_hour;
  for (const auto& row : rows) {
    report.totals.add(row.counts);
    by_pool[row.pool_id].add(row.counts);
    by_model[row.model].add(row.counts);
    by_hour[row.bucket_start].add(row.counts);
  }
  report.by_pool = sorted(by_pool);
  report.by_model = sorted(by_model);
  report.by_hour = sorted(by_hour);
  return report;
}

json to_json(const usage_report& report) {
  return {{"from", report.from},
          {"to", report.to},
          {"totals", totals_json(report.totals)},
          {"by_pool", breakdown_json(report.by_pool, "pool_id")},
          {"by_model", breakdown_json(report.by_model, "model")},
          {"by_hour", breakdown_json(report.by_hour, "bucket_start")}};
}

json to_json(const persistence::pool_model_row& model) {
  auto optional_text = [](const std::optional<std::string>& text) {
    return text ? json(*text) : json(nullptr);
  };
  return {{"slug", model.slug},
          {"status", model.status},
          {"account_count", model.account_count},
          {"first_seen_at", model.first_seen_at},
          {"last_seen_at", model.last_seen_at},
          {"stale_at", optional_text(model.stale_at)},
          {"retired_at", optional_text(model.retired_at)},
          {"synced_at", model.synced_at}};
}

caf::expected<std::vector<persistence::pool_model_row>>
pool_usage_service::models(const principal& who, const std::string& pool_id) {
  if (auto pool = pool_service{context_}.get(who, pool_id); !pool) {
    return pool.error();
  }
  return persistence::pool_catalog_repository{context_.db}.models(pool_id);
}

caf::expected<usage_report> pool_usage_service::usage(const principal& who,
                                                      const usage_query& query) {
  if (query.pool_id) {
    if (auto pool = pool_service{context_}.get(who, *query.pool_id); !pool) {
      return pool.error();
    }
  } else if (auto allowed = require_operator(who); !allowed) {
    return allowed.error();
  }
  std::map<std::string, std::string> errors;
  const auto [from, to] = read_period(query.from, query.to, context_.clock.now(),
                                      {default_period, longest_period, false}, errors);
  if (!errors.empty()) {
    return make_validation_error(std::move(errors));
  }
  // Rollups are hourly: the period starts at the hour holding `from`.
  const auto first_hour = std::chrono::floor<std::chrono::hours>(from);
  auto rows = persistence::usage_rollup_repository{context_.db}.list(to_iso8601(first_hour),
                                                                     to_iso8601(to), query.pool_id);
  if (!rows) {
    return rows.error();
  }
  if (!who.is_owner()) {
    std::erase_if(*rows, [&who](const persistence::usage_rollup_row& row) {
      return !who.can_manage_pool(row.pool_id);
    });
  }
  return summarize_usage(to_iso8601(first_hour), to_iso8601(to), *rows);
}

} // namespace cxp::domain
