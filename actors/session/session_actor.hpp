#pragma once

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace cxp::actors {

/// One client session (a hashed `session-id`, window id or prompt-cache key) of one pool: the
/// account it is pinned to. `get_atom` → `std::string` (empty until the first success);
/// `put_atom, std::string account_id` pins it (the pool re-sends it on every use, which keeps
/// the session alive). It quits after `ttl` without messages; the pool monitors it and forgets
/// the session then.
caf::actor spawn_session_actor(caf::actor_system& system, std::chrono::seconds ttl);

} // namespace cxp::actors
