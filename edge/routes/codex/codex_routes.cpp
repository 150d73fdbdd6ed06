#include "edge/routes/codex/codex_routes.hpp"

#include "common/json_input.hpp"
#include "domain/keys/key_authenticator.hpp"
#include "edge/routes/codex/codex_auth.hpp"
#include "edge/routes/codex/codex_login.hpp"
#include "edge/routes/codex/codex_request.hpp"
#include "edge/routes/codex/pool_documents.hpp"
#include "edge/server/actor_bridge.hpp"
#include "persistence/crypto/key_hash.hpp"

namespace cxp::edge {

namespace {

using domain::authenticated_key;
using nlohmann::json;

void proxy(codex_runtime& runtime, const exchange_ptr& ex, actors::route_class route,
           std::string upstream_path) {
  with_key(
    runtime, ex,
    [&runtime, ex, route, path = std::move(upstream_path)](authenticated_key key) mutable {
      json body;
      if (auto problem = parse_untrusted_outline(ex->request().body(), body, bulky_body_fields)) {
        return ex->respond_error(errc::invalid_request, problem->message);
      }
      const auto checked = check_fields(body, native_body_fields);
      if (checked.problem) {
        return ex->respond_error(errc::invalid_request, checked.problem->message,
                                 checked.problem->field.empty()
                                   ? std::nullopt
                                   : std::optional<std::string>{checked.problem->field});
      }
      if (!body.contains("model") || body["model"].get<std::string>().empty()) {
        if (!key.key.policy.enforced_model) {
          return ex->respond_error(errc::invalid_request, "model is required", "model");
        }
      }
      auto changed = apply_key_policy(body, key.key.policy);
      if (!changed) {
        return ex->respond_error(changed.error());
      }
      *changed = *changed || checked.erased_nulls;
      turn_request request;
      request.ex = ex;
      request.upstream_path = std::move(path);
      request.route = route;
      bind_key(request, key);
      request.body =
        *changed ? rewritten_body(ex->request().body(), key.key.policy) : ex->request().body();
      request.model = body["model"].get<std::string>();
      request.service_tier = service_tier_of(body);
      const auto session_key = session_key_of(ex->request(), body);
      request.session_key_hash = hash_session_key(session_key, key);
      request.seed = body.contains("prompt_cache_key") && body["prompt_cache_key"].is_string()
                       ? body["prompt_cache_key"].get<std::string>()
                       : (session_key.empty() ? new_uuid() : session_key);
      request.allow_failover = route != actors::route_class::compact;
      request.pooled_quota = true;
      request.admission = route == actors::route_class::compact
                            ? domain::admission_class::proxy_compact
                          : body.value("stream", false) ? domain::admission_class::proxy_stream
                                                        : domain::admission_class::proxy_http;
      run_proxy_turn(runtime, std::move(request));
    });
}

void models(codex_runtime& runtime, const exchange_ptr& ex) {
  with_key(runtime, ex, [&runtime, ex](authenticated_key key) {
    with_pool_view(runtime, ex, key.key.pool_id,
                   [ex, allowed = key.key.policy.allowed_models](actors::pool_view view) {
                     const auto catalog = pool_catalog(view, allowed).dump();
                     http_response response{http::status::ok, ex->request().version()};
                     response.set(http::field::content_type, "application/json");
                     response.set(http::field::etag,
                                  "W/\"" + persistence::sha256_hex(catalog).substr(0, 32) + "\"");
                     response.body() = catalog;
                     ex->respond(std::move(response));
                   });
  });
}

void usage(codex_runtime& runtime, const exchange_ptr& ex) {
  with_key(runtime, ex, [&runtime, ex](authenticated_key key) {
    with_key_pool_view(runtime, ex, key, [&runtime, ex](actors::pool_view view) {
      ex->respond_json(http::status::ok, pool_usage(view, runtime.services.clock.now()));
    });
  });
}

std::string_view header_of(const http_request& request, std::string_view name) {
  auto it = request.find(boost::beast::string_view{name.data(), name.size()});
  return it == request.end() ? std::string_view{}
                             : std::string_view{it->value().data(), it->value().size()};
}

/// The CLI's workspace routing discovery in ChatGPT-login mode: the key's own workspace, whose
/// plan is the pool's (the same `plan_type` as its usage document).
void accounts_check(codex_runtime& runtime, const exchange_ptr& ex) {
  with_key(runtime, ex, [&runtime, ex](authenticated_key key) {
    with_key_pool_view(runtime, ex, key, [&runtime, ex, key](actors::pool_view view) {
      const auto plan = pool_quota_of(view, runtime.services.clock.now()).plan_type;
      const auto origin = client_facing_origin(header_of(ex->request(), "x-forwarded-host"),
                                               header_of(ex->request(), "host"));
      ex->respond_json(http::status::ok, accounts_check_document(key.key, plan, origin));
    });
  });
}

} // namespace

std::optional<authenticated_key> api_key_cache::find(const std::string& raw_key_digest) {
  std::lock_guard lock{mutex_};
  auto it = entries_.find(raw_key_digest);
  if (it == entries_.end()) {
    return std::nullopt;
  }
  if (it->second.expires <= std::chrono::steady_clock::now()) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.key;
}

void api_key_cache::put(const std::string& raw_key_digest, const authenticated_key& key) {
  std::lock_guard lock{mutex_};
  entries_[raw_key_digest] = {key, std::chrono::steady_clock::now() + ttl_};
}

void api_key_cache::forget(const std::string& api_key_id) {
  std::lock_guard lock{mutex_};
  std::erase_if(entries_, [&](const auto& item) { return item.second.key.key.id == api_key_id; });
}

void add_codex_routes(route_table& routes, codex_runtime& runtime) {
  using actors::route_class;
  for (const std::string prefix : {"/backend-api/codex", "/backend-api/codex/v1"}) {
    routes.add(http::verb::post, prefix + "/responses", [&runtime](const exchange_ptr& ex) {
      proxy(runtime, ex, route_class::responses, "/codex/responses");
    });
    routes.add(http::verb::post, prefix + "/responses/compact", [&runtime](const exchange_ptr& ex) {
      proxy(runtime, ex, route_class::compact, "/codex/responses/compact");
    });
    routes.add(http::verb::get, prefix + "/models",
               [&runtime](const exchange_ptr& ex) { models(runtime, ex); });
  }
  for (const auto* path : {"/api/codex/usage", "/wham/usage", "/backend-api/wham/usage"}) {
    routes.add(http::verb::get, path, [&runtime](const exchange_ptr& ex) { usage(runtime, ex); });
  }
  for (const auto* path :
       {"/api/codex/accounts/check", "/wham/accounts/check", "/backend-api/wham/accounts/check"}) {
    routes.add(http::verb::get, path,
               [&runtime](const exchange_ptr& ex) { accounts_check(runtime, ex); });
  }
}

} // namespace cxp::edge
