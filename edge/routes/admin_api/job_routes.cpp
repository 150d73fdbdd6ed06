#include "domain/jobs/job_service.hpp"
#include "edge/routes/admin_api/admin_body.hpp"
#include "edge/routes/admin_api/admin_routes.hpp"

namespace cxp::edge {

namespace {

using nlohmann::json;

caf::expected<admin_reply> list_jobs(domain::service_context& services,
                                     const domain::principal& who, const domain::job_query& query) {
  auto page = domain::job_service{services}.list(who, query);
  if (!page) {
    return page.error();
  }
  json items = json::array();
  for (const auto& job : page->items) {
    items.push_back(domain::to_json(job));
  }
  return admin_reply{
    http::status::ok,
    {{"items", items},
     {"next_cursor", page->next_cursor ? json(*page->next_cursor) : json(nullptr)}},
    {}};
}

caf::expected<admin_reply> run_job(domain::service_context& services, const domain::principal& who,
                                   const json& body) {
  admin_body in{body};
  in.reject_unknown({"kind", "pool_id"});
  in.require("kind");
  auto kind = in.text("kind");
  auto pool_id = in.nullable_text("pool_id");
  if (auto invalid = in.error()) {
    return std::move(*invalid);
  }
  auto run =
    domain::job_service{services}.run(who, {kind.value_or(""), pool_id.value_or(std::nullopt)});
  if (!run) {
    return run.error();
  }
  // Accepted: a worker node runs it; the answer names the run to follow in the list.
  return admin_reply{
    http::status::accepted, {{"job", domain::to_json(run->job)}, {"created", run->created}}, {}};
}

} // namespace

void add_job_routes(route_table& routes, const admin_runtime& runtime) {
  routes.add(http::verb::get, "/admin/api/jobs", [&runtime](const exchange_ptr& ex) {
    domain::job_query query;
    query.kind = query_param(*ex, "kind");
    query.state = query_param(*ex, "state");
    query.page = page_from_query(*ex);
    run_admin(runtime, ex, admin_access::session,
              [&runtime, query = std::move(query)](const domain::principal& who, const json&) {
                return list_jobs(runtime.services, who, query);
              });
  });
  routes.add(http::verb::post, "/admin/api/jobs", [&runtime](const exchange_ptr& ex) {
    run_admin(runtime, ex, admin_access::session,
              [&runtime](const domain::principal& who, const json& body) {
                return run_job(runtime.services, who, body);
              });
  });
}

} // namespace cxp::edge
