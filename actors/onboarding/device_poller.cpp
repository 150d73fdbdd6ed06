#include "actors/onboarding/device_poller.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "common/log.hpp"

namespace cxp::actors {

namespace {

/// A pass may wait on a few issuer calls of 30 s each.
constexpr auto pass_timeout = std::chrono::minutes{5};

struct poller_state {
  std::chrono::milliseconds interval{1'000};
  // Not the first member: CAF builds a state from the actor's pointer when it can, and C++20
  // would let it try through a typed handle's constructor.
  db_pool_actor workers;
  poll_pass pass;
  static inline const char* name = "device_poller";
};

using poller_self = caf::stateful_actor<poller_state, device_poller_actor::base>;

void run_pass(poller_self* self) {
  ask_db(
    self, self->state.workers, pass_timeout,
    [pass = self->state.pass](persistence::database&) -> caf::expected<size_t> { return pass(); })
    .then([self](caf::expected<size_t>& polled) {
      if (!polled) {
        log::warn("admin", "device-code poll pass failed", {{"error", context_of(polled.error())}});
      }
      self->delayed_send(self, self->state.interval, tick_atom::value);
    });
}

device_poller_actor::behavior_type poller_behavior(poller_self* self, db_pool_actor workers,
                                                   poll_pass pass,
                                                   std::chrono::milliseconds interval) {
  self->state.workers = std::move(workers);
  self->state.pass = std::move(pass);
  self->state.interval = interval;
  self->delayed_send(self, interval, tick_atom::value);
  return {
    [self](tick_atom) { run_pass(self); },
  };
}

} // namespace

device_poller_actor spawn_device_poller(caf::actor_system& system, db_pool_actor workers,
                                        poll_pass pass, std::chrono::milliseconds interval) {
  return system.spawn(poller_behavior, std::move(workers), std::move(pass), interval);
}

} // namespace cxp::actors
