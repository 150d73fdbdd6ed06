#include "domain/pools/pool_usage_service.hpp"
#include "edge/routes/admin_api/admin_routes.hpp"

namespace cxp::edge {

using nlohmann::json;

void add_pool_usage_routes(route_table& routes, const admin_runtime& runtime) {
  routes.add(http::verb::get, "/admin/api/pools/:id/models", [&runtime](const exchange_ptr& ex) {
    run_admin(runtime, ex, admin_access::session,
              [&runtime, id = std::string{ex->param("id")}](
                const domain::principal& who, const json&) -> caf::expected<admin_reply> {
                auto models = domain::pool_usage_service{runtime.services}.models(who, id);
                if (!models) {
                  return models.error();
                }
                json items = json::array();
                for (const auto& model : *models) {
                  items.push_back(domain::to_json(model));
                }
                return json_reply(json{{"items", std::move(items)}});
              });
  });
  routes.add(http::verb::get, "/admin/api/usage", [&runtime](const exchange_ptr& ex) {
    domain::usage_query query{query_param(*ex, "pool_id"), query_param(*ex, "from"),
                              query_param(*ex, "to")};
    run_admin(runtime, ex, admin_access::session,
              [&runtime, query = std::move(query)](const domain::principal& who,
                                                   const json&) -> caf::expected<admin_reply> {
                auto report = domain::pool_usage_service{runtime.services}.usage(who, query);
                if (!report) {
                  return report.error();
                }
                return json_reply(domain::to_json(*report));
              });
  });
}

} // namespace cxp::edge
