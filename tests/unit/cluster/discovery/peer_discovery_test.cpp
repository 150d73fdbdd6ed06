#include "cluster/discovery/peer_discovery.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/type_ids.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace cxp;
using namespace cxp::cluster;

TEST_CASE("DNS discovery resolves a name to its IPv4 addresses, each once",
          "[unit][cluster][discovery]") {
  // "localhost" resolves from /etc/hosts, without a network.
  auto addresses = resolve_a_records("localhost");
  REQUIRE_FALSE(addresses.empty());
  CHECK(std::find(addresses.begin(), addresses.end(), "127.0.0.1") != addresses.end());
  CHECK(std::count(addresses.begin(), addresses.end(), "127.0.0.1") == 1);
}

namespace {

/// What discovery asked its dialer and told its node.
struct discovery_log {
  int resolves = 0;
  std::vector<std::string> dials; ///< the endpoints, in the order they were dialed
  std::vector<peer_node_actor> peers_up;
};

/// The fake dialer's interface: the dialer's, and the test's answer to the dial of a number
/// (its index in `discovery_log::dials`): `put_atom, number, peer` (reached) or
/// `put_atom, number, error` (unreachable).
using held_dialer_actor =
  peer_dialer_actor::extend<caf::reacts_to<actors::put_atom, uint64_t, peer_node_actor>,
                            caf::reacts_to<actors::put_atom, uint64_t, caf::error>>;

/// Discovery on CAF's test coordinator with a typed fake dialer (DNS answers at once with
/// `10.0.0.2`; dials wait for the test) and a fake node actor that records the peers it hears of.
struct discovery_fixture : test::actor_fixture {
  discovery_fixture() {
    dialer = system.spawn(
      [log = log](held_dialer_actor::pointer self) -> held_dialer_actor::behavior_type {
        auto held = std::make_shared<std::vector<caf::typed_response_promise<peer_node_actor>>>();
        return {
          [log](actors::resolve_atom, const std::string& query) {
            CHECK(query == "peers.cluster.local");
            ++log->resolves;
            return std::vector<std::string>{"10.0.0.2"};
          },
          [self, log, held](actors::connect_atom, const cluster_peer& peer) {
            held->push_back(self->make_response_promise<peer_node_actor>());
            log->dials.push_back(peer.host + ":" + std::to_string(peer.port));
            return held->back();
          },
          [held](actors::put_atom, uint64_t dial, peer_node_actor& reached) {
            held->at(dial).deliver(std::move(reached));
          },
          [held](actors::put_atom, uint64_t dial, caf::error& unreachable) {
            held->at(dial).deliver(std::move(unreachable));
          },
        };
      });
    node = system.spawn([log = log]() -> peer_listener_actor::behavior_type {
      return {[log](actors::peer_up_atom, peer_node_actor& peer) {
        log->peers_up.push_back(peer);
      }};
    });
    discovery_options options;
    options.peers = {{"10.0.0.1", 4370}};
    options.dns_query = "peers.cluster.local";
    options.dns_port = 4370;
    options.interval = interval;
    options.node = node;
    options.expected = &expected;
    options.connected = &connected_gauge;
    discovery = spawn_peer_discovery(system, options, dialer);
    sched.run();
  }

  ~discovery_fixture() {
    stop(discovery, dialer, node);
    for (const auto& peer : peers) {
      stop(peer);
    }
  }

  /// A peer's node actor (it is never asked anything here).
  peer_node_actor spawn_peer() {
    auto peer = system.spawn([]() -> peer_node_actor::behavior_type {
      return {[](cluster_envelope& envelope) { return envelope; },
              [](actors::notice_atom, cluster_envelope&) {
              }};
    });
    peers.push_back(peer);
    return peer;
  }

  /// Answers dial number `dial` with `outcome` (a reached peer or an error).
  template <class Outcome>
  void answer(uint64_t dial, Outcome outcome) {
    caf::anon_send(dialer, actors::put_atom::value, dial, std::move(outcome));
    sched.run();
  }

  std::vector<std::string> connected() {
    auto endpoints = request_of<std::vector<std::string>>(discovery, actors::get_atom::value);
    REQUIRE(endpoints);
    return *endpoints;
  }

  static constexpr auto interval = std::chrono::seconds{5};
  metrics::gauge expected;        ///< codex_pooler_cluster_peers_expected
  metrics::gauge connected_gauge; ///< codex_pooler_cluster_peers_connected
  std::shared_ptr<discovery_log> log = std::make_shared<discovery_log>();
  held_dialer_actor dialer;
  peer_listener_actor node;
  peer_discovery_actor discovery;
  std::vector<peer_node_actor> peers;
};

} // namespace

TEST_CASE_METHOD(discovery_fixture,
                 "discovery dials every configured and resolved peer once, and tells the node of "
                 "each it reaches",
                 "[unit][cluster][discovery]") {
  CHECK(log->resolves == 1);
  CHECK(log->dials == std::vector<std::string>{"10.0.0.1:4370", "10.0.0.2:4370"});
  // A tick while both dials are pending dials neither again.
  elapse(interval);
  CHECK(log->dials.size() == 2);

  auto first = spawn_peer();
  answer(0, first);
  REQUIRE(log->peers_up.size() == 1);
  CHECK(log->peers_up[0] == first);
  CHECK(connected() == std::vector<std::string>{"10.0.0.1:4370"});
  elapse(interval);
  CHECK(log->dials.size() == 2); // connected, and still dialing the other
  // The gauges the "cluster peers missing" alert compares: one configured, one resolved.
  CHECK(expected.value() == 2);
  CHECK(connected_gauge.value() == 1);
}

TEST_CASE_METHOD(discovery_fixture,
                 "discovery retries a failed dial on its next tick and redials a peer whose "
                 "connection went down",
                 "[unit][cluster][discovery]") {
  auto first = spawn_peer();
  answer(0, first);
  answer(1, make_error(errc::owner_unavailable, "connection refused"));
  CHECK(connected() == std::vector<std::string>{"10.0.0.1:4370"});

  // Nothing is dialed again before the tick.
  elapse(interval - std::chrono::seconds{1});
  CHECK(log->dials.size() == 2);
  elapse(std::chrono::seconds{1});
  REQUIRE(log->dials.size() == 3);
  CHECK(log->dials[2] == "10.0.0.2:4370");
  auto second = spawn_peer();
  answer(2, second);
  REQUIRE(log->peers_up.size() == 2);
  CHECK(log->peers_up[1] == second);

  CHECK(connected_gauge.value() == 2);

  // The first peer's node goes down: it is redialed at the next tick, and only it.
  stop(first);
  CHECK(connected() == std::vector<std::string>{"10.0.0.2:4370"});
  CHECK(connected_gauge.value() == 1);
  elapse(interval);
  REQUIRE(log->dials.size() == 4);
  CHECK(log->dials[3] == "10.0.0.1:4370");
  CHECK(log->resolves == 3); // one resolution per tick (t = 0, 5 and 10 s)
}
