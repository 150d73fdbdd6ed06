#include "edge/routes/codex/pool_documents.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "common/encoding.hpp"

namespace cxp::edge {

namespace {

using nlohmann::json;

bool allowed(const std::optional<std::vector<std::string>>& allowed_models,
             const std::string& slug) {
  if (!allowed_models) {
    return true;
  }
  return std::any_of(allowed_models->begin(), allowed_models->end(),
                     [&](const auto& model) { return ascii_iequals(model, slug); });
}

int64_t unix_seconds(time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

/// One aggregated window, or null when no account reported it freshly.
json window_document(const actors::pool_view& view, const std::string& kind, time_point now) {
  double used_sum = 0;
  int reporters = 0;
  int32_t minutes = 0;
  std::optional<time_point> earliest_reset;
  for (const auto& account : view.accounts) {
    if (!account.routable()) {
      continue;
    }
    for (const auto& window : account.quota) {
      if (window.kind != kind || window.limit_id != domain::main_limit
          || now - window.observed_at > domain::quota_freshness) {
        continue;
      }
      used_sum += std::clamp(window.used_percent, 0.0, 100.0);
      ++reporters;
      minutes = std::max(minutes, window.window_minutes);
      if (window.reset_at && *window.reset_at > now
          && (!earliest_reset || *window.reset_at < *earliest_reset)) {
        earliest_reset = window.reset_at;
      }
    }
  }
  if (reporters == 0) {
    return nullptr;
  }
  json document = {{"used_percent", static_cast<int32_t>(std::lround(used_sum / reporters))},
                   {"limit_window_seconds", minutes * 60}};
  if (earliest_reset) {
    document["reset_at"] = unix_seconds(*earliest_reset);
    document["reset_after_seconds"] = unix_seconds(*earliest_reset) - unix_seconds(now);
  }
  return document;
}

} // namespace

json pool_catalog(const actors::pool_view& view,
                  const std::optional<std::vector<std::string>>& allowed_models) {
  std::map<std::string, json> by_slug;
  for (const auto& account : view.accounts) {
    if (!account.routable() || !account.models) {
      continue;
    }
    for (const auto& model : *account.models) {
      const auto slug = model.value("slug", std::string{});
      if (!slug.empty() && allowed(allowed_models, slug) && !by_slug.count(slug)) {
        by_slug.emplace(slug, model);
      }
    }
  }
  std::vector<json> models;
  for (auto& [slug, model] : by_slug) {
    models.push_back(std::move(model));
  }
  std::stable_sort(models.begin(), models.end(), [](const json& a, const json& b) {
    return a.value("priority", 0) < b.value("priority", 0);
  });
  return {{"models", models}};
}

json pool_usage(const actors::pool_view& view, time_point now) {
  std::map<std::string, int> plans;
  int routable = 0;
  int exhausted = 0;
  for (const auto& account : view.accounts) {
    if (!account.routable()) {
      continue;
    }
    ++routable;
    if (!account.plan_type.empty()) {
      ++plans[account.plan_type];
    }
    auto windows = account.quota;
    if (account.exhausted_until && *account.exhausted_until > now) {
      windows.push_back({"usage_limit", 0, 100.0, account.exhausted_until, now,
                         std::string{domain::main_limit}, ""});
    }
    if (domain::is_exhausted(domain::covering(windows, {}), now)) {
      ++exhausted;
    }
  }
  std::string plan = "plus";
  int best = 0;
  for (const auto& [name, count] : plans) {
    if (count > best) {
      plan = name;
      best = count;
    }
  }
  const bool limit_reached = routable == 0 || exhausted == routable;
  json rate_limit = {{"allowed", !limit_reached},
                     {"limit_reached", limit_reached},
                     {"primary_window", window_document(view, "primary", now)},
                     {"secondary_window", window_document(view, "secondary", now)}};
  return {{"plan_type", plan},
          {"rate_limit", rate_limit},
          {"credits", {{"has_credits", false}, {"unlimited", false}, {"balance", "0"}}},
          {"additional_rate_limits", json::array()},
          {"rate_limit_reached_type",
           limit_reached ? json{{"type", "rate_limit_reached"}} : json(nullptr)}};
}

} // namespace cxp::edge
