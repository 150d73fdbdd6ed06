#include "edge/server/actor_bridge.hpp"

#include <caf/actor_registry.hpp>
#include <caf/atom.hpp>

namespace cxp::edge {

namespace {

constexpr auto bridge_name = caf::atom("cxp-bridge");

} // namespace

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
      job.run(self);
    }};
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
