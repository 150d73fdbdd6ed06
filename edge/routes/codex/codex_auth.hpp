#pragma once

#include <functional>
#include <string>

#include "actors/notices/node_notices.hpp"
#include "actors/pool/routing_messages.hpp"
#include "domain/keys/key_authenticator.hpp"
#include "edge/routes/codex/proxy_turn.hpp"

namespace cxp::edge {

/// The bearer of `Authorization: Bearer …`, or empty.
std::string bearer_of(const http_request& request);

enum class key_source {
  cache_first,
  database, ///< the key was just announced as changed: the cache may not have heard yet
};

/// Authenticates the raw Pool API key `raw` on a db worker (remembering it in the key cache),
/// from the key cache first when `source` allows.
void authenticate(codex_runtime& runtime, const secret<std::string>& raw, key_source source,
                  std::function<void(caf::expected<domain::authenticated_key>)> done);

/// Authenticates the request's Pool API key (`authenticate`, cache first), then continues with
/// the key; answers the error itself when the key is missing, unknown or inactive.
void with_key(codex_runtime& runtime, const exchange_ptr& ex,
              std::function<void(domain::authenticated_key)> next);

/// The key-cache listener's interface: it subscribes itself to this node's `api_key_changed`
/// board and takes nothing else.
using key_cache_listener_actor = actors::notice_subscriber_actor<actors::api_key_changed>;

/// A hidden actor that makes `cache` forget each key announced on this node's `api_key_changed`
/// notice board. `cache` must outlive it: stop it before the cache goes.
key_cache_listener_actor spawn_key_cache_listener(caf::actor_system& system, api_key_cache& cache);

/// Asks the key's pool for its accounts' snapshots; answers the error itself on failure.
void with_pool_view(codex_runtime& runtime, const exchange_ptr& ex, const std::string& pool_id,
                    std::function<void(actors::pool_view)> next);

/// `with_pool_view` for the pool of `key`, with the key's token-cap windows in the view.
void with_key_pool_view(codex_runtime& runtime, const exchange_ptr& ex,
                        const domain::authenticated_key& key,
                        std::function<void(actors::pool_view)> next);

/// The session key hashed with the pool and key, so a stored hash reveals nothing and two keys
/// never share a session. Empty for an empty session key.
std::string hash_session_key(const std::string& session_key, const domain::authenticated_key& key);

} // namespace cxp::edge
