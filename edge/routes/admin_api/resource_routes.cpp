#include "actors/notices/node_notices.hpp"
#include "domain/accounts/account_service.hpp"
#include "domain/admin_input.hpp"
#include "domain/audit/audit_service.hpp"
#include "domain/keys/api_key_service.hpp"
#include "domain/operators/invite_service.hpp"
#include "domain/operators/operator_service.hpp"
#include "domain/pools/pool_service.hpp"
#include "domain/settings/settings_service.hpp"
#include "edge/routes/admin_api/admin_body.hpp"
#include "edge/routes/admin_api/admin_fields.hpp"
#include "edge/routes/admin_api/admin_routes.hpp"

namespace cxp::edge {

namespace {

using nlohmann::json;
using namespace domain;

/// Renders a service result `T` (anything with `to_json`) with `status`.
template <class T>
caf::expected<admin_reply> view(caf::expected<T> result, http::status status = http::status::ok) {
  if (!result) {
    return result.error();
  }
  return admin_reply{status, to_json(*result), {}};
}

/// Renders a whole (unpaginated) list in the same shape as a page.
template <class T>
caf::expected<admin_reply> list_view(caf::expected<std::vector<T>> list) {
  if (!list) {
    return list.error();
  }
  json items = json::array();
  for (const auto& item : *list) {
    items.push_back(to_json(item));
  }
  return admin_reply{http::status::ok, {{"items", items}, {"next_cursor", nullptr}}, {}};
}

template <class Page>
caf::expected<admin_reply> page_view(caf::expected<Page> page) {
  if (!page) {
    return page.error();
  }
  json items = json::array();
  for (const auto& item : page->items) {
    items.push_back(to_json(item));
  }
  return admin_reply{
    http::status::ok,
    {{"items", items},
     {"next_cursor", page->next_cursor ? json(*page->next_cursor) : json(nullptr)}},
    {}};
}

/// Registers `method pattern` as a session-guarded admin route whose work gets the path id.
template <class Work>
void add_session_route(route_table& routes, const admin_runtime& runtime, http::verb method,
                       std::string pattern, Work work) {
  routes.add(method, std::move(pattern), [&runtime, work](const exchange_ptr& ex) {
    run_admin(runtime, ex, admin_access::session,
              [&runtime, work, id = std::string{ex->param("id")},
               pool_id = std::string{ex->param("pool_id")}, page = page_from_query(*ex),
               ex](const principal& who, const json& body) {
                return work(runtime.services, who, body, id, pool_id, page, ex);
              });
  });
}

void add_pool_routes(route_table& routes, const admin_runtime& runtime) {
  add_session_route(routes, runtime, http::verb::get, "/admin/api/pools",
                    [](service_context& ctx, const principal& who, const json&, const std::string&,
                       const std::string&, const page_request& page, const exchange_ptr& ex) {
                      return page_view(pool_service{ctx}.list(
                        who, {query_param(*ex, "status"), query_param(*ex, "search"), page}));
                    });
  add_session_route(routes, runtime, http::verb::post, "/admin/api/pools",
                    [](service_context& ctx, const principal& who, const json& body,
                       auto&&...) -> caf::expected<admin_reply> {
                      auto fields = parse_pool_fields(body);
                      if (!fields) {
                        return fields.error();
                      }
                      return view(pool_service{ctx}.create(who, *fields), http::status::created);
                    });
  add_session_route(routes, runtime, http::verb::get, "/admin/api/pools/:id",
                    [](service_context& ctx, const principal& who, const json&,
                       const std::string& id,
                       auto&&...) { return view(pool_service{ctx}.get(who, id)); });
  add_session_route(routes, runtime, http::verb::patch, "/admin/api/pools/:id",
                    [](service_context& ctx, const principal& who, const json& body,
                       const std::string& id, auto&&...) -> caf::expected<admin_reply> {
                      auto fields = parse_pool_fields(body);
                      if (!fields) {
                        return fields.error();
                      }
                      return view(pool_service{ctx}.update(who, id, *fields));
                    });
  add_session_route(routes, runtime, http::verb::post, "/admin/api/pools/:id/disable",
                    [](service_context& ctx, const principal& who, const json&,
                       const std::string& id,
                       auto&&...) { return view(pool_service{ctx}.disable(who, id)); });
  add_session_route(routes, runtime, http::verb::post, "/admin/api/pools/:id/enable",
                    [](service_context& ctx, const principal& who, const json&,
                       const std::string& id,
                       auto&&...) { return view(pool_service{ctx}.enable(who, id)); });
}

bool is_auth_json(const json& value) {
  return value.is_object() || value.is_string();
}

caf::expected<admin_reply> import_accounts(service_context& ctx, const principal& who,
                                           const json& body) {
  admin_body in{body};
  auto pool_ids = in.text_list("pool_ids").value_or(std::vector<std::string>{});
  const auto* items = in.value(
    "items",
    [](const json& v) {
      return v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), is_auth_json);
    },
    "must be a non-empty list of auth.json objects");
  const auto* auth_json =
    in.value("auth_json", is_auth_json, "must be the contents of a Codex auth.json");
  auto label = in.nullable_text("label");
  if (in.has("items")) {
    // A bulk import takes neither a single document nor a label: refuse rather than drop them.
    for (const auto* single : {"auth_json", "label"}) {
      if (in.has(single)) {
        in.fail(single, "cannot be combined with items");
      }
    }
  } else if (!in.has("auth_json")) {
    in.fail("auth_json", "is required (the contents of a Codex auth.json)");
  }
  if (auto invalid = in.error()) {
    return std::move(*invalid);
  }
  account_service accounts{ctx};
  if (items != nullptr) {
    std::vector<std::pair<std::string, std::string>> sources;
    for (size_t i = 0; i < items->size(); ++i) {
      const auto& item = (*items)[i];
      sources.emplace_back("items[" + std::to_string(i) + "]",
                           item.is_string() ? item.get<std::string>() : item.dump());
    }
    json results = json::array();
    for (const auto& result : accounts.import_many(who, sources, pool_ids)) {
      results.push_back(to_json(result));
    }
    return admin_reply{http::status::ok, {{"results", results}}, {}};
  }
  import_request request{auth_json->is_string() ? auth_json->get<std::string>() : auth_json->dump(),
                         label.value_or(std::nullopt), pool_ids};
  auto imported = accounts.import_auth_json(who, request);
  if (!imported) {
    return imported.error();
  }
  return admin_reply{imported->created ? http::status::created : http::status::ok,
                     {{"account", to_json(imported->account)}, {"created", imported->created}},
                     {}};
}

