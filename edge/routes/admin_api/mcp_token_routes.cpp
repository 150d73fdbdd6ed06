#include "domain/mcp/mcp_token_service.hpp"
#include "edge/routes/admin_api/admin_body.hpp"
#include "edge/routes/admin_api/admin_routes.hpp"

namespace cxp::edge {

namespace {

using nlohmann::json;

caf::expected<admin_reply> create_token(domain::service_context& services,
                                        const domain::principal& who, const json& body) {
  admin_body in{body};
  in.reject_unknown({"name", "expires_in_days"});
  in.require("name");
  auto name = in.text("name");
  auto days = in.integer("expires_in_days", 1, domain::max_mcp_token_days);
  if (auto invalid = in.error()) {
    return std::move(*invalid);
  }
  domain::mcp_token_request request;
  request.name = name.value_or("");
  if (days) {
    request.expires_in_days = static_cast<int>(*days);
  }
  auto created = domain::mcp_token_service{services}.create(who, request);
  if (!created) {
    return created.error();
  }
  // The raw token is in this answer only: it is stored as a keyed hash.
  return admin_reply{
    http::status::created,
    {{"token", domain::to_json(created->token)}, {"raw_token", created->raw.expose()}},
    {}};
}

caf::expected<admin_reply> set_access(domain::service_context& services,
                                      const domain::principal& who, const std::string& operator_id,
                                      const json& body) {
  admin_body in{body};
  in.reject_unknown({"enabled"});
  in.require("enabled");
  const auto* enabled = in.value(
    "enabled", [](const json& v) { return v.is_boolean(); }, "must be true or false");
  if (auto invalid = in.error()) {
    return std::move(*invalid);
  }
  auto access =
    domain::mcp_token_service{services}.set_access(who, operator_id, enabled->get<bool>());
  if (!access) {
    return access.error();
  }
  return admin_reply{http::status::ok, domain::to_json(*access), {}};
}

template <class Work>
void add_route(route_table& routes, const admin_runtime& runtime, http::verb method,
               std::string pattern, Work work) {
  routes.add(method, std::move(pattern), [&runtime, work](const exchange_ptr& ex) {
    run_admin(runtime, ex, admin_access::session,
              [&runtime, work, id = std::string{ex->param("id")},
               operator_filter = query_param(*ex, "operator_id")](const domain::principal& who,
                                                                  const json& body) {
                return work(runtime.services, who, id, operator_filter, body);
              });
  });
}

} // namespace

void add_mcp_token_routes(route_table& routes, const admin_runtime& runtime) {
  add_route(
    routes, runtime, http::verb::get, "/admin/api/mcp-tokens",
    [](domain::service_context& services, const domain::principal& who, const std::string&,
       const std::optional<std::string>& operator_filter,
       const json&) -> caf::expected<admin_reply> {
      auto tokens = domain::mcp_token_service{services}.list(who, operator_filter);
      if (!tokens) {
        return tokens.error();
      }
      json items = json::array();
      for (const auto& token : *tokens) {
        items.push_back(domain::to_json(token));
      }
      return admin_reply{http::status::ok, {{"items", items}, {"next_cursor", nullptr}}, {}};
    });
  add_route(routes, runtime, http::verb::post, "/admin/api/mcp-tokens",
            [](domain::service_context& services, const domain::principal& who, const std::string&,
               const std::optional<std::string>&,
               const json& body) { return create_token(services, who, body); });
  add_route(routes, runtime, http::verb::post, "/admin/api/mcp-tokens/:id/revoke",
            [](domain::service_context& services, const domain::principal& who,
               const std::string& id, const std::optional<std::string>&,
               const json&) -> caf::expected<admin_reply> {
              auto revoked = domain::mcp_token_service{services}.revoke(who, id);
              if (!revoked) {
                return revoked.error();
              }
              return admin_reply{http::status::ok, {{"token", domain::to_json(*revoked)}}, {}};
            });
  add_route(routes, runtime, http::verb::get, "/admin/api/operators/:id/mcp-access",
            [](domain::service_context& services, const domain::principal& who,
               const std::string& id, const std::optional<std::string>&,
               const json&) -> caf::expected<admin_reply> {
              auto access = domain::mcp_token_service{services}.access(who, id);
              if (!access) {
                return access.error();
              }
              return admin_reply{http::status::ok, domain::to_json(*access), {}};
            });
  add_route(routes, runtime, http::verb::put, "/admin/api/operators/:id/mcp-access",
            [](domain::service_context& services, const domain::principal& who,
               const std::string& id, const std::optional<std::string>&,
               const json& body) { return set_access(services, who, id, body); });
}

} // namespace cxp::edge
