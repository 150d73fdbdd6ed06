#include "edge/ingress/ingress_policy.hpp"

#include <caf/event_based_actor.hpp>

#include "actors/type_ids.hpp"

namespace cxp::edge {

ingress_policy::ingress_policy()
    : rules_(std::make_shared<const ingress_rules>(
      ingress_rules::from(domain::instance_settings::from_stored({})))) {}

std::shared_ptr<const ingress_rules> ingress_policy::rules() const {
  std::lock_guard lock{mutex_};
  return rules_;
}

bool ingress_policy::update(const actors::settings_snapshot& settings) {
  if (!settings) {
    return false;
  }
  {
    std::lock_guard lock{mutex_};
    if (settings == seen_) {
      return false;
    }
  }
  auto compiled = std::make_shared<const ingress_rules>(ingress_rules::from(*settings));
  std::lock_guard lock{mutex_};
  seen_ = settings;
  rules_ = std::move(compiled);
  return true;
}

caf::actor spawn_ingress_refresher(caf::actor_system& system, actors::settings_cache_actor settings,
                                   std::shared_ptr<ingress_policy> policy,
                                   std::function<void(const ingress_rules&)> on_change,
                                   std::chrono::milliseconds interval) {
  return system.spawn<caf::hidden>(
    [settings, policy, on_change, interval](caf::event_based_actor* self) -> caf::behavior {
      self->send(self, actors::tick_atom::value);
      return {[=](actors::tick_atom) {
        self->request(settings, interval, actors::get_atom::value)
          .then(
            [=](const actors::settings_snapshot& snapshot) {
              if (policy->update(snapshot)) {
                on_change(*policy->rules());
              }
            },
            [](const caf::error&) {});
        self->delayed_send(self, interval, actors::tick_atom::value);
      }};
    });
}

} // namespace cxp::edge
