#include "edge/routes/codex/pool_documents.hpp"

#include <algorithm>
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

domain::pooled_quota pool_quota_of(const actors::pool_view& view, time_point now) {
  std::vector<domain::quota_member> members;
  for (const auto& account : view.accounts) {
    members.push_back(actors::quota_member_of(account));
  }
  return domain::tighten(domain::pool_quota(members, now), view.key_windows);
}

json pool_usage(const actors::pool_view& view, time_point now) {
  return domain::usage_document(pool_quota_of(view, now), now);
}

} // namespace cxp::edge
