#pragma once

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

namespace cxp::actors {

/// Spawns the hidden actor `registered_actor` registers.
using registered_actor_factory = caf::strong_actor_ptr (*)(caf::actor_system&);

/// The node-wide actor registered in `system` under `name`: spawned by `spawn` on first use, and
/// again when the registered one has terminated. Callable from any thread.
/// `spawn` must spawn a hidden actor, which never holds up the system's shutdown; whoever owns
/// the system therefore ends it with `end_registered_actor` before the system goes, since one
/// left in the registry would be destroyed after the scheduler stopped.
caf::strong_actor_ptr registered_actor(caf::actor_system& system, caf::atom_value name,
                                       registered_actor_factory spawn);

/// Removes the actor registered under `name` (if any) from the registry and ends it.
void end_registered_actor(caf::actor_system& system, caf::atom_value name);

} // namespace cxp::actors
