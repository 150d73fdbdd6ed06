#include <chrono>
#include <thread>

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/stream/stream_registry.hpp"
#include "actors/type_ids.hpp"
#include "cluster/cluster_types.hpp"
#include "cluster/membership/node_heartbeat.hpp"
#include "cluster/node/node_actor.hpp"
#include "common/clock.hpp"
#include "persistence/cluster/session_lease_repository.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using test::backend;

namespace {

constexpr auto wait_limit = std::chrono::seconds{10};
constexpr auto lease_renewal = std::chrono::milliseconds{100};

/// A stream that takes everything and does nothing.
actors::stream_actor::behavior_type idle_stream() {
  return {[](actors::stream_attach&) {}, [](actors::stream_detach&) {}, [](actors::stream_turn&) {},
          [](actors::stream_forward&) {},
          [](actors::stream_ack&) {
          }};
}

/// The local stream registry's stand-in: one fresh stream actor per open; it takes the node as
/// the watcher of stream accounts like the real one.
actors::stream_registry_actor::behavior_type
fake_registry(actors::stream_registry_actor::pointer self) {
  return {
    [self](actors::stream_open&) {
      return actors::stream_opened{self->spawn<caf::linked>(idle_stream), false};
    },
    [](actors::stream_parked&) {},
    [](actors::stream_unparked&) {},
    [](actors::stream_alias&) {},
    [](actors::stream_account&) {},
    [](actors::get_atom) { return uint64_t{0}; },
    [](actors::drain_atom) { return int64_t{0}; },
    [](actors::put_atom, actors::stream_watcher_actor&) {},
  };
}

} // namespace

TEST_CASE("the node actor leases sessions it opens, refuses sessions another node holds, takes "
          "expired ones over and stops opening when draining",
          "[integration][cluster]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  test::test_database database{kind};
  caf::actor_system_config config;
  actors::add_message_types(config);
  cluster::add_cluster_message_types(config);
  caf::actor_system system{config};
  auto pool = actors::spawn_db_pool(system, database.db(), 2);
  auto registry = system.spawn(fake_registry);
  auto node = cluster::spawn_node_actor(
    system, {"node-self", pool, registry, {}, std::chrono::seconds{45}, lease_renewal});
  caf::scoped_actor self{system};
  persistence::session_lease_repository leases{database.db()};

  std::vector<actors::stream_actor> streams; // keeps the opened streams alive
  auto open = [&](std::vector<std::string> aliases) {
    caf::expected<actors::stream_opened> result{caf::error{}};
    self->request(node, wait_limit, actors::stream_open{std::move(aliases), {}})
      .receive(
        [&](actors::stream_opened& opened) {
          streams.push_back(opened.stream);
          result = opened;
        },
        [&](caf::error& error) { result = error; });
    return result;
  };

  SECTION("a new session is leased under every key, and the same session opens again locally") {
    auto opened = open({"turn-state-1", "window-1"});
    REQUIRE(opened);
    auto by_state = leases.find("turn-state-1");
    auto by_window = leases.find("window-1");
    REQUIRE(by_state);
    REQUIRE(by_state->has_value());
    REQUIRE(by_window->has_value());
    CHECK((*by_state)->owner_node_id == "node-self");
    CHECK((*by_window)->lease_token == (*by_state)->lease_token);
    // A reconnect naming only the window id is this node's session (no new lease).
    auto again = open({"turn-state-2", "window-1"});
    REQUIRE(again);
    CHECK((*leases.find("window-1"))->lease_token == (*by_state)->lease_token);

    // Drain: no new sessions (answered once the local streams are idle); the hand-off expires
    // every lease now, keeping it for the next owner.
    self->request(node, wait_limit, actors::drain_atom::value)
      .receive([](int64_t) {}, [](caf::error& error) { FAIL(caf::to_string(error)); });
    auto refused = open({"turn-state-3"});
    REQUIRE_FALSE(refused);
    CHECK(to_errc(refused.error()) == errc::service_unavailable);
    int64_t handed_off = -1;
    self->request(node, wait_limit, actors::hand_off_atom::value)
      .receive([&](int64_t count) { handed_off = count; },
               [](caf::error& error) { FAIL(caf::to_string(error)); });
    CHECK(handed_off == 2);
    const auto now = to_iso8601(std::chrono::system_clock::now());
    CHECK((*leases.find("turn-state-1"))->expires_at <= now);
    CHECK((*leases.find("window-1"))->expires_at <= now);
  }

  SECTION("the owner keeps renewing its leases") {
    REQUIRE(open({"renewed"}));
    const auto first_expiry = (*leases.find("renewed"))->expires_at;
    const auto give_up = std::chrono::steady_clock::now() + wait_limit;
    while ((*leases.find("renewed"))->expires_at == first_expiry
           && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    CHECK((*leases.find("renewed"))->expires_at > first_expiry);
  }

  SECTION("a stream that quits (idle expiry) gives its lease back") {
    auto opened = open({"short-lived"});
    REQUIRE(opened);
    REQUIRE(leases.find("short-lived")->has_value());
    self->send_exit(opened->stream, caf::exit_reason::user_shutdown);
    const auto give_up = std::chrono::steady_clock::now() + wait_limit;
    while (leases.find("short-lived")->has_value() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    CHECK_FALSE(leases.find("short-lived")->has_value());
  }

  SECTION("a key the stream learns later joins its lease with its account and goes with it") {
    auto opened = open({"learns-later"});
    REQUIRE(opened);
    const auto token = (*leases.find("learns-later"))->lease_token;
    self->send(node, actors::stream_account{opened->stream, "account-3"});
    self->send(node, actors::stream_alias{"later-response-id", opened->stream});
    CHECK(test::eventually([&] {
      auto lease = leases.find("later-response-id");
      return lease && lease->has_value() && (*lease)->lease_token == token
             && (*lease)->owner_node_id == "node-self"
             && (*lease)->account_id == std::optional<std::string>{"account-3"};
    }));
    self->send_exit(opened->stream, caf::exit_reason::user_shutdown);
    CHECK(test::eventually([&] {
      return !leases.find("learns-later")->has_value()
             && !leases.find("later-response-id")->has_value();
    }));
  }

  SECTION("a live lease of a node that is not connected answers owner_unavailable") {
    REQUIRE(leases
              .acquire("held-elsewhere", "node-other", std::nullopt,
                       std::chrono::system_clock::now(), std::chrono::seconds{45})
              ->has_value());
    auto refused = open({"held-elsewhere"});
    REQUIRE_FALSE(refused);
    CHECK(to_errc(refused.error()) == errc::owner_unavailable);
    CHECK((*leases.find("held-elsewhere"))->owner_node_id == "node-other");
  }

  SECTION("an expired lease of another node is taken over, keeping its account") {
    const auto long_ago = std::chrono::system_clock::now() - std::chrono::minutes{5};
    REQUIRE(leases
              .acquire("expired-elsewhere", "node-dead", std::string{"account-7"}, long_ago,
                       std::chrono::seconds{45})
              ->has_value());
    auto opened = open({"expired-elsewhere"});
    REQUIRE(opened);
    auto lease = leases.find("expired-elsewhere");
    REQUIRE(lease->has_value());
    CHECK((*lease)->owner_node_id == "node-self");
    CHECK((*lease)->account_id == std::optional<std::string>{"account-7"});
  }

  self->send_exit(node, caf::exit_reason::user_shutdown);
  self->send_exit(registry, caf::exit_reason::user_shutdown);
  self->send_exit(pool, caf::exit_reason::user_shutdown);
}
