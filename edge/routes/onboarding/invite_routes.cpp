#include "edge/routes/onboarding/invite_routes.hpp"

#include <boost/beast/http/field.hpp>

#include "domain/onboarding/upstream_invite_service.hpp"
#include "edge/routes/onboarding/invite_page_assets.hpp"
#include "edge/server/actor_bridge.hpp"

namespace cxp::edge {

namespace {

constexpr auto invite_timeout = std::chrono::seconds{40};
constexpr std::string_view page_policy =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

boost::beast::string_view view(std::string_view text) {
  return {text.data(), text.size()};
}

void set_page_headers(http_response& response) {
  response.set("content-security-policy", view(page_policy));
  response.set("x-content-type-options", "nosniff");
  response.set("referrer-policy", "no-referrer");
  response.set("x-frame-options", "DENY");
  response.set("cross-origin-opener-policy", "same-origin");
  response.set(http::field::cache_control, "no-store");
}

void respond_text(const exchange_ptr& ex, std::string_view type, std::string_view body) {
  http_response response{http::status::ok, ex->request().version()};
  set_page_headers(response);
  response.set(http::field::content_type, view(type));
  response.body() = std::string{body};
  ex->respond(std::move(response));
}

std::string header(const exchange& ex, http::field name) {
  auto value = ex.request()[name];
  return std::string{value.data(), value.size()};
}

using invite_work =
  std::function<caf::expected<domain::invite_page_state>(domain::upstream_invite_service&)>;

void run_invite(const onboarding_runtime& runtime, const exchange_ptr& ex, invite_work work) {
  run_db<nlohmann::json>(
    runtime.admin.system, runtime.admin.db_pool, invite_timeout,
    [&runtime, work = std::move(work)](persistence::database&) -> caf::expected<nlohmann::json> {
      domain::onboarding_service flows{runtime.admin.services, runtime.options, *runtime.transport};
      domain::upstream_invite_service invites{runtime.admin.services, flows};
      auto state = work(invites);
      if (!state) {
        return state.error();
      }
      return domain::to_json(*state);
    },
    [ex](caf::expected<nlohmann::json> body) {
      if (!body) {
        return ex->respond_error(body.error());
      }
      http_response response{http::status::ok, ex->request().version()};
      set_page_headers(response);
      response.set(http::field::content_type, "application/json");
      response.body() = body->dump();
      ex->respond(std::move(response));
    });
}

} // namespace

void add_invite_page_routes(route_table& routes, const onboarding_runtime& runtime) {
  routes.add(http::verb::get, "/onboarding/invites/:token", [](const exchange_ptr& ex) {
    respond_text(ex, "text/html; charset=utf-8", invite_page_html);
  });
  routes.add(http::verb::get, "/onboarding/assets/invite.js", [](const exchange_ptr& ex) {
    respond_text(ex, "text/javascript; charset=utf-8", invite_page_js);
  });
  routes.add(http::verb::get, "/onboarding/assets/invite.css", [](const exchange_ptr& ex) {
    respond_text(ex, "text/css; charset=utf-8", invite_page_css);
  });
  routes.add(http::verb::get, "/onboarding/api/invites/:token", [&runtime](const exchange_ptr& ex) {
    run_invite(runtime, ex,
               [token = std::string{ex->param("token")}](domain::upstream_invite_service& invites) {
                 return invites.open(token);
               });
  });
  routes.add(
    http::verb::post, "/onboarding/api/invites/:token/device", [&runtime](const exchange_ptr& ex) {
      // JSON only (a cross-site form cannot send it without a preflight) and, when the
      // browser names an origin, ours.
      const auto origin = header(*ex, http::field::origin);
      const auto host = header(*ex, http::field::host);
      if (header(*ex, http::field::content_type).find("application/json") == std::string::npos) {
        return ex->respond_error(errc::unsupported_media_type);
      }
      if (!origin.empty() && origin != "http://" + host && origin != "https://" + host) {
        return ex->respond_error(errc::origin_not_allowed);
      }
      run_invite(
        runtime, ex,
        [token = std::string{ex->param("token")}](domain::upstream_invite_service& invites) {
          return invites.start_device(token);
        });
    });
}

} // namespace cxp::edge
