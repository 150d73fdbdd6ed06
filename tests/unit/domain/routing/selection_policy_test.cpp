#include "domain/routing/selection_policy.hpp"

#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "common/encoding.hpp"

using namespace cxp;
using namespace cxp::domain;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

const time_point now{seconds{1'795'000'000}};

std::vector<routing_candidate> accounts(int count) {
  std::vector<routing_candidate> out;
  for (int i = 0; i < count; ++i) {
    routing_candidate candidate;
    candidate.account_id = "acct-" + std::to_string(i);
    out.push_back(candidate);
  }
  return out;
}

} // namespace

TEST_CASE("bridge_ring orders by rendezvous score, stable per seed and spread across seeds",
          "[unit][domain][routing][selection]") {
  auto pool = accounts(5);
  selection_request request{routing_strategy::bridge_ring, "session-a", std::nullopt, 5};
  auto first = select_accounts(pool, request, now);
  CHECK(select_accounts(pool, request, now).ordered == first.ordered);
  REQUIRE(first.ordered.size() == 5);
  for (size_t i = 1; i < first.ordered.size(); ++i) {
    CHECK(rendezvous_score("session-a", first.ordered[i - 1])
          > rendezvous_score("session-a", first.ordered[i]));
  }
  const auto score = rendezvous_score("session-a", "acct-1");
  CHECK(to_hex({reinterpret_cast<const char*>(score.data()), score.size()})
        == persistence::sha256_hex("session-a:acct-1"));
  std::map<std::string, int> leaders;
  for (int seed = 0; seed < 200; ++seed) {
    request.seed = "seed-" + std::to_string(seed);
    ++leaders[select_accounts(pool, request, now).ordered.front()];
  }
  CHECK(leaders.size() == 5);
  for (const auto& [account, count] : leaders) {
    CAPTURE(account);
    CHECK(count > 15);
  }
}

TEST_CASE("removing an account only moves the seeds that led with it",
          "[unit][domain][routing][selection]") {
  auto pool = accounts(4);
  auto smaller = accounts(3);
  selection_request request{routing_strategy::bridge_ring, "", std::nullopt, 1};
  for (int seed = 0; seed < 100; ++seed) {
    request.seed = "s" + std::to_string(seed);
    const auto before = select_accounts(pool, request, now).ordered.front();
    if (before != "acct-3") {
      CHECK(select_accounts(smaller, request, now).ordered.front() == before);
    }
  }
}

TEST_CASE("ineligible accounts are excluded with a reason", "[unit][domain][routing][selection]") {
  auto pool = accounts(5);
  pool[0].active = false;
  pool[1].supports_model = false;
  pool[2].circuit_closed = false;
  pool[3].quota = {{"primary", 300, 100.0, now + minutes{10}, now, "codex", ""}};
  auto picked = select_accounts(pool, {routing_strategy::bridge_ring, "x", std::nullopt, 3}, now);
  CHECK(picked.ordered == std::vector<std::string>{"acct-4"});
  REQUIRE(picked.excluded.size() == 4);
  CHECK(picked.excluded[0].reason == "inactive");
  CHECK(picked.excluded[1].reason == "model_unsupported");
  CHECK(picked.excluded[2].reason == "circuit_open");
  CHECK(picked.excluded[3].reason == "quota_exhausted");
  CHECK(
    select_accounts(pool, {routing_strategy::bridge_ring, "x", std::nullopt, 3}, now + minutes{11})
      .ordered.size()
    == 2);
}

TEST_CASE("the pinned account leads and demoted accounts trail",
          "[unit][domain][routing][selection]") {
  auto pool = accounts(4);
  selection_request request{routing_strategy::bridge_ring, "pin", std::nullopt, 4};
  const auto natural = select_accounts(pool, request, now).ordered;
  const auto leader = natural.front();
  for (auto& candidate : pool) {
    if (candidate.account_id == leader) {
      candidate.demoted_until = now + seconds{60};
    }
  }
  auto demoted = select_accounts(pool, request, now).ordered;
  CHECK(demoted.back() == leader);
  CHECK(select_accounts(pool, request, now + seconds{61}).ordered.front() == leader);
  request.pinned_account = natural.back();
  CHECK(select_accounts(pool, request, now).ordered.front() == natural.back());
}

TEST_CASE("ring size bounds the candidates", "[unit][domain][routing][selection]") {
  CHECK(select_accounts(accounts(6), {routing_strategy::bridge_ring, "r", std::nullopt, 3}, now)
          .ordered.size()
        == 3);
}

TEST_CASE("least_recent_success prefers the account idle longest",
          "[unit][domain][routing][selection]") {
  auto pool = accounts(3);
  pool[0].last_success_at = now - seconds{10};
  pool[1].last_success_at = now - seconds{100};
  pool[2].last_success_at = now - seconds{50};
  auto picked =
    select_accounts(pool, {routing_strategy::least_recent_success, "s", std::nullopt, 3}, now);
  CHECK(picked.ordered == std::vector<std::string>{"acct-1", "acct-2", "acct-0"});
}

TEST_CASE("quota_first prefers the most remaining capacity", "[unit][domain][routing][selection]") {
  auto pool = accounts(3);
  pool[0].quota = {{"primary", 300, 80.0, now + minutes{60}, now, "codex", ""}};
  pool[1].quota = {{"primary", 300, 10.0, now + minutes{60}, now, "codex", ""}};
  pool[2].quota = {{"primary", 300, 50.0, now + minutes{60}, now, "codex", ""}};
  auto picked = select_accounts(pool, {routing_strategy::quota_first, "s", std::nullopt, 3}, now);
  CHECK(picked.ordered == std::vector<std::string>{"acct-1", "acct-2", "acct-0"});
}

TEST_CASE("deterministic_rotation rotates the sorted accounts by the seed",
          "[unit][domain][routing][selection]") {
  auto pool = accounts(3);
  std::set<std::string> leaders;
  for (int seed = 0; seed < 50; ++seed) {
    auto picked = select_accounts(
      pool, {routing_strategy::deterministic_rotation, std::to_string(seed), std::nullopt, 3}, now);
    REQUIRE(picked.ordered.size() == 3);
    const auto first = picked.ordered.front();
    const auto index = first.back() - '0';
    // The offset is the first 60 bits of SHA-256("<seed>:rotation"), as it has always been:
    // a different offset would move every session to another account on upgrade.
    const auto rotation = persistence::sha256_hex(std::to_string(seed) + ":rotation");
    CHECK(static_cast<unsigned long long>(index)
          == std::stoull(rotation.substr(0, 15), nullptr, 16) % 3);
    CHECK(picked.ordered[1] == "acct-" + std::to_string((index + 1) % 3));
    leaders.insert(first);
  }
  CHECK(leaders.size() == 3);
  CHECK(parse_routing_strategy("quota_first") == routing_strategy::quota_first);
  CHECK_FALSE(parse_routing_strategy("random"));
}
