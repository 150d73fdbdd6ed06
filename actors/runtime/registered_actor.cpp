#include "actors/runtime/registered_actor.hpp"

#include <mutex>

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/send.hpp>

namespace cxp::actors {

caf::strong_actor_ptr registered_actor(caf::actor_system& system, caf::atom_value name,
                                       registered_actor_factory spawn) {
  if (auto existing = system.registry().get(name)) {
    return existing;
  }
  // The registry cannot insert-if-absent and tell who won, so first uses spawn one at a time.
  static std::mutex spawning;
  std::lock_guard lock{spawning};
  if (auto existing = system.registry().get(name)) {
    return existing;
  }
  auto spawned = spawn(system);
  spawned->get()->attach_functor(
    [&system, name, weak = caf::actor_cast<caf::weak_actor_ptr>(spawned)] {
      auto registered = system.registry().get(name);
      if (registered && registered == weak.lock()) {
        system.registry().erase(name);
      }
    });
  system.registry().put(name, spawned);
  return spawned;
}

void end_registered_actor(caf::actor_system& system, caf::atom_value name) {
  if (auto registered = system.registry().get(name)) {
    system.registry().erase(name);
    caf::anon_send_exit(registered, caf::exit_reason::user_shutdown);
  }
}

} // namespace cxp::actors
