#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/settings/settings_cache.hpp"
#include "actors/type_ids.hpp"
#include "edge/ingress/connection_gate.hpp"
#include "edge/ingress/ingress_rules.hpp"

namespace cxp::edge {

/// The node's current ingress rules, read by every connection and request without asking an
/// actor (the head of a request must be judged before its body is read). Updated from the
/// settings cache by the ingress refresher; readers get an immutable snapshot.
class ingress_policy {
public:
  ingress_policy();

  std::shared_ptr<const ingress_rules> rules() const;

  /// Compiles `settings` when it is not the snapshot seen last. True when the rules changed.
  bool update(const actors::settings_snapshot& settings);

  connection_gate& connections() { return *connections_; }

private:
  mutable std::mutex mutex_;
  std::shared_ptr<const ingress_rules> rules_;
  actors::settings_snapshot seen_;
  std::shared_ptr<connection_gate> connections_ = std::make_shared<connection_gate>();
};

/// The ingress refresher's interface: `refresh_atom` reads the settings now (its own timer does
/// so every interval).
using ingress_refresher_actor = caf::typed_actor<caf::reacts_to<actors::refresh_atom>>;

/// Keeps `policy` current: asks `settings` at once and then every `interval`, and calls
/// `on_change` (on a CAF thread) after the rules changed, so open websockets can be re-checked
/// against the firewall. `policy` is shared with the connections that read it.
ingress_refresher_actor spawn_ingress_refresher(caf::actor_system& system,
                                                actors::settings_cache_actor settings,
                                                std::shared_ptr<ingress_policy> policy,
                                                std::function<void(const ingress_rules&)> on_change,
                                                std::chrono::milliseconds interval);

} // namespace cxp::edge
