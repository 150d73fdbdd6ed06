#include "actors/session/session_actor.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/type_ids.hpp"

namespace cxp::actors {

namespace {

using steady = std::chrono::steady_clock;

struct session_state {
  steady::time_point last_used = steady::now();
  static inline const char* name = "session_actor";
};

// The TTL is checked by a timer that runs once per TTL rather than a behavior timeout, which
// CAF re-arms (through its clock thread) on every message.
caf::behavior session_behavior(caf::stateful_actor<session_state>* self, std::chrono::seconds ttl) {
  self->delayed_send(self, ttl, tick_atom::value);
  return {
    [self](ping_atom) { self->state.last_used = steady::now(); },
    [self, ttl](tick_atom) {
      const auto idle = steady::now() - self->state.last_used;
      if (idle >= ttl) {
        return self->quit();
      }
      self->delayed_send(self, std::chrono::duration_cast<std::chrono::milliseconds>(ttl - idle),
                         tick_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_session_actor(caf::actor_system& system, std::chrono::seconds ttl) {
  return system.spawn(session_behavior, ttl);
}

} // namespace cxp::actors
