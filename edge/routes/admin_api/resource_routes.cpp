#include "actors/admin/account_service.hpp"
#include "actors/admin/api_key_service.hpp"
#include "actors/admin/audit_service.hpp"
#include "actors/admin/pool_service.hpp"
#include "actors/admin/settings_service.hpp"
#include "actors/notices/node_notices.hpp"
#include "edge/routes/admin_api/admin_routes.hpp"

namespace cxp::edge {

namespace {

using nlohmann::json;
using namespace actors::admin;

std::optional<std::string> optional_text(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? std::optional<std::string>{it->get<std::string>()}
                                             : std::nullopt;
}

caf::expected<std::vector<std::string>> string_list(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    return std::vector<std::string>{};
  }
  if (!it->is_array()
      || !std::all_of(it->begin(), it->end(), [](const json& v) { return v.is_string(); })) {
    return make_validation_error({{key, "must be a list of strings"}});
  }
  return it->get<std::vector<std::string>>();
}

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

std::optional<std::string> query_param(const exchange_ptr& ex, const char* name) {
  auto value = ex->query(name);
  return value && !value->empty() ? value : std::nullopt;
}

void add_pool_routes(route_table& routes, const admin_runtime& runtime) {
  add_session_route(routes, runtime, http::verb::get, "/admin/api/pools",
                    [](service_context& ctx, const principal& who, const json&, const std::string&,
                       const std::string&, const page_request& page, const exchange_ptr& ex) {
                      return page_view(pool_service{ctx}.list(
                        who, {query_param(ex, "status"), query_param(ex, "search"), page}));
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

caf::expected<admin_reply> import_accounts(service_context& ctx, const principal& who,
                                           const json& body) {
  auto pool_ids = string_list(body, "pool_ids");
  if (!pool_ids) {
    return pool_ids.error();
  }
  account_service accounts{ctx};
  if (auto items = body.find("items"); items != body.end()) {
    if (!items->is_array() || items->empty()) {
      return make_validation_error({{"items", "must be a non-empty list of auth.json objects"}});
    }
    std::vector<std::pair<std::string, std::string>> sources;
    for (size_t i = 0; i < items->size(); ++i) {
      const auto& item = (*items)[i];
      sources.emplace_back("items[" + std::to_string(i) + "]",
                           item.is_string() ? item.get<std::string>() : item.dump());
    }
    json results = json::array();
    for (const auto& result : accounts.import_many(who, sources, *pool_ids)) {
      results.push_back({{"source", result.source},
                         {"account", result.account ? to_json(*result.account) : json(nullptr)},
                         {"error", result.error_code ? json{{"code", *result.error_code},
                                                            {"message", *result.error_message}}
                                                     : json(nullptr)}});
    }
    return admin_reply{http::status::ok, {{"results", results}}, {}};
  }
  auto auth_json = body.find("auth_json");
  if (auth_json == body.end() || !(auth_json->is_object() || auth_json->is_string())) {
    return make_validation_error(
      {{"auth_json", "is required (the contents of a Codex auth.json)"}});
  }
  import_request request{auth_json->is_string() ? auth_json->get<std::string>() : auth_json->dump(),
                         optional_text(body, "label"), *pool_ids};
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
                        who, {query_param(ex, "pool_id"), query_param(ex, "status"),
                              query_param(ex, "search"), page}));
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
                       const std::string& id, auto&&...) {
                      return view(
                        account_service{ctx}.update_label(who, id, optional_text(body, "label")));
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
                        who, {query_param(ex, "pool_id"), query_param(ex, "status"), page}));
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
  auto operators = [&runtime](service_context& ctx) {
    return operator_service{ctx, *runtime.throttle};
  };
  add_session_route(routes, runtime, http::verb::get, "/admin/api/operators",
                    [operators](service_context& ctx, const principal& who, auto&&...) {
                      return list_view(operators(ctx).list(who));
                    });
  add_session_route(routes, runtime, http::verb::post, "/admin/api/operators",
                    [operators](service_context& ctx, const principal& who, const json& body,
                                auto&&...) -> caf::expected<admin_reply> {
                      auto pool_ids = string_list(body, "pool_ids");
                      if (!pool_ids) {
                        return pool_ids.error();
                      }
                      return view(operators(ctx).create_operator(
                                    who, optional_text(body, "email").value_or(""),
                                    optional_text(body, "display_name").value_or(""),
                                    optional_text(body, "role").value_or(""),
                                    optional_text(body, "temporary_password").value_or(""),
                                    *pool_ids),
                                  http::status::created);
                    });
  add_session_route(routes, runtime, http::verb::get, "/admin/api/operators/:id",
                    [operators](service_context& ctx, const principal& who, const json&,
                                const std::string& id,
                                auto&&...) { return view(operators(ctx).get(who, id)); });
  add_session_route(routes, runtime, http::verb::patch, "/admin/api/operators/:id",
                    [operators](service_context& ctx, const principal& who, const json& body,
                                const std::string& id, auto&&...) -> caf::expected<admin_reply> {
                      operator_fields fields;
                      fields.display_name = optional_text(body, "display_name");
                      fields.role = optional_text(body, "role");
                      fields.status = optional_text(body, "status");
                      if (body.contains("pool_ids")) {
                        auto pool_ids = string_list(body, "pool_ids");
                        if (!pool_ids) {
                          return pool_ids.error();
                        }
                        fields.pool_ids = *pool_ids;
                      }
                      return view(operators(ctx).update(who, id, fields));
                    });
  add_session_route(routes, runtime, http::verb::get, "/admin/api/invites",
                    [operators](service_context& ctx, const principal& who, auto&&...) {
                      return list_view(operators(ctx).list_invites(who));
                    });
  add_session_route(
    routes, runtime, http::verb::post, "/admin/api/invites",
    [operators](service_context& ctx, const principal& who, const json& body,
                auto&&...) -> caf::expected<admin_reply> {
      auto pool_ids = string_list(body, "pool_ids");
      if (!pool_ids) {
        return pool_ids.error();
      }
      invite_request request{optional_text(body, "email").value_or(""),
                             optional_text(body, "role").value_or(""), *pool_ids, std::nullopt};
      if (auto ttl = body.find("ttl_hours"); ttl != body.end() && ttl->is_number_integer()) {
        request.ttl_hours = ttl->get<int>();
      }
      auto created = operators(ctx).create_invite(who, request);
      if (!created) {
        return created.error();
      }
      auto out = to_json(created->invite);
      out["token"] = created->token.expose();
      return admin_reply{http::status::created, out, {}};
    });
  add_session_route(routes, runtime, http::verb::post, "/admin/api/invites/:id/revoke",
                    [operators](service_context& ctx, const principal& who, const json&,
                                const std::string& id,
                                auto&&...) { return view(operators(ctx).revoke_invite(who, id)); });
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
                        who, {query_param(ex, "action"), query_param(ex, "actor_id"),
                              query_param(ex, "pool_id"), page});
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
}

} // namespace cxp::edge
