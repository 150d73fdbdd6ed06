#include "edge/routes/health_routes.hpp"

#include <boost/beast/http/field.hpp>

#include "common/metrics/text_serializer.hpp"
#include "edge/server/actor_bridge.hpp"

namespace cxp::edge {

namespace {

constexpr auto readiness_timeout = std::chrono::milliseconds{1'000};

void respond_status(const exchange_ptr& ex, http::status status, std::string_view text) {
  ex->respond_json(status, {{"status", text}});
}

} // namespace

void add_health_routes(route_table& routes, const health_context& context) {
  routes.add(http::verb::get, "/healthz", [](const exchange_ptr& ex) { respond_status(ex, http::status::ok, "ok"); });

  routes.add(http::verb::get, "/readyz", [context](const exchange_ptr& ex) {
    if (context.state.draining) {
      return respond_status(ex, http::status::service_unavailable, "unavailable");
    }
    run_db<bool>(
      context.system, context.db_pool, readiness_timeout,
      [](persistence::database& db) -> caf::expected<bool> {
        auto pinged = db.ping();
        if (!pinged) {
          return pinged.error();
        }
        return true;
      },
      [ex](caf::expected<bool> ready) {
        if (ready) {
          respond_status(ex, http::status::ok, "ready");
        } else {
          respond_status(ex, http::status::service_unavailable, "unavailable");
        }
      });
  });

  routes.add(http::verb::get, "/metrics", [&registry = context.registry](const exchange_ptr& ex) {
    http_response response{http::status::ok, ex->request().version()};
    response.set(http::field::content_type, std::string{metrics::text_content_type});
    response.body() = metrics::serialize_text(registry.collect());
    ex->respond(std::move(response));
  });
}

} // namespace cxp::edge
