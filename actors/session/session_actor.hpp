#pragma once

#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/type_ids.hpp"

namespace cxp::actors {

/// The lifetime of one client session (a hashed `session-id`, window id or prompt-cache key) of
/// one pool, whose pin the pool keeps:
/// `ping_atom` marks a use. It quits `ttl` after the last ping (measured on the actor system's
/// clock, so a test coordinator steps it); the pool monitors it and forgets the session (and its
/// pin) then.
using session_actor = caf::typed_actor<caf::reacts_to<ping_atom>>;

/// Spawns a session that lives `ttl` after its last ping.
session_actor spawn_session_actor(caf::actor_system& system, std::chrono::seconds ttl);

} // namespace cxp::actors
