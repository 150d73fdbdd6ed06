#include "edge/server/actor_bridge.hpp"

#include <caf/atom.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/runtime/registered_actor.hpp"
#include "common/log.hpp"

namespace cxp::edge {

namespace {

constexpr auto bridge_name = caf::atom("cxp-bridge");

actor_bridge::behavior_type bridge_behavior(actor_bridge::pointer self) {
  return {[self](bridge_job& job) {
    try {
      job.run(self);
    } catch (const std::exception& failure) {
      report_bridge_failure(failure);
    }
  }};
}

caf::strong_actor_ptr spawn_bridge(caf::actor_system& system) {
  return caf::actor_cast<caf::strong_actor_ptr>(system.spawn<caf::hidden>(bridge_behavior));
}

} // namespace

void report_bridge_failure(const std::exception& failure) {
  log::error("bridge", "a bridge callback failed", {{"error", failure.what()}});
}

actor_bridge bridge_of(caf::actor_system& system) {
  return caf::actor_cast<actor_bridge>(actors::registered_actor(system, bridge_name, spawn_bridge));
}

bridge_scope::bridge_scope(caf::actor_system& system)
    : registered_actors_scope(system, {bridge_name}) {}

} // namespace cxp::edge
