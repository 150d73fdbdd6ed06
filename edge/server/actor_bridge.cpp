#include "edge/server/actor_bridge.hpp"

#include <caf/actor_registry.hpp>
#include <caf/atom.hpp>

#include "common/log.hpp"

namespace cxp::edge {

namespace {

constexpr auto bridge_name = caf::atom("cxp-bridge");

} // namespace

void report_bridge_failure(const std::exception& failure) {
  log::error("bridge", "a bridge callback failed", {{"error", failure.what()}});
}

caf::actor bridge_actor(caf::actor_system& system) {
  if (auto existing = system.registry().get(bridge_name)) {
    return caf::actor_cast<caf::actor>(existing);
  }
  static std::mutex spawning;
  std::lock_guard lock{spawning};
  if (auto existing = system.registry().get(bridge_name)) {
    return caf::actor_cast<caf::actor>(existing);
  }
  auto bridge = system.spawn<caf::hidden>([](caf::event_based_actor* self) -> caf::behavior {
    return {[self](bridge_job& job) {
      try {
        job.run(self);
      } catch (const std::exception& failure) {
        report_bridge_failure(failure);
      }
    }};
  });
  // Supervision: should the bridge still die, the next ask spawns a new one instead of sending
  // every request to a dead actor (which would hang every route of the node).
  bridge->attach_functor([&system, weak = caf::actor_cast<caf::weak_actor_ptr>(bridge)] {
    auto registered = system.registry().get(bridge_name);
    if (registered && registered == weak.lock()) {
      system.registry().erase(bridge_name);
    }
  });
  system.registry().put(bridge_name, caf::actor_cast<caf::strong_actor_ptr>(bridge));
  return bridge;
}

bridge_scope::~bridge_scope() {
  if (auto bridge = system_.registry().get(bridge_name)) {
    system_.registry().erase(bridge_name);
    caf::anon_send_exit(bridge, caf::exit_reason::user_shutdown);
  }
}

} // namespace cxp::edge