void add_upstream_routes(route_table& routes, const admin_runtime& runtime) {
  add_session_route(routes, runtime, http::verb::get, "/admin/api/upstreams",
                    [](service_context& ctx, const principal& who, const json&, const std::string&,
                       const std::string&, const page_request& page, const exchange_ptr& ex) {
                      return page_view(account_service{ctx}.list(
                        who, {query_param(*ex, "pool_id"), query_param(*ex, "status"),
                              query_param(*ex, "search"), page}));
                    });
  add_session_route(routes, runtime, http::verb::post, "/admin/api/upstreams/import",
                    [](service_context& ctx, const principal& who, const json& body, auto&&...) {
                      return import_accounts(ctx, who, body);
                    });
  add_session_route(routes, runtime, http::verb::get, "/admin/api/upstreams/:id",
                    [](service_context& ctx, const principal& who, const json&,
                       const std::string& id,
                       auto&&...) { return view(account_service{ctx}.get(who, id)); });
  add_session_route(routes, runtime, http::verb::patch, "/admin/api/upstreams/:id",
                    [](service_context& ctx, const principal& who, const json& body,
                       const std::string& id, auto&&...) -> caf::expected<admin_reply> {
                      // `label` is the one field: required, so a misspelt one cannot clear it.
                      admin_body in{body};
                      in.reject_unknown({"label"});
                      in.require("label");
                      auto label = in.nullable_text("label");
                      if (auto invalid = in.error()) {
                        return std::move(*invalid);
                      }
                      return view(account_service{ctx}.update_label(who, id, *label));
                    });
  add_session_route(routes, runtime, http::verb::post, "/admin/api/upstreams/:id/pause",
                    [](service_context& ctx, const principal& who, const json&,
                       const std::string& id,
                       auto&&...) { return view(account_service{ctx}.pause(who, id)); });
  add_session_route(routes, runtime, http::verb::post, "/admin/api/upstreams/:id/resume",
                    [](service_context& ctx, const principal& who, const json&,
                       const std::string& id,
                       auto&&...) { return view(account_service{ctx}.resume(who, id)); });
  add_session_route(routes, runtime, http::verb::delete_, "/admin/api/upstreams/:id",
                    [](service_context& ctx, const principal& who, const json&,
                       const std::string& id, auto&&...) -> caf::expected<admin_reply> {
                      if (auto done = account_service{ctx}.remove(who, id); !done) {
                        return done.error();
                      }
                      return admin_reply{http::status::ok, {{"id", id}, {"deleted", true}}, {}};
                    });
  add_session_route(routes, runtime, http::verb::put, "/admin/api/upstreams/:id/pools/:pool_id",
                    [](service_context& ctx, const principal& who, const json&,
                       const std::string& id, const std::string& pool_id,
                       auto&&...) { return view(account_service{ctx}.assign(who, id, pool_id)); });
  add_session_route(routes, runtime, http::verb::delete_, "/admin/api/upstreams/:id/pools/:pool_id",
                    [](service_context& ctx, const principal& who, const json&,
                       const std::string& id, const std::string& pool_id, auto&&...) {
                      return view(account_service{ctx}.unassign(who, id, pool_id));
                    });
}

