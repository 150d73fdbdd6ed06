#include "edge/routes/admin_api/onboarding_routes.hpp"

#include "domain/onboarding/upstream_invite_service.hpp"
#include "edge/routes/admin_api/admin_body.hpp"
#include "persistence/accounts/account_repository.hpp"

namespace cxp::edge {

namespace {

using domain::onboarding_service;
using domain::principal;
using domain::upstream_invite_service;
using nlohmann::json;

/// What a handler gets: the services, the caller, the `:id` parameter and the body.
struct onboarding_call {
  onboarding_service& flows;
  upstream_invite_service& invites;
  domain::service_context& context;
  const principal& who;
  const std::string& id;
  const std::optional<std::string>& pool_filter;
  const json& body;
};

using onboarding_handler = std::function<caf::expected<admin_reply>(onboarding_call&)>;

void add_route(route_table& routes, const onboarding_runtime& runtime, http::verb method,
               std::string pattern, onboarding_handler handler) {
  routes.add(method, std::move(pattern), [&runtime, handler](const exchange_ptr& ex) {
    run_admin(
      runtime.admin, ex, admin_access::session,
      [&runtime, handler, id = std::string{ex->param("id")},
       pool = query_param(*ex, "pool_id")](const principal& who, const json& body) {
        onboarding_service flows{runtime.admin.services, runtime.options, *runtime.transport};
        upstream_invite_service invites{runtime.admin.services, flows};
        onboarding_call call{flows, invites, runtime.admin.services, who, id, pool, body};
        return handler(call);
      });
  });
}

caf::expected<domain::flow_start_request> start_request(const json& body,
                                                        std::optional<std::string> account_id) {
  admin_body in{body};
  in.reject_unknown(account_id ? std::initializer_list<std::string_view>{"pool_id", "method"}
                               : std::initializer_list<std::string_view>{"pool_id", "account_id"});
  auto pool_id = in.text("pool_id");
  auto account = in.text("account_id");
  if (!account_id) {
    in.require("pool_id");
  }
  if (auto invalid = in.error()) {
    return std::move(*invalid);
  }
  return domain::flow_start_request{pool_id.value_or(""), account_id ? account_id : account};
}

caf::expected<admin_reply> start_browser(onboarding_call& call,
                                         const domain::flow_start_request& request) {
  auto started = call.flows.start_browser(call.who, request);
  if (!started) {
    return started.error();
  }
  // The authorize URL holds the state: it is in this answer only.
  return admin_reply{
    http::status::created,
    {{"flow", domain::to_json(started->flow)}, {"authorize_url", started->authorize_url}},
    {}};
}

caf::expected<admin_reply> start_device(onboarding_call& call,
                                        const domain::flow_start_request& request) {
  auto started = call.flows.start_device(call.who, request);
  if (!started) {
    return started.error();
  }
  return admin_reply{http::status::created, {{"flow", domain::to_json(*started)}}, {}};
}

caf::expected<admin_reply> relink(onboarding_call& call) {
  admin_body in{call.body};
  in.require("method");
  const auto* method = in.value(
    "method", [](const json& v) { return v.is_string() && (v == "browser" || v == "device"); },
    "must be browser or device");
  auto request = start_request(call.body, call.id);
  if (auto invalid = in.error()) {
    return std::move(*invalid);
  }
  if (!request) {
    return request.error();
  }
  if (request->pool_id.empty()) {
    // By default the account is relinked for the first pool it serves.
    auto pools = call.context.db.transact([&](persistence::unit_of_work& sql) {
      return persistence::account_repository::pool_ids_in(sql, call.id);
    });
    if (!pools) {
      return pools.error();
    }
    if (pools->empty()) {
      return make_validation_error({{"pool_id", "is required: the account serves no pool"}});
    }
    request->pool_id = pools->front();
  }
  return *method == "browser" ? start_browser(call, *request) : start_device(call, *request);
}

caf::expected<admin_reply> created_invite(caf::expected<domain::created_upstream_invite> created) {
  if (!created) {
    return created.error();
  }
  // The token (and so the link) is in this answer only: it is stored as a keyed hash.
  return admin_reply{http::status::created,
                     {{"invite", domain::to_json(created->invite)},
                      {"token", created->token.expose()},
                      {"path", created->path}},
                     {}};
}

} // namespace

void add_onboarding_routes(route_table& routes, const onboarding_runtime& runtime) {
  add_route(routes, runtime, http::verb::post, "/admin/api/upstreams/oauth/browser",
            [](onboarding_call& call) -> caf::expected<admin_reply> {
              auto request = start_request(call.body, std::nullopt);
              if (!request) {
                return request.error();
              }
              return start_browser(call, *request);
            });
  add_route(routes, runtime, http::verb::post, "/admin/api/upstreams/oauth/browser/complete",
            [](onboarding_call& call) -> caf::expected<admin_reply> {
              admin_body in{call.body};
              in.reject_unknown({"callback_url"});
              in.require("callback_url");
              auto pasted = in.text("callback_url");
              if (auto invalid = in.error()) {
                return std::move(*invalid);
              }
              auto done = call.flows.complete_browser(call.who, *pasted);
              if (!done) {
                return done.error();
              }
              return admin_reply{http::status::ok, {{"flow", domain::to_json(*done)}}, {}};
            });
  add_route(routes, runtime, http::verb::post, "/admin/api/upstreams/oauth/device",
            [](onboarding_call& call) -> caf::expected<admin_reply> {
              auto request = start_request(call.body, std::nullopt);
              if (!request) {
                return request.error();
              }
              return start_device(call, *request);
            });
  add_route(routes, runtime, http::verb::get, "/admin/api/upstreams/oauth/flows/:id",
            [](onboarding_call& call) -> caf::expected<admin_reply> {
              auto flow = call.flows.get(call.who, call.id);
              if (!flow) {
                return flow.error();
              }
              return admin_reply{http::status::ok, {{"flow", domain::to_json(*flow)}}, {}};
            });
  add_route(routes, runtime, http::verb::post, "/admin/api/upstreams/:id/relink", relink);
  add_route(
    routes, runtime, http::verb::get, "/admin/api/upstream-invites",
    [](onboarding_call& call) -> caf::expected<admin_reply> {
      auto invites = call.invites.list(call.who, call.pool_filter);
      if (!invites) {
        return invites.error();
      }
      json items = json::array();
      for (const auto& invite : *invites) {
        items.push_back(domain::to_json(invite));
      }
      return admin_reply{http::status::ok, {{"items", items}, {"next_cursor", nullptr}}, {}};
    });
  add_route(routes, runtime, http::verb::post, "/admin/api/upstream-invites",
            [](onboarding_call& call) -> caf::expected<admin_reply> {
              admin_body in{call.body};
              in.reject_unknown({"pool_id", "email"});
              in.require("pool_id");
              in.require("email");
              auto pool_id = in.text("pool_id");
              auto email = in.text("email");
              if (auto invalid = in.error()) {
                return std::move(*invalid);
              }
              return created_invite(call.invites.create(call.who, *pool_id, *email));
            });
  add_route(routes, runtime, http::verb::post, "/admin/api/upstream-invites/:id/revoke",
            [](onboarding_call& call) -> caf::expected<admin_reply> {
              auto revoked = call.invites.revoke(call.who, call.id);
              if (!revoked) {
                return revoked.error();
              }
              return admin_reply{http::status::ok, {{"invite", domain::to_json(*revoked)}}, {}};
            });
  add_route(
    routes, runtime, http::verb::post, "/admin/api/upstream-invites/:id/reissue",
    [](onboarding_call& call) { return created_invite(call.invites.reissue(call.who, call.id)); });
}

} // namespace cxp::edge
