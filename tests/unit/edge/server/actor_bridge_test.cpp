#include "edge/server/actor_bridge.hpp"

#include <future>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>

using namespace cxp;
using namespace cxp::edge;

namespace {

caf::behavior doubler(caf::event_based_actor*) {
  return {[](int value) {
    return value * 2;
  }};
}

/// Asks `target` to double `value` through the bridge and waits for the callback's outcome.
caf::expected<int> ask_double(caf::actor_system& system, const caf::actor& target, int value) {
  auto answered = std::make_shared<std::promise<caf::expected<int>>>();
  auto outcome = answered->get_future();
  ask<int>(
    system, target, std::chrono::seconds{5},
    [answered](caf::expected<int> reply) { answered->set_value(std::move(reply)); }, value);
  REQUIRE(outcome.wait_for(std::chrono::seconds{5}) == std::future_status::ready);
  return outcome.get();
}

} // namespace

TEST_CASE("a bridge callback that throws is answered again with internal_error", "[bridge]") {
  caf::actor_system_config config;
  caf::actor_system system{config};
  bridge_scope scope{system};
  auto target = system.spawn(doubler);

  auto answered = std::make_shared<std::promise<caf::error>>();
  auto second_call = answered->get_future();
  ask<int>(
    system, target, std::chrono::seconds{5},
    [answered](caf::expected<int> reply) {
      if (reply) {
        throw std::runtime_error{"a handler bug"};
      }
      answered->set_value(reply.error());
    },
    21);
  REQUIRE(second_call.wait_for(std::chrono::seconds{5}) == std::future_status::ready);
  CHECK(to_errc(second_call.get()) == errc::internal_error);
  // The shared bridge survived: the next question is answered.
  auto next = ask_double(system, target, 4);
  REQUIRE(next);
  CHECK(*next == 8);
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
}

TEST_CASE("a bridge that died is spawned again by the next question", "[bridge]") {
  caf::actor_system_config config;
  caf::actor_system system{config};
  bridge_scope scope{system};
  auto target = system.spawn(doubler);
  REQUIRE(ask_double(system, target, 1));

  auto first = bridge_of(system);
  caf::scoped_actor self{system};
  self->send_exit(first, caf::exit_reason::kill);
  self->wait_for(first);

  auto answer = ask_double(system, target, 5);
  REQUIRE(answer);
  CHECK(*answer == 10);
  CHECK(bridge_of(system) != first);
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
}
