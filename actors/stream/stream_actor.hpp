#pragma once

#include <chrono>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/pool/routing_messages.hpp"
#include "actors/request_log/request_log_writer.hpp"
#include "actors/runtime/gateway_metrics.hpp"
#include "actors/stream/stream_messages.hpp"
#include "actors/stream/upstream_socket.hpp"
#include "actors/type_ids.hpp"
#include "common/clock.hpp"

namespace cxp::actors {

/// What every stream actor of a node shares; outlives them all.
struct stream_deps {
  lease_source_actor directory;  ///< actors::spawn_runtime_directory (leases)
  request_log_actor request_log; ///< actors::spawn_request_log_writer
  ws_transport transport;        ///< where upstream sockets run
  std::string upstream_base_url; ///< e.g. https://chatgpt.com/backend-api
  const cxp::clock& clock;
  gateway_metrics& metrics;
  /// Used until the first lease brings the instance settings
  /// (`gateway.websocket_owner_idle_timeout_ms` then wins).
  std::chrono::milliseconds default_owner_idle{30 * 60 * 1000};
  uint64_t max_message_bytes = 64u << 20; ///< largest upstream frame
};

/// A stream actor as the registry that spawned it addresses it: the connection's protocol
/// (`stream_actor`), `stream_evict` and `drain_atom` → `bool` (see `spawn_stream_actor`).
using registered_stream_actor =
  stream_actor::extend<caf::reacts_to<stream_evict>, caf::replies_to<drain_atom>::with<bool>>;

/// The registry as its streams address it: whether a stream is parked (`stream_parked`,
/// `stream_unparked`), the aliases it learns (`stream_alias`) and the account it serves the
/// session on (`stream_account`).
using stream_tracker_actor =
  caf::typed_actor<caf::reacts_to<stream_parked>, caf::reacts_to<stream_unparked>,
                   caf::reacts_to<stream_alias>, caf::reacts_to<stream_account>>;

/// One client session's upstream websocket (codex-notes §6.3). Owns the socket to
/// `{upstream}/codex/responses` (with `openai-beta: responses_websockets=2026-02-06`, the
/// account's bearer and `chatgpt-account-id`, and the client's allowlisted headers) and the
/// account it was opened for. Messages: see stream_messages.hpp.
/// - Turns run one at a time (FIFO). Each takes a lease from the pool with the session key (so a
///   pinned session stays on its account, and an ineligible pin is refused with
///   `pinned_continuation_unavailable`, never moved), reuses the open socket when the lease names
///   the same account, else opens a new one; reports the attempt to the pool and writes its own
///   request-log row (transport `websocket`).
/// - Prelude frames (`response.created`, `response.in_progress`, `codex.rate_limits`) are held
///   until the first visible one, so a failure before that can be retried invisibly. What to do
///   is `domain::judge`'s verdict, the same as over HTTP: a reused socket that fails is
///   reconnected once; an upstream auth error (a 401 or an auth code such as `token_expired`, at
///   the upgrade or as an error frame) refreshes the token through the account actor once and
///   retries on a new socket; a usage limit, 429, 5xx or broken socket moves an unpinned turn to
///   the next account of the ring; another 4xx is relayed as the request's own fault.
/// - Server frames are relayed byte-faithfully to the attached connection, at most
///   `stream_ack_window` unacknowledged.
/// - Turns are fenced by the connection that sent them: a turn's frames and its
///   `stream_turn_done` go only to that connection while it is attached. When it detaches (or
///   another connection takes the session over) mid-turn, the turn's frames are dropped and
///   the turn still completes upstream and is logged, unless the attached connection sends a
///   turn first: then the abandoned turn is cancelled at once (its socket closed, so none of
///   its frames can follow; logged `cancelled`, status 499, reported `cancelled`) and the new
///   turn runs on a new socket. A queued turn whose connection is gone never runs.
/// - Detached and idle with an open socket, it is "parked" with `registry` (`stream_parked`,
///   with the caps `gateway.websocket_detached_per_key_limit` / `_per_account_limit` of its
///   latest settings); `stream_evict` from the registry closes the socket (counted in
///   `websocket_detached_closed`) and the stream lives on without one until it expires.
/// - Each completed response id is registered as an alias with `registry`, and the account the
///   session is served on is reported to it (`stream_account`) whenever it changes. Leases ask
///   for `account_hint` (the account the session's lease names after a takeover) until then.
/// - It survives a detach for `gateway.websocket_owner_idle_timeout_ms`, then closes the socket
///   and quits (the registry monitors it).
/// - `drain_atom` → `true` once no turn is running or queued and the attached connection has
///   acknowledged every frame (at once when idle).
registered_stream_actor spawn_stream_actor(caf::actor_system& system, const stream_deps& deps,
                                           stream_tracker_actor registry,
                                           std::string account_hint = {});

} // namespace cxp::actors
