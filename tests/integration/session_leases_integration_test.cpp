#include <chrono>

#include <catch2/catch.hpp>

#include "common/clock.hpp"
#include "persistence/cluster/session_lease_repository.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using test::backend;

namespace {

constexpr auto lease_ttl = std::chrono::milliseconds{45'000};
const std::string session = "3f1c0d6e9a5b4c2d8e7f6a5b4c3d2e1f3f1c0d6e9a5b4c2d8e7f6a5b4c3d2e1f";

} // namespace

TEST_CASE("a session lease is acquired once, renewed, read and released by its holder",
          "[integration][persistence][cluster]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  test::test_database database{kind};
  persistence::session_lease_repository leases{database.db()};
  manual_clock clock;

  auto none = leases.find(session);
  REQUIRE(none);
  CHECK_FALSE(none->has_value());

  auto first = leases.acquire(session, "node-a", std::nullopt, clock.now(), lease_ttl);
  REQUIRE(first);
  REQUIRE(first->has_value());
  const auto token = (*first)->lease_token;
  CHECK((*first)->owner_node_id == "node-a");
  CHECK_FALSE((*first)->account_id.has_value());
  CHECK((*first)->expires_at == to_iso8601(clock.now() + lease_ttl));

  // A live lease cannot be taken by another node.
  clock.advance(std::chrono::seconds{30});
  auto refused = leases.acquire(session, "node-b", std::nullopt, clock.now(), lease_ttl);
  REQUIRE(refused);
  CHECK_FALSE(refused->has_value());

  auto renewed = leases.renew(session, token, clock.now(), lease_ttl);
  REQUIRE(renewed);
  CHECK(*renewed);
  auto pinned = leases.pin_account(session, token, "account-1");
  REQUIRE(pinned);
  CHECK(*pinned);
  auto read = leases.find(session);
  REQUIRE(read);
  REQUIRE(read->has_value());
  CHECK((*read)->owner_node_id == "node-a");
  CHECK((*read)->lease_token == token);
  CHECK((*read)->account_id == std::optional<std::string>{"account-1"});
  CHECK((*read)->expires_at == to_iso8601(clock.now() + lease_ttl));

  // Renewed at +30 s, so still live at +60 s.
  clock.advance(std::chrono::seconds{30});
  auto still_refused = leases.acquire(session, "node-b", std::nullopt, clock.now(), lease_ttl);
  REQUIRE(still_refused);
  CHECK_FALSE(still_refused->has_value());

  auto released = leases.release(session, token);
  REQUIRE(released);
  CHECK(*released);
  auto gone = leases.find(session);
  REQUIRE(gone);
  CHECK_FALSE(gone->has_value());
  auto free_again = leases.acquire(session, "node-b", std::nullopt, clock.now(), lease_ttl);
  REQUIRE(free_again);
  CHECK(free_again->has_value());
}

TEST_CASE("an expired session lease is taken over on the same account and the stale token is "
          "fenced",
          "[integration][persistence][cluster]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  test::test_database database{kind};
  persistence::session_lease_repository leases{database.db()};
  manual_clock clock;

  auto first = leases.acquire(session, "node-a", std::string{"account-1"}, clock.now(), lease_ttl);
  REQUIRE(first);
  REQUIRE(first->has_value());
  const auto stale = (*first)->lease_token;

  clock.advance(lease_ttl + std::chrono::seconds{1});
  auto taken = leases.acquire(session, "node-b", std::nullopt, clock.now(), lease_ttl);
  REQUIRE(taken);
  REQUIRE(taken->has_value());
  CHECK((*taken)->owner_node_id == "node-b");
  CHECK((*taken)->lease_token != stale);
  CHECK((*taken)->account_id == std::optional<std::string>{"account-1"});

  // node-a comes back with its old token: every fenced write fails and changes nothing.
  auto renew = leases.renew(session, stale, clock.now(), lease_ttl);
  REQUIRE(renew);
  CHECK_FALSE(*renew);
  auto pin = leases.pin_account(session, stale, "account-2");
  REQUIRE(pin);
  CHECK_FALSE(*pin);
  auto release = leases.release(session, stale);
  REQUIRE(release);
  CHECK_FALSE(*release);
  auto read = leases.find(session);
  REQUIRE(read);
  REQUIRE(read->has_value());
  CHECK((*read)->owner_node_id == "node-b");
  CHECK((*read)->lease_token == (*taken)->lease_token);
  CHECK((*read)->account_id == std::optional<std::string>{"account-1"});

  // And node-a cannot take it back while node-b's lease is live.
  auto back = leases.acquire(session, "node-a", std::nullopt, clock.now(), lease_ttl);
  REQUIRE(back);
  CHECK_FALSE(back->has_value());
}

TEST_CASE("a drained node hands all of its session leases off, and only its own: taken over at "
          "once on the same account",
          "[integration][persistence][cluster]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  test::test_database database{kind};
  persistence::session_lease_repository leases{database.db()};
  manual_clock clock;
  REQUIRE(
    leases.acquire("s1", "node-a", std::string{"account-1"}, clock.now(), lease_ttl)->has_value());
  REQUIRE(leases.acquire("s2", "node-a", std::nullopt, clock.now(), lease_ttl)->has_value());
  REQUIRE(leases.acquire("s3", "node-b", std::nullopt, clock.now(), lease_ttl)->has_value());
  clock.advance(std::chrono::seconds{1});
  auto handed_off = leases.hand_off_all("node-a", clock.now());
  REQUIRE(handed_off);
  CHECK(*handed_off == 2);
  auto s1 = leases.find("s1");
  REQUIRE(s1->has_value());
  CHECK((*s1)->expires_at == to_iso8601(clock.now()));
  CHECK((*s1)->account_id == std::optional<std::string>{"account-1"});
  // Another node takes it at once (no waiting for the TTL), keeping the account.
  auto taken = leases.acquire("s1", "node-c", std::nullopt, clock.now(), lease_ttl);
  REQUIRE(taken);
  REQUIRE(taken->has_value());
  CHECK((*taken)->owner_node_id == "node-c");
  CHECK((*taken)->account_id == std::optional<std::string>{"account-1"});
  // Node b's lease is untouched: still live.
  CHECK_FALSE(leases.acquire("s3", "node-c", std::nullopt, clock.now(), lease_ttl)->has_value());
}

TEST_CASE("an owner renews all of its leases at once and learns which it lost",
          "[integration][persistence][cluster]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  test::test_database database{kind};
  persistence::session_lease_repository leases{database.db()};
  manual_clock clock;
  auto kept = leases.acquire("kept", "node-a", std::nullopt, clock.now(), lease_ttl);
  REQUIRE(kept->has_value());
  REQUIRE(leases.acquire("lost", "node-a", std::nullopt, clock.now(), lease_ttl)->has_value());
  REQUIRE(leases.acquire("other", "node-b", std::nullopt, clock.now(), lease_ttl)->has_value());
  // "lost" expires and node-c takes it over; then node-a renews.
  clock.advance(lease_ttl + std::chrono::seconds{1});
  auto taken = leases.acquire("lost", "node-c", std::nullopt, clock.now(), lease_ttl);
  REQUIRE(taken->has_value());
  auto held = leases.renew_owned("node-a", clock.now(), lease_ttl);
  REQUIRE(held);
  REQUIRE(held->size() == 1);
  CHECK(held->front().first == "kept");
  CHECK(held->front().second == (*kept)->lease_token);
  CHECK((*leases.find("kept"))->expires_at == to_iso8601(clock.now() + lease_ttl));
  // Nobody else's lease moved.
  CHECK((*leases.find("lost"))->owner_node_id == "node-c");
  CHECK((*leases.find("other"))->expires_at < to_iso8601(clock.now()));
}

TEST_CASE("a session adds a key it learned later under its token, unless another node holds it",
          "[integration][persistence][cluster]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  test::test_database database{kind};
  persistence::session_lease_repository leases{database.db()};
  manual_clock clock;
  auto held = leases.acquire(session, "node-a", std::nullopt, clock.now(), lease_ttl);
  REQUIRE(held);
  REQUIRE(held->has_value());
  const auto token = (*held)->lease_token;

  auto added =
    leases.add_key("later-response-id", "node-a", token, "account-1", clock.now(), lease_ttl);
  REQUIRE(added);
  CHECK(*added);
  auto row = leases.find("later-response-id");
  REQUIRE(row);
  REQUIRE(row->has_value());
  CHECK((*row)->owner_node_id == "node-a");
  CHECK((*row)->lease_token == token);
  CHECK((*row)->account_id == std::optional<std::string>{"account-1"});
  // Released with the session: the same token.
  auto released = leases.release("later-response-id", token);
  REQUIRE(released);
  CHECK(*released);

  auto theirs = leases.acquire("their-key", "node-b", std::nullopt, clock.now(), lease_ttl);
  REQUIRE(theirs);
  REQUIRE(theirs->has_value());
  auto refused = leases.add_key("their-key", "node-a", token, std::nullopt, clock.now(), lease_ttl);
  REQUIRE(refused);
  CHECK_FALSE(*refused);
  auto untouched = leases.find("their-key");
  REQUIRE(untouched);
  REQUIRE(untouched->has_value());
  CHECK((*untouched)->owner_node_id == "node-b");

  // Once node b's lease expired the key can join node a's session.
  clock.advance(lease_ttl + std::chrono::seconds{1});
  auto taken = leases.add_key("their-key", "node-a", token, std::nullopt, clock.now(), lease_ttl);
  REQUIRE(taken);
  CHECK(*taken);
}
