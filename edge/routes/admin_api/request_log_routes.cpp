#include "domain/request_logs/request_log_service.hpp"
#include "edge/routes/admin_api/admin_routes.hpp"

namespace cxp::edge {

using nlohmann::json;

void add_request_log_routes(route_table& routes, const admin_runtime& runtime) {
  routes.add(http::verb::get, "/admin/api/request-logs", [&runtime](const exchange_ptr& ex) {
    domain::request_log_query query;
    query.pool_id = query_param(*ex, "pool_id");
    query.api_key_id = query_param(*ex, "api_key_id");
    query.account_id = query_param(*ex, "account_id");
    query.model = query_param(*ex, "model");
    query.outcome = query_param(*ex, "outcome");
    query.status_code = query_param(*ex, "status_code");
    query.from = query_param(*ex, "from");
    query.to = query_param(*ex, "to");
    query.page = page_from_query(*ex);
    run_admin(runtime, ex, admin_access::session,
              [&runtime, query = std::move(query)](const domain::principal& who, const json&) {
                return json_reply(domain::request_log_service{runtime.services}.list(who, query));
              });
  });
  routes.add(http::verb::get, "/admin/api/request-logs/:id", [&runtime](const exchange_ptr& ex) {
    run_admin(
      runtime, ex, admin_access::session,
      [&runtime, id = std::string{ex->param("id")}](const domain::principal& who, const json&) {
        return json_reply(domain::request_log_service{runtime.services}.get(who, id));
      });
  });
}

} // namespace cxp::edge
