#include "actors/runtime/registered_actor.hpp"

#include <mutex>

#include <caf/abstract_actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/send.hpp>

namespace cxp::actors {

namespace {

/// The actor registered under `name`, unless it terminated.
caf::strong_actor_ptr live_registered(caf::actor_system& system, caf::atom_value name) {
  auto registered = system.registry().get(name);
  if (registered && registered->get()->getf(caf::abstract_actor::is_terminated_flag)) {
    return nullptr;
  }
  return registered;
}

} // namespace

// A dead actor is replaced when it is next asked for rather than by a functor attached to it:
// one left in the registry until the system's destruction would run such a functor against a
// registry that is being destroyed.
caf::strong_actor_ptr registered_actor(caf::actor_system& system, caf::atom_value name,
                                       registered_actor_factory spawn) {
  if (auto live = live_registered(system, name)) {
    return live;
  }
  // The registry cannot insert-if-absent and tell who won, so first uses spawn one at a time.
  static std::mutex spawning;
  std::lock_guard lock{spawning};
  if (auto live = live_registered(system, name)) {
    return live;
  }
  system.registry().erase(name);
  auto spawned = spawn(system);
  system.registry().put(name, spawned);
  return spawned;
}

registered_actors_scope::~registered_actors_scope() {
  for (const auto name : names_) {
    end_registered_actor(system_, name);
  }
}

void end_registered_actor(caf::actor_system& system, caf::atom_value name) {
  if (auto registered = system.registry().get(name)) {
    system.registry().erase(name);
    caf::anon_send_exit(registered, caf::exit_reason::user_shutdown);
  }
}

} // namespace cxp::actors
