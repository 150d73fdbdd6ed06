#include "edge/routes/admin_api/quota_routes.hpp"

#include <set>

#include "domain/accounts/account_service.hpp"
#include "persistence/routing/routing_repository.hpp"

namespace cxp::edge {

namespace {

// The account listing pages through at most this many accounts per answer (200 a page).
constexpr int max_account_pages = 50;

nlohmann::json to_json(const persistence::quota_window_row& window) {
  return {{"account_id", window.account_id},
          {"limit_id", window.limit_id},
          {"limit_name", window.limit_name ? nlohmann::json(*window.limit_name) : nullptr},
          {"window_kind", window.window_kind},
          {"window_minutes", window.window_minutes},
          {"used_percent", window.used_percent},
          {"reset_at", window.reset_at ? nlohmann::json(*window.reset_at) : nullptr},
          {"source", window.source},
          {"observed_at", window.observed_at}};
}

/// The ids of the accounts `who` may see, through the account service so the scope rules are
/// the listing's own.
caf::expected<std::set<std::string>> visible_accounts(domain::service_context& services,
                                                      const domain::principal& who,
                                                      std::optional<std::string> pool_id) {
  domain::account_filter filter;
  filter.pool_id = std::move(pool_id);
  filter.page.limit = domain::page_request::max_limit;
  std::set<std::string> ids;
  for (int page = 0; page < max_account_pages; ++page) {
    auto listed = domain::account_service{services}.list(who, filter);
    if (!listed) {
      return listed.error();
    }
    for (const auto& account : listed->items) {
      ids.insert(account.id);
    }
    if (!listed->next_cursor) {
      break;
    }
    filter.page.cursor = listed->next_cursor;
  }
  return ids;
}

} // namespace

void add_quota_routes(route_table& routes, const admin_runtime& runtime) {
  routes.add(http::verb::get, "/admin/api/quota-windows", [&runtime](const exchange_ptr& ex) {
    run_admin(runtime, ex, admin_access::session,
              [&runtime, pool_id = query_param(*ex, "pool_id")](
                const domain::principal& who, const nlohmann::json&) -> caf::expected<admin_reply> {
                auto visible = visible_accounts(runtime.services, who, pool_id);
                if (!visible) {
                  return visible.error();
                }
                auto windows =
                  persistence::routing_repository{runtime.services.db}.quota_windows_since("");
                if (!windows) {
                  return windows.error();
                }
                admin_reply reply;
                reply.body = {{"items", nlohmann::json::array()}};
                for (const auto& window : *windows) {
                  if (visible->contains(window.account_id)) {
                    reply.body["items"].push_back(to_json(window));
                  }
                }
                return reply;
              });
  });
}

} // namespace cxp::edge
