#pragma once

#include <chrono>

#include <caf/typed_actor.hpp>

#include "actors/notices/node_notices.hpp"
#include "actors/settings/settings_cache.hpp"
#include "actors/stream/stream_messages.hpp"
#include "actors/stream/stream_registry.hpp"
#include "edge/routes/codex/proxy_turn.hpp"
#include "edge/server/route_table.hpp"

namespace cxp::edge {

/// What the websocket route needs besides the Codex runtime; every member outlives the server.
struct websocket_runtime {
  codex_runtime& codex;
  actors::settings_cache_actor settings;
  /// Opens sessions' streams: edge/app passes the node actor, which finds each session's owner
  /// node.
  actors::stream_opener_actor registry;
  /// How often a connection re-checks its key with the key cache. A change made through the
  /// admin API (on any node) is announced and re-checked at once; this catches the rest.
  std::chrono::milliseconds key_recheck_interval{2'000};
};

/// A client websocket's actor, spawned with the connection: what its session's stream sends it
/// (`actors::stream_connection_actor`, from this node or through a relay from the owner node),
/// and the `api_key_changed` notices (from the node's notice board) on which it re-checks its key.
/// It posts everything to the connection's strand and lives as long as the socket.
using websocket_endpoint_actor =
  actors::stream_connection_actor::extend<caf::reacts_to<actors::api_key_changed>>;

/// `GET /backend-api/codex/responses` (+ `/backend-api/codex/v1/responses` and `/v1/responses`,
/// where the Codex CLI with a `/v1` base URL looks first) with a websocket upgrade
/// (codex-notes §6.1):
/// - the Pool API key is checked before the 101; the 101 carries `x-codex-turn-state` (the
///   client's, else a new UUID); no permessage-deflate; messages above `ingress.max_body_bytes`
///   close with 1009; `gateway.websocket_idle_timeout_ms` without a frame closes with 1001;
/// - `response.create` frames run one at a time per connection (later ones wait, FIFO); each
///   re-checks the key, applies its policy (model, reasoning effort) and goes to the session's
///   `stream_actor` (found or spawned by the registry under the session's hashed aliases: turn
///   state, window id, session header, `previous_response_id`), which routes, relays and logs it;
/// - `response.processed` frames are forwarded upstream; other frame types get an error frame;
/// - errors are `{"type":"error","status":…,"error":{…}}` frames;
/// - the key is re-checked when an `api_key_changed` notice names it, and every
///   `key_recheck_interval`; a paused, revoked or deleted key closes the socket with 1008
///   "api key is no longer active".
/// A plain GET (no upgrade) is answered `400 invalid_request`.
void add_websocket_routes(route_table& routes, websocket_runtime& runtime);

} // namespace cxp::edge
