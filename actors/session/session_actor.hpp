#pragma once

#include <chrono>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace cxp::actors {

/// The lifetime of one client session (a hashed `session-id`, window id or prompt-cache key) of
/// one pool, whose pin the pool keeps: `ping_atom` marks a use, and it quits after `ttl` without
/// one; the pool monitors it and forgets the session (and its pin) then.
caf::actor spawn_session_actor(caf::actor_system& system, std::chrono::seconds ttl);

} // namespace cxp::actors
