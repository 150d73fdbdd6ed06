#include "actors/stream/detached_socket_cap.hpp"

#include <catch2/catch.hpp>

using namespace cxp::actors;

namespace {

std::vector<uint64_t> streams_of(const std::vector<detached_socket_cap::eviction>& evicted) {
  std::vector<uint64_t> out;
  for (const auto& eviction : evicted) {
    out.push_back(eviction.stream);
  }
  return out;
}

} // namespace

TEST_CASE("the detached socket cap closes a key's least recently parked sockets first",
          "[unit][actors][stream]") {
  detached_socket_cap cap;
  const detached_socket_cap::limits limits{3, 100};
  for (uint64_t stream = 1; stream <= 3; ++stream) {
    CHECK(cap.park(stream, "key-a", "acct-1", limits).empty());
  }
  // Stream 1 was used again (attached, then detached): stream 2 is now the oldest.
  cap.unpark(1);
  CHECK(cap.park(1, "key-a", "acct-1", limits).empty());
  auto evicted = cap.park(4, "key-a", "acct-1", limits);
  REQUIRE(evicted.size() == 1);
  CHECK(evicted[0].stream == 2);
  CHECK(evicted[0].cap == detached_cap::api_key);
  CHECK(to_string(evicted[0].cap) == "api_key");
  CHECK(cap.count_for_key("key-a") == 3);
  // Another key has its own budget on the same account.
  CHECK(cap.park(10, "key-b", "acct-1", limits).empty());
  CHECK(cap.count_for_account("acct-1") == 4);
  // Parking twice does not count twice.
  CHECK(cap.park(10, "key-b", "acct-1", limits).empty());
  CHECK(cap.size() == 4);
}

TEST_CASE("the detached socket cap bounds an account across keys", "[unit][actors][stream]") {
  detached_socket_cap cap;
  const detached_socket_cap::limits limits{100, 2};
  CHECK(cap.park(1, "key-a", "acct-1", limits).empty());
  CHECK(cap.park(2, "key-b", "acct-2", limits).empty());
  CHECK(cap.park(3, "key-b", "acct-1", limits).empty());
  auto evicted = cap.park(4, "key-c", "acct-1", limits);
  CHECK(streams_of(evicted) == std::vector<uint64_t>{1});
  REQUIRE(evicted.size() == 1);
  CHECK(evicted[0].cap == detached_cap::account);
  CHECK(cap.count_for_account("acct-1") == 2);
  CHECK(cap.count_for_account("acct-2") == 1);
  CHECK(cap.count_for_key("key-a") == 0);
  // Lower limits (a settings change) trim the backlog at the next park, oldest first.
  evicted = cap.park(5, "key-b", "acct-1", {1, 100});
  CHECK(streams_of(evicted) == std::vector<uint64_t>{2, 3});
  CHECK(cap.size() == 2);
}

TEST_CASE("a zero cap keeps no detached socket, and unknown streams are ignored",
          "[unit][actors][stream]") {
  detached_socket_cap cap;
  auto evicted = cap.park(7, "key-a", "acct-1", {0, 10});
  CHECK(streams_of(evicted) == std::vector<uint64_t>{7});
  CHECK(cap.size() == 0);
  cap.unpark(99);
  CHECK(cap.park(8, "key-a", "acct-1", {1, 1}).empty());
  cap.unpark(8);
  CHECK(cap.size() == 0);
  CHECK(cap.count_for_key("key-a") == 0);
  CHECK(cap.count_for_account("acct-1") == 0);
}
