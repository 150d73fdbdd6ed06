#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/stream/stream_actor.hpp"

namespace cxp::actors {

/// The node's websocket sessions: hashed session aliases (turn state, window id, session
/// header, previous response ids; each hashed with the pool and key so a stored value reveals
/// nothing and two keys never share a session) → the session's `stream_actor`. Messages:
/// - `stream_open` → `stream_opened`: the live stream of the first known alias (registering the
///   other aliases with it), else a new stream actor registered under every alias;
/// - `stream_alias`: one more alias for a live stream (a stream's response id), passed on to the
///   watcher;
/// - `put_atom, actor`: the watcher, told of streams' aliases and accounts (`stream_account`);
/// - `get_atom` → `uint64_t`: live streams (tests, metrics);
/// - `stream_parked` / `stream_unparked` (from its streams): the upstream sockets kept for
///   detached sessions, capped per Pool API key and per upstream account with the limits the
///   latest park carries; beyond a cap the least recently parked streams get `stream_evict`
///   (they close their sockets). The caps bind per node, where the sockets are;
/// - `drain_atom` → `int64_t`: answered with the number of live streams once every one of them
///   has finished its running and queued turns (the node's drain waits for it, bounded).
/// Aliases live as long as their stream: it is monitored, and its aliases are dropped when it
/// quits (idle expiry after `gateway.websocket_owner_idle_timeout_ms`). An exit sent to the
/// registry (shutdown) is passed on to every live stream; a stream that fails only loses its
/// own aliases.
/// This is the seam for cluster ownership: a registry that consults the owner lease answers
/// `stream_opened` with a remote node's stream actor and nothing else changes.
caf::actor spawn_stream_registry(caf::actor_system& system, const stream_deps& deps);

} // namespace cxp::actors
