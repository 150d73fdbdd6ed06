#pragma once

#include <vector>

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

/// Ends the actors registered under `names` when it goes out of scope. Declare it right after
/// the actor system.
class registered_actors_scope {
public:
  registered_actors_scope(caf::actor_system& system, std::vector<caf::atom_value> names)
      : system_(system),
        names_(std::move(names)) {}
  ~registered_actors_scope();
  registered_actors_scope(const registered_actors_scope&) = delete;
  registered_actors_scope& operator=(const registered_actors_scope&) = delete;

private:
  caf::actor_system& system_;
  std::vector<caf::atom_value> names_;
};

} // namespace cxp::actors
