#include "actors/jobs/kinds/catalog_sync.hpp"

#include <map>

#include "actors/account/account_actor.hpp"
#include "actors/jobs/kinds/job_kit.hpp"
#include "actors/upstream/codex_account_calls.hpp"
#include "common/log.hpp"
#include "persistence/routing/routing_repository.hpp"
#include "persistence/upkeep/pool_catalog_repository.hpp"

namespace cxp::actors::jobs {

namespace {

using slugs = std::vector<std::string>;

/// The account's catalog, fetched and stored, or the stored one when the fetch fails.
caf::expected<slugs> catalog_of(const job_services& services, const std::string& account_id,
                                int64_t& fetch_failures) {
  persistence::routing_repository routing{services.db};
  auto fetched = [&]() -> std::optional<std::vector<nlohmann::json>> {
    auto credentials = credentials_of(services, account_id);
    if (!credentials) {
      return std::nullopt;
    }
    auto answer = call_and_wait(
      *services.runtime.upstream,
      catalog_request(services.runtime.upstream_base_url,
                      {credentials->access_token.expose(), credentials->chatgpt_account_id}));
    if (!answer.ok()) {
      log::warn("jobs", "catalog fetch failed",
                {{"account_id", account_id},
                 {"status", answer.reply.head.status},
                 {"failure", answer.failure ? to_string(*answer.failure) : ""}});
      return std::nullopt;
    }
    return parse_catalog(answer.reply.body);
  }();
  slugs served;
  if (!fetched) {
    ++fetch_failures;
    auto stored = routing.models(account_id);
    if (!stored) {
      return std::move(stored.error());
    }
    for (const auto& model : *stored) {
      served.push_back(model.slug);
    }
    return served;
  }
  std::vector<persistence::account_model_row> rows;
  const auto at = to_iso8601(now_of(services));
  for (const auto& model : *fetched) {
    served.push_back(model["slug"].get<std::string>());
    rows.push_back({account_id, served.back(), model.dump(), at});
  }
  if (auto replaced = routing.replace_models(account_id, rows); !replaced) {
    return std::move(replaced.error());
  }
  return served;
}

} // namespace

job_outcome sync_catalogs(const job_services& services, const job_run& run) {
  auto settings = current_settings(services.db);
  if (!settings) {
    return std::move(settings.error());
  }
  persistence::routing_repository routing{services.db};
  auto pools = routing.pools();
  auto accounts = routing.assigned_accounts();
  if (!pools || !accounts) {
    return !pools ? std::move(pools.error()) : std::move(accounts.error());
  }
  std::map<std::string, bool> active_accounts;
  for (const auto& account : *accounts) {
    active_accounts[account.id] = account.status == "active";
  }
  const auto now = now_of(services);
  const auto retire_before = to_iso8601(now - settings->catalog.model_retire_after);
  std::map<std::string, slugs> catalogs; // an account in several pools is fetched once
  int64_t fetch_failures = 0;
  nlohmann::json per_pool = nlohmann::json::object();
  for (const auto& pool : *pools) {
    if (pool.status != "active" || (run.pool_id && *run.pool_id != pool.id)) {
      continue;
    }
    std::map<std::string, int32_t> served;
    for (const auto& account_id : pool.account_ids) {
      if (!active_accounts[account_id]) {
        continue;
      }
      auto known = catalogs.find(account_id);
      if (known == catalogs.end()) {
        auto catalog = catalog_of(services, account_id, fetch_failures);
        if (!catalog) {
          return std::move(catalog.error());
        }
        known = catalogs.emplace(account_id, std::move(*catalog)).first;
      }
      for (const auto& slug : known->second) {
        ++served[slug];
      }
    }
    auto change = persistence::pool_catalog_repository{services.db}.record(
      pool.id, served, to_iso8601(now), retire_before);
    if (!change) {
      return std::move(change.error());
    }
    per_pool[pool.id] = {{"active", change->active},
                         {"added", change->added},
                         {"revived", change->revived},
                         {"stale", change->stale},
                         {"retired", change->retired}};
  }
  return nlohmann::json{
    {"pools", per_pool}, {"accounts_fetched", catalogs.size()}, {"fetch_failures", fetch_failures}};
}

} // namespace cxp::actors::jobs
