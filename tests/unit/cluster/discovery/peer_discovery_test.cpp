#include "cluster/discovery/peer_discovery.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

using namespace cxp::cluster;

TEST_CASE("DNS discovery resolves a name to its IPv4 addresses, each once",
          "[unit][cluster][discovery]") {
  // "localhost" resolves from /etc/hosts, without a network.
  auto addresses = resolve_a_records("localhost");
  REQUIRE_FALSE(addresses.empty());
  CHECK(std::find(addresses.begin(), addresses.end(), "127.0.0.1") != addresses.end());
  CHECK(std::count(addresses.begin(), addresses.end(), "127.0.0.1") == 1);
}
