#include "edge/server/actor_bridge.hpp"

#include <caf/atom.hpp>

#include "actors/runtime/registered_actor.hpp"
#include "common/log.hpp"

namespace cxp::edge {

namespace {

constexpr auto bridge_name = caf::atom("cxp-bridge");

caf::strong_actor_ptr spawn_bridge(caf::actor_system& system) {
  return caf::actor_cast<caf::strong_actor_ptr>(
    system.spawn<caf::hidden>([](caf::event_based_actor* self) -> caf::behavior {
      return {[self](bridge_job& job) {
        try {
          job.run(self);
        } catch (const std::exception& failure) {
          report_bridge_failure(failure);
        }
      }};
    }));
}

} // namespace

void report_bridge_failure(const std::exception& failure) {
  log::error("bridge", "a bridge callback failed", {{"error", failure.what()}});
}

// Supervision: should the bridge still die, the next ask spawns a new one instead of sending
// every request to a dead actor (which would hang every route of the node).
caf::actor bridge_actor(caf::actor_system& system) {
  return caf::actor_cast<caf::actor>(actors::registered_actor(system, bridge_name, spawn_bridge));
}

bridge_scope::~bridge_scope() {
  actors::end_registered_actor(system_, bridge_name);
}

} // namespace cxp::edge
