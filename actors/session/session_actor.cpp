#include "actors/session/session_actor.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace cxp::actors {

namespace {

struct session_state {
  caf::actor_clock::time_point last_used;
  static inline const char* name = "session_actor";
};

/// The session as it addresses itself: `tick_atom` is its TTL timer.
using session_impl = session_actor::extend<caf::reacts_to<tick_atom>>;

using session_self = caf::stateful_actor<session_state, session_impl::base>;

// The TTL is checked by a timer that runs once per TTL rather than a behavior timeout, which
// CAF re-arms (through its clock thread) on every message.
session_impl::behavior_type session_behavior(session_self* self, std::chrono::seconds ttl) {
  self->state.last_used = self->clock().now();
  self->delayed_send(self, ttl, tick_atom::value);
  return {
    [self](ping_atom) { self->state.last_used = self->clock().now(); },
    [self, ttl](tick_atom) {
      const auto idle = self->clock().now() - self->state.last_used;
      if (idle >= ttl) {
        self->quit();
        return;
      }
      self->delayed_send(self, std::chrono::duration_cast<std::chrono::milliseconds>(ttl - idle),
                         tick_atom::value);
    },
  };
}

} // namespace

session_actor spawn_session_actor(caf::actor_system& system, std::chrono::seconds ttl) {
  return system.spawn(session_behavior, ttl);
}

} // namespace cxp::actors
