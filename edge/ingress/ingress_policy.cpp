#include "edge/ingress/ingress_policy.hpp"

#include <caf/typed_event_based_actor.hpp>

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

namespace {

/// The refresher as it addresses itself: `tick_atom` is its timer.
using refresher_impl = ingress_refresher_actor::extend<caf::reacts_to<actors::tick_atom>>;

refresher_impl::behavior_type
refresher_behavior(refresher_impl::pointer self, actors::settings_cache_actor settings,
                   std::shared_ptr<ingress_policy> policy,
                   std::function<void(const ingress_rules&)> on_change,
                   std::chrono::milliseconds interval) {
  auto refresh = [=] {
    self->request(settings, interval, actors::get_atom::value)
      .then(
        [=](const actors::settings_snapshot& snapshot) {
          if (policy->update(snapshot)) {
            on_change(*policy->rules());
          }
        },
        [](const caf::error&) {
          // A missed refresh is retried on the next tick; the rules in force stay.
        });
  };
  self->send(self, actors::tick_atom::value);
  return {
    [refresh](actors::refresh_atom) { refresh(); },
    [=](actors::tick_atom) {
      refresh();
      self->delayed_send(self, interval, actors::tick_atom::value);
    },
  };
}

} // namespace

ingress_refresher_actor spawn_ingress_refresher(caf::actor_system& system,
                                                actors::settings_cache_actor settings,
                                                std::shared_ptr<ingress_policy> policy,
                                                std::function<void(const ingress_rules&)> on_change,
                                                std::chrono::milliseconds interval) {
  return system.spawn<caf::hidden>(refresher_behavior, std::move(settings), std::move(policy),
                                   std::move(on_change), interval);
}

} // namespace cxp::edge
