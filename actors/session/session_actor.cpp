#include "actors/session/session_actor.hpp"

#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/type_ids.hpp"

namespace cxp::actors {

namespace {

struct session_state {
  std::string pinned_account;
  static inline const char* name = "session_actor";
};

caf::behavior session_behavior(caf::stateful_actor<session_state>* self, std::chrono::seconds ttl) {
  return {
    [self](get_atom) { return self->state.pinned_account; },
    [self](put_atom, std::string& account_id) {
      self->state.pinned_account = std::move(account_id);
    },
    caf::after(ttl) >> [self] { self->quit(); },
  };
}

} // namespace

caf::actor spawn_session_actor(caf::actor_system& system, std::chrono::seconds ttl) {
  return system.spawn(session_behavior, ttl);
}

} // namespace cxp::actors
