#pragma once

#include <cstdint>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/stream/stream_actor.hpp"
#include "actors/type_ids.hpp"

namespace cxp::actors {

/// What opens a session's stream (`stream_open` → `stream_opened`), as the edge addresses it:
/// this node's stream registry, or the cluster's node actor that stands in for it.
using stream_opener_actor = caf::typed_actor<caf::replies_to<stream_open>::with<stream_opened>>;

/// Hears what the streams learn about their sessions: aliases and the account served on (the
/// cluster's node actor, which leases sessions).
using stream_watcher_actor =
  caf::typed_actor<caf::reacts_to<stream_alias>, caf::reacts_to<stream_account>>;

/// The stream registry's interface (see `spawn_stream_registry`): it opens streams, keeps what
/// its streams report (`stream_tracker_actor`), counts and drains them, and takes a watcher.
using stream_registry_actor = stream_opener_actor::extend_with<stream_tracker_actor>::extend<
  caf::replies_to<get_atom>::with<uint64_t>, caf::replies_to<drain_atom>::with<int64_t>,
  caf::reacts_to<put_atom, stream_watcher_actor>>;

/// The node's websocket sessions: hashed session aliases (turn state, window id, session
/// header, previous response ids; each hashed with the pool and key so a stored value reveals
/// nothing and two keys never share a session) → the session's `stream_actor`. Messages:
/// - `stream_open` → `stream_opened`: the live stream of the first known alias (registering the
///   other aliases with it), else a new stream actor registered under every alias;
/// - `stream_alias`: one more alias for a live stream (a stream's response id), passed on to the
///   watcher;
/// - `put_atom, stream_watcher_actor`: the watcher, told of streams' aliases and accounts
/// (`stream_account`);
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
/// The cluster's node actor stands in for it towards the edge (`stream_opener_actor`): it
/// consults the session's owner lease and may answer with a proxy for another node's stream.
stream_registry_actor spawn_stream_registry(caf::actor_system& system, const stream_deps& deps);

} // namespace cxp::actors
