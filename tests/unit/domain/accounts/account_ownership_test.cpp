#include "domain/accounts/account_ownership.hpp"

#include <map>

#include <catch2/catch.hpp>

using namespace cxp;
using namespace cxp::domain;

namespace {

std::set<std::string> accounts(int count) {
  std::set<std::string> ids;
  for (int i = 0; i < count; ++i) {
    ids.insert("account-" + std::to_string(i));
  }
  return ids;
}

std::map<std::string, std::string> assignment(const std::set<std::string>& ids,
                                              const std::vector<std::string>& nodes) {
  std::map<std::string, std::string> owners;
  for (const auto& id : ids) {
    owners[id] = *rendezvous_owner(id, nodes);
  }
  return owners;
}

persistence::cluster_node_row node(std::string id, std::string role, std::string status,
                                   time_point heartbeat) {
  persistence::cluster_node_row row;
  row.id = std::move(id);
  row.role = std::move(role);
  row.status = std::move(status);
  row.last_heartbeat_at = to_iso8601(heartbeat);
  return row;
}

} // namespace

TEST_CASE("rendezvous ownership gives every account one owner and spreads them evenly",
          "[unit][ownership]") {
  const auto ids = accounts(3000);
  const std::vector<std::string> nodes{"node-a", "node-b", "node-c"};
  std::map<std::string, int> per_node;
  for (const auto& [account, owner] : assignment(ids, nodes)) {
    ++per_node[owner];
  }
  REQUIRE(per_node.size() == 3);
  for (const auto& [owner, count] : per_node) {
    CHECK(count > 850); // 1000 each in expectation
    CHECK(count < 1150);
  }
  // The order of the candidate list does not matter: every node computes the same owners.
  CHECK(assignment(ids, {"node-c", "node-a", "node-b"}) == assignment(ids, nodes));
  CHECK_FALSE(rendezvous_owner("account-1", {}));
}

TEST_CASE("a node joining takes only the accounts it wins, a node leaving moves only its own",
          "[unit][ownership]") {
  const auto ids = accounts(2000);
  const auto before = assignment(ids, {"node-a", "node-b", "node-c"});
  const auto joined = assignment(ids, {"node-a", "node-b", "node-c", "node-d"});
  int moved = 0;
  for (const auto& id : ids) {
    if (before.at(id) != joined.at(id)) {
      ++moved;
      CHECK(joined.at(id) == "node-d");
    }
  }
  CHECK(moved > 400); // a quarter in expectation
  CHECK(moved < 600);

  const auto left = assignment(ids, {"node-a", "node-c"});
  for (const auto& id : ids) {
    if (before.at(id) != "node-b") {
      CHECK(left.at(id) == before.at(id));
    } else {
      CHECK(left.at(id) != "node-b");
    }
  }
  const auto mine = accounts_owned_by("node-b", ids, {"node-a", "node-b", "node-c"});
  for (const auto& id : mine) {
    CHECK(before.at(id) == "node-b");
  }
  CHECK(mine.size()
        == static_cast<size_t>(std::count_if(before.begin(), before.end(),
                                             [](const auto& e) { return e.second == "node-b"; })));
}

TEST_CASE("only live nodes of a role that may own accounts are candidates", "[unit][ownership]") {
  const auto now = parse_iso8601("2026-12-04T12:00:00.000000Z").value();
  const auto liveness = std::chrono::milliseconds{15'000};
  const std::vector<persistence::cluster_node_row> nodes{
    node("web-1", "web", "up", now),
    node("worker-1", "worker", "up", now - std::chrono::seconds{3}),
    node("scheduler-1", "scheduler", "up", now),
    node("all-1", "all", "draining", now),
    node("worker-stale", "worker", "up", now - std::chrono::seconds{16}),
    node("worker-down", "worker", "down", now),
  };
  CHECK(owner_candidates(nodes, now, liveness, std::nullopt)
        == std::vector<std::string>{"scheduler-1", "worker-1"});
  // This node counts before its first heartbeat is stored.
  CHECK(owner_candidates(nodes, now, liveness, std::string{"all-2"})
        == std::vector<std::string>{"all-2", "scheduler-1", "worker-1"});
  CHECK(role_may_own_accounts("all"));
  CHECK_FALSE(role_may_own_accounts("web"));
  CHECK(owner_candidates({node("web-1", "web", "up", now)}, now, liveness, std::nullopt).empty());
}
