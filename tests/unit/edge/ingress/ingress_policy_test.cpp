#include "edge/ingress/ingress_policy.hpp"

#include <memory>
#include <string>
#include <vector>

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>

#include "tests/unit/actors/actor_fixture.hpp"

using namespace cxp;
using namespace cxp::edge;
using namespace std::chrono_literals;

namespace {

actors::settings_snapshot snapshot_of(std::map<std::string, std::string> stored) {
  return std::make_shared<const domain::instance_settings>(
    domain::instance_settings::from_stored(stored));
}

/// A settings cache that answers whatever snapshot the test put in `current`.
actors::settings_cache_actor::behavior_type
fake_settings(std::shared_ptr<actors::settings_snapshot> current) {
  return {
    [current](actors::get_atom) { return *current; },
    [](actors::reload_atom) {},
    [](actors::tick_atom) {},
  };
}

} // namespace

TEST_CASE("the ingress refresher compiles each new settings snapshot once and reports the change",
          "[ingress]") {
  test::actor_fixture fx;
  auto current = std::make_shared<actors::settings_snapshot>(snapshot_of({}));
  auto settings = fx.system.spawn(fake_settings, current);
  auto policy = std::make_shared<ingress_policy>();
  auto changes = std::make_shared<std::vector<int64_t>>();
  auto refresher = spawn_ingress_refresher(
    fx.system, settings, policy,
    [changes](const ingress_rules& rules) { changes->push_back(rules.max_connections_per_ip); },
    1s);

  // The first snapshot is read at once.
  fx.sched.run();
  CHECK(changes->size() == 1);

  // The same snapshot again changes nothing.
  fx.elapse(1s);
  CHECK(changes->size() == 1);

  *current = snapshot_of({{"ingress.max_connections_per_ip", "7"}});
  fx.elapse(999ms);
  CHECK(changes->size() == 1); // not due yet
  fx.elapse(1ms);
  REQUIRE(changes->size() == 2);
  CHECK(changes->back() == 7);
  CHECK(policy->rules()->max_connections_per_ip == 7);

  // Asked to, it reads at once instead of at its next tick.
  *current = snapshot_of({{"ingress.max_connections_per_ip", "9"}});
  caf::anon_send(refresher, actors::refresh_atom::value);
  fx.sched.run();
  REQUIRE(changes->size() == 3);
  CHECK(changes->back() == 9);

  caf::anon_send_exit(refresher, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(settings, caf::exit_reason::user_shutdown);
  fx.sched.run();
}
