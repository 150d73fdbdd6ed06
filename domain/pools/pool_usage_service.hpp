#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "domain/admin_context.hpp"
#include "persistence/upkeep/pool_catalog_repository.hpp"
#include "persistence/upkeep/usage_rollup_repository.hpp"

namespace cxp::domain {

/// Sums of usage over a set of hourly rollups.
using usage_totals = persistence::usage_counts;

/// A period's usage: the totals, and the same sums by pool, by model and by hour (each sorted
/// by its key).
struct usage_report {
  std::string from;
  std::string to;
  usage_totals totals;
  std::vector<std::pair<std::string, usage_totals>> by_pool;
  std::vector<std::pair<std::string, usage_totals>> by_model;
  std::vector<std::pair<std::string, usage_totals>> by_hour;
};

/// Builds the report of `rows` (already limited to the period and the caller's pools).
usage_report summarize_usage(std::string from, std::string to,
                             const std::vector<persistence::usage_rollup_row>& rows);

nlohmann::json to_json(const usage_report& report);
nlohmann::json to_json(const persistence::pool_model_row& model);

/// What a period of usage asks for: ISO-8601 bounds (`from` inclusive, `to` exclusive; default
/// the last 24 hours) and optionally one pool.
struct usage_query {
  std::optional<std::string> pool_id;
  std::optional<std::string> from;
  std::optional<std::string> to;
};

/// What the pools served and used: their model catalogs (kept by the catalog sync job) and
/// their usage (the hourly rollups). Operators only; an instance admin sees its pools only.
class pool_usage_service {
public:
  explicit pool_usage_service(service_context& context) : context_(context) {}

  /// The pool's models with their status (active, stale, retired).
  caf::expected<std::vector<persistence::pool_model_row>> models(const principal& who,
                                                                 const std::string& pool_id);

  /// A period's usage. The period is at most 93 days; bad bounds are a validation error naming
  /// each.
  caf::expected<usage_report> usage(const principal& who, const usage_query& query);

private:
  service_context& context_;
};

} // namespace cxp::domain
