#include "edge/routes/codex/codex_auth.hpp"

#include <caf/typed_event_based_actor.hpp>

#include "common/encoding.hpp"
#include "edge/server/actor_bridge.hpp"
#include "persistence/crypto/key_hash.hpp"

namespace cxp::edge {

namespace {

using domain::authenticated_key;

constexpr auto auth_timeout = std::chrono::seconds{10};
constexpr auto view_timeout = std::chrono::seconds{10};

} // namespace

std::string bearer_of(const http_request& request) {
  auto it = request.find(http::field::authorization);
  if (it == request.end()) {
    return {};
  }
  std::string_view value{it->value().data(), it->value().size()};
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() <= scheme.size() || !ascii_iequals(value.substr(0, scheme.size()), scheme)) {
    return {};
  }
  return std::string{value.substr(scheme.size())};
}

void authenticate(codex_runtime& runtime, const secret<std::string>& raw, key_source source,
                  std::function<void(caf::expected<authenticated_key>)> done) {
  auto digest = persistence::sha256_hex(raw.expose());
  if (source == key_source::cache_first) {
    if (auto cached = runtime.keys.find(digest)) {
      return done(std::move(*cached));
    }
  }
  run_db<authenticated_key>(
    runtime.system, runtime.db_pool, auth_timeout,
    [&services = runtime.services, raw](persistence::database&) {
      return domain::key_authenticator{services}.authenticate(raw.expose());
    },
    [&runtime, digest, done = std::move(done)](caf::expected<authenticated_key> key) {
      if (key) {
        runtime.keys.put(digest, *key);
      }
      done(std::move(key));
    });
}

void with_key(codex_runtime& runtime, const exchange_ptr& ex,
              std::function<void(authenticated_key)> next) {
  auto raw = bearer_of(ex->request());
  if (raw.empty()) {
    return ex->respond_error(errc::api_key_missing);
  }
  authenticate(runtime, secret<std::string>{std::move(raw)}, key_source::cache_first,
               [ex, next = std::move(next)](caf::expected<authenticated_key> key) {
                 if (!key) {
                   return ex->respond_error(key.error());
                 }
                 next(std::move(*key));
               });
}

key_cache_listener_actor spawn_key_cache_listener(caf::actor_system& system, api_key_cache& cache) {
  return system.spawn<caf::hidden>(
    [&cache](key_cache_listener_actor::pointer self) -> key_cache_listener_actor::behavior_type {
      actors::subscribe_to<actors::api_key_changed>(self);
      return {
        [&cache](const actors::api_key_changed& changed) { cache.forget(changed.api_key_id); },
      };
    });
}

namespace {

void ask_pool_view(codex_runtime& runtime, const exchange_ptr& ex,
                   actors::pool_view_request request, std::function<void(actors::pool_view)> next) {
  ask<actors::pool_view>(
    runtime.system, runtime.directory, view_timeout,
    [ex, next = std::move(next)](caf::expected<actors::pool_view> view) {
      if (!view) {
        return ex->respond_error(view.error());
      }
      next(std::move(*view));
    },
    std::move(request));
}

} // namespace

void with_key_pool_view(codex_runtime& runtime, const exchange_ptr& ex,
                        const domain::authenticated_key& key,
                        std::function<void(actors::pool_view)> next) {
  const auto& policy = key.key.policy;
  ask_pool_view(
    runtime, ex,
    {key.key.pool_id,
     key.key.id,
     {policy.max_requests_per_minute, policy.max_tokens_per_day, policy.max_tokens_per_week}},
    std::move(next));
}

void with_pool_view(codex_runtime& runtime, const exchange_ptr& ex, const std::string& pool_id,
                    std::function<void(actors::pool_view)> next) {
  ask<actors::pool_view>(
    runtime.system, runtime.directory, view_timeout,
    [ex, next = std::move(next)](caf::expected<actors::pool_view> view) {
      if (!view) {
        return ex->respond_error(view.error());
      }
      next(std::move(*view));
    },
    actors::pool_view_request{pool_id, {}, {}});
}

std::string hash_session_key(const std::string& session_key, const authenticated_key& key) {
  if (session_key.empty()) {
    return {};
  }
  return persistence::sha256_hex(key.key.pool_id + ":" + key.key.id + ":" + session_key);
}

} // namespace cxp::edge