caf::expected<admin_reply> created_key_reply(caf::expected<created_api_key> created,
                                             http::status status) {
  if (!created) {
    return created.error();
  }
  return admin_reply{status, to_json(*created), {}};
}

void add_api_key_routes(route_table& routes, const admin_runtime& runtime) {
  add_session_route(routes, runtime, http::verb::get, "/admin/api/api-keys",
                    [](service_context& ctx, const principal& who, const json&, const std::string&,
                       const std::string&, const page_request& page, const exchange_ptr& ex) {
                      return page_view(api_key_service{ctx}.list(
                        who, {query_param(*ex, "pool_id"), query_param(*ex, "status"), page}));
                    });
  add_session_route(routes, runtime, http::verb::post, "/admin/api/api-keys",
                    [](service_context& ctx, const principal& who, const json& body,
                       auto&&...) -> caf::expected<admin_reply> {
                      auto fields = parse_api_key_fields(body);
                      if (!fields) {
                        return fields.error();
                      }
                      return created_key_reply(api_key_service{ctx}.create(who, *fields),
                                               http::status::created);
                    });
  add_session_route(routes, runtime, http::verb::get, "/admin/api/api-keys/:id",
                    [](service_context& ctx, const principal& who, const json&,
                       const std::string& id,
                       auto&&...) { return view(api_key_service{ctx}.get(who, id)); });
  // Every change to a key is announced, so websockets and caches holding it re-check at once
  // on every node instead of at their next poll.
  auto key_change = [&runtime](auto change) {
    return [&runtime, change](service_context& ctx, const principal& who, const json& body,
                              const std::string& id, auto&&...) -> caf::expected<admin_reply> {
      auto reply = change(ctx, who, body, id);
      if (reply) {
        actors::announce(runtime.system, actors::api_key_changed{id});
      }
      return reply;
    };
  };
  add_session_route(routes, runtime, http::verb::patch, "/admin/api/api-keys/:id",
                    key_change([](service_context& ctx, const principal& who, const json& body,
                                  const std::string& id) -> caf::expected<admin_reply> {
                      auto fields = parse_api_key_fields(body);
                      if (!fields) {
                        return fields.error();
                      }
                      return view(api_key_service{ctx}.update(who, id, *fields));
                    }));
  add_session_route(
    routes, runtime, http::verb::post, "/admin/api/api-keys/:id/rotate",
    key_change([](service_context& ctx, const principal& who, const json&, const std::string& id) {
      return created_key_reply(api_key_service{ctx}.rotate(who, id), http::status::ok);
    }));
  add_session_route(
    routes, runtime, http::verb::post, "/admin/api/api-keys/:id/pause",
    key_change([](service_context& ctx, const principal& who, const json&, const std::string& id) {
      return view(api_key_service{ctx}.pause(who, id));
    }));
  add_session_route(
    routes, runtime, http::verb::post, "/admin/api/api-keys/:id/resume",
    key_change([](service_context& ctx, const principal& who, const json&, const std::string& id) {
      return view(api_key_service{ctx}.resume(who, id));
    }));
  add_session_route(
    routes, runtime, http::verb::post, "/admin/api/api-keys/:id/revoke",
    key_change([](service_context& ctx, const principal& who, const json&, const std::string& id) {
      return view(api_key_service{ctx}.revoke(who, id));
    }));
}

void add_operator_routes(route_table& routes, const admin_runtime& runtime) {
  add_session_route(routes, runtime, http::verb::get, "/admin/api/operators",
                    [](service_context& ctx, const principal& who, auto&&...) {
                      return list_view(operator_service{ctx}.list(who));
                    });
  add_session_route(routes, runtime, http::verb::post, "/admin/api/operators",
                    [](service_context& ctx, const principal& who, const json& body,
                       auto&&...) -> caf::expected<admin_reply> {
                      admin_body in{body};
                      auto email = in.text("email").value_or("");
                      auto display_name = in.text("display_name").value_or("");
                      auto role = in.text("role").value_or("");
                      auto password = in.text("temporary_password").value_or("");
                      auto pool_ids = in.text_list("pool_ids").value_or(std::vector<std::string>{});
                      if (auto invalid = in.error()) {
                        return std::move(*invalid);
                      }
                      return view(operator_service{ctx}.create_operator(who, email, display_name,
                                                                        role, password, pool_ids),
                                  http::status::created);
                    });
  add_session_route(routes, runtime, http::verb::get, "/admin/api/operators/:id",
                    [](service_context& ctx, const principal& who, const json&,
                       const std::string& id,
                       auto&&...) { return view(operator_service{ctx}.get(who, id)); });
  add_session_route(routes, runtime, http::verb::patch, "/admin/api/operators/:id",
                    [](service_context& ctx, const principal& who, const json& body,
                       const std::string& id, auto&&...) -> caf::expected<admin_reply> {
                      // Unknown fields are refused: a misspelt one would make the change a no-op.
                      admin_body in{body};
                      in.reject_unknown({"display_name", "role", "status", "pool_ids"});
                      operator_fields fields;
                      fields.display_name = in.text("display_name");
                      fields.role = in.text("role");
                      fields.status = in.text("status");
                      fields.pool_ids = in.text_list("pool_ids");
                      if (auto invalid = in.error()) {
                        return std::move(*invalid);
                      }
                      return view(operator_service{ctx}.update(who, id, fields));
                    });
  add_session_route(routes, runtime, http::verb::get, "/admin/api/invites",
                    [](service_context& ctx, const principal& who, auto&&...) {
                      return list_view(invite_service{ctx}.list_invites(who));
                    });
  add_session_route(routes, runtime, http::verb::post, "/admin/api/invites",
                    [](service_context& ctx, const principal& who, const json& body,
                       auto&&...) -> caf::expected<admin_reply> {
                      admin_body in{body};
                      invite_request request{
                        in.text("email").value_or(""), in.text("role").value_or(""),
                        in.text_list("pool_ids").value_or(std::vector<std::string>{}),
                        std::nullopt};
                      if (auto ttl = in.integer("ttl_hours", 1, max_invite_ttl_hours)) {
                        request.ttl_hours = static_cast<int>(*ttl);
                      }
                      if (auto invalid = in.error()) {
                        return std::move(*invalid);
                      }
                      auto created = invite_service{ctx}.create_invite(who, request);
                      if (!created) {
                        return created.error();
                      }
                      auto out = to_json(created->invite);
                      out["token"] = created->token.expose();
                      out["accept_url"] = created->accept_url.expose();
                      return admin_reply{http::status::created, out, {}};
                    });
  add_session_route(routes, runtime, http::verb::post, "/admin/api/invites/:id/revoke",
                    [](service_context& ctx, const principal& who, const json&,
                       const std::string& id,
                       auto&&...) { return view(invite_service{ctx}.revoke_invite(who, id)); });
}

void add_settings_and_audit_routes(route_table& routes, const admin_runtime& runtime) {
  add_session_route(
    routes, runtime, http::verb::get, "/admin/api/settings",
    [](service_context& ctx, const principal& who, auto&&...) -> caf::expected<admin_reply> {
      auto listed = settings_service{ctx}.list(who);
      if (!listed) {
        return listed.error();
      }
      return admin_reply{http::status::ok, {{"items", *listed}}, {}};
    });
  add_session_route(routes, runtime, http::verb::patch, "/admin/api/settings",
                    [&runtime](service_context& ctx, const principal& who, const json& body,
                               auto&&...) -> caf::expected<admin_reply> {
                      auto updated = settings_service{ctx}.update(who, body);
                      if (!updated) {
                        return updated.error();
                      }
                      actors::announce(runtime.system, actors::settings_changed{});
                      return admin_reply{http::status::ok, {{"items", *updated}}, {}};
                    });
  add_session_route(routes, runtime, http::verb::get, "/admin/api/audit-logs",
                    [](service_context& ctx, const principal& who, const json&, const std::string&,
                       const std::string&, const page_request& page,
                       const exchange_ptr& ex) -> caf::expected<admin_reply> {
                      auto listed = audit_service{ctx}.list(
                        who, {query_param(*ex, "action"), query_param(*ex, "actor_id"),
                              query_param(*ex, "pool_id"), query_param(*ex, "outcome"), page});
                      if (!listed) {
                        return listed.error();
                      }
                      return admin_reply{http::status::ok, *listed, {}};
                    });
}

} // namespace

void add_admin_resource_routes(route_table& routes, const admin_runtime& runtime) {
  add_pool_routes(routes, runtime);
  add_upstream_routes(routes, runtime);
  add_api_key_routes(routes, runtime);
  add_operator_routes(routes, runtime);
  add_settings_and_audit_routes(routes, runtime);
  add_job_routes(routes, runtime);
  add_request_log_routes(routes, runtime);
  add_pool_usage_routes(routes, runtime);
  add_mcp_token_routes(routes, runtime);
}

} // namespace cxp::edge
