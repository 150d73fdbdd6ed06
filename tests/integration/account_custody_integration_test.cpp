#include <chrono>
#include <csignal>
#include <memory>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "persistence/accounts/account_custody_repository.hpp"
#include "persistence/accounts/account_repository.hpp"
#include "persistence/cluster_nodes/cluster_node_repository.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/pooler_fixture.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::pooler_fixture;

namespace {

constexpr auto custody_wait = std::chrono::seconds{30};
constexpr auto custody_poll = std::chrono::milliseconds{100};
constexpr int token_endpoint_delay_ms = 400;

/// One node to start: its role and name.
struct node_spec {
  std::string role;
  std::string name;
};

using node_list = std::vector<std::unique_ptr<test::gateway_process>>;

/// Starts every node at the same moment (one thread each), clustered through a static peer list
/// or not clustered at all (nodes share only the database, as compose starts them).
node_list start_nodes(const pooler_fixture& f, const std::vector<node_spec>& specs, bool clustered,
                      const test::env_vars& extra = {}) {
  std::vector<uint16_t> ports;
  std::string peers;
  for (size_t i = 0; i < specs.size(); ++i) {
    ports.push_back(test::free_loopback_port());
    peers += (peers.empty() ? "" : ",") + std::string{"127.0.0.1:"} + std::to_string(ports[i]);
  }
  node_list nodes(specs.size());
  std::vector<std::thread> starters;
  for (size_t i = 0; i < specs.size(); ++i) {
    auto env = f.env();
    env["CODEX_POOLER_ROLE"] = specs[i].role;
    env["CODEX_POOLER_NODE_NAME"] = specs[i].name;
    for (const auto& [name, value] : extra) {
      env[name] = value;
    }
    if (clustered) {
      env["CODEX_POOLER_CLUSTER_PORT"] = std::to_string(ports[i]);
      env["CODEX_POOLER_CLUSTER_PEERS"] = peers;
    }
    starters.emplace_back(
      [&nodes, i, env] { nodes[i] = std::make_unique<test::gateway_process>(env); });
  }
  for (auto& starter : starters) {
    starter.join();
  }
  return nodes;
}

persistence::account_row account_row_of(pooler_fixture& f, const std::string& fake_id) {
  auto row = persistence::account_repository{f.database().db()}.find(f.account_ids().at(fake_id));
  REQUIRE(row);
  REQUIRE(*row);
  return **row;
}

/// The name of the node that holds the account's live lease, or "" when none does.
std::string owner_name_of(pooler_fixture& f, const std::string& fake_id);

/// The owner's name once some node owns the account ("" when none does within the wait).
std::string owner_name_once_owned(pooler_fixture& f, const std::string& fake_id) {
  std::string owner;
  test::eventually(
    [&] {
      owner = owner_name_of(f, fake_id);
      return !owner.empty();
    },
    custody_wait, custody_poll);
  return owner;
}

std::string owner_name_of(pooler_fixture& f, const std::string& fake_id) {
  auto leases = persistence::account_custody_repository{f.database().db()}.leases();
  auto nodes = persistence::cluster_node_repository{f.database().db()}.list();
  REQUIRE(leases);
  REQUIRE(nodes);
  const auto now = to_iso8601(std::chrono::system_clock::now());
  for (const auto& lease : *leases) {
    if (lease.account_id != f.account_ids().at(fake_id) || lease.expires_at <= now) {
      continue;
    }
    for (const auto& node : *nodes) {
      if (node.id == lease.owner_node_id) {
        return node.name;
      }
    }
  }
  return {};
}

/// The node's `codex_pooler_cluster_accounts_owned` gauge (-1 when it is missing).
int accounts_owned(const test::gateway_process& node) {
  const std::string name = "\ncodex_pooler_cluster_accounts_owned ";
  const auto metrics = test::http_get(node.port(), "/metrics").body;
  const auto at = metrics.find(name);
  return at == std::string::npos ? -1 : std::stoi(metrics.substr(at + name.size()));
}

void expired_tokens(int, test::account_script& script) {
  const auto a_minute_ago =
    std::chrono::duration_cast<std::chrono::seconds>(
      (std::chrono::system_clock::now() - std::chrono::minutes{1}).time_since_epoch())
      .count();
  script.access_token = test::make_fake_jwt(script.account_id, "plus", 0, a_minute_ago);
  script.access_token_expired = true;
  script.refresh_delay_ms = token_endpoint_delay_ms;
}

void four_nodes_spend_each_refresh_token_once(bool clustered) {
  pooler_fixture::options opts;
  opts.accounts = 5;
  opts.script = expired_tokens;
  opts.start_gateway = false;
  pooler_fixture f{opts};
  auto nodes = start_nodes(
    f, {{"web", "web-1"}, {"web", "web-2"}, {"worker", "worker-1"}, {"scheduler", "scheduler-1"}},
    clustered);

  // Requests through both web nodes succeed while the owners refresh behind them.
  for (int round = 0; round < 4; ++round) {
    for (size_t web = 0; web < 2; ++web) {
      auto reply = f.turn_via(nodes[web]->port());
      INFO("web-" << web + 1 << ": " << reply.body);
      CHECK(reply.status == 200);
    }
  }
  test::eventually(
    [&] {
      for (const auto& [fake_id, row_id] : f.account_ids()) {
        if (f.upstream().counters(fake_id).generation < 1) {
          return false;
        }
      }
      return true;
    },
    custody_wait, custody_poll);
  // Give a late duplicate refresh the time to show up.
  std::this_thread::sleep_for(std::chrono::seconds{2});
  for (const auto& [fake_id, row_id] : f.account_ids()) {
    INFO(fake_id);
    CHECK(f.upstream().counters(fake_id).refresh_calls == 1);
    const auto row = account_row_of(f, fake_id);
    CHECK(row.status == "active");
    CHECK(row.token_generation == 1);
    // Only nodes that may own accounts own them.
    const auto owner = owner_name_of(f, fake_id);
    CHECK((owner == "worker-1" || owner == "scheduler-1"));
  }
  for (size_t web = 0; web < 2; ++web) {
    auto reply = f.turn_via(nodes[web]->port());
    CHECK(reply.status == 200);
  }
  // The owners' metrics count the five accounts between them once their rounds settled.
  test::eventually(
    [&] {
      return accounts_owned(*nodes[2]) + accounts_owned(*nodes[3]) == 5
             && accounts_owned(*nodes[0]) == 0;
    },
    custody_wait, custody_poll);
  CHECK(accounts_owned(*nodes[2]) + accounts_owned(*nodes[3]) == 5);
  CHECK(accounts_owned(*nodes[0]) == 0);
  // The web nodes say who owns accounts and that they own none.
  json custody;
  test::eventually(
    [&] {
      auto ready = test::http_get(nodes[0]->port(), "/readyz");
      custody = json::parse(ready.body)["account_custody"];
      return ready.status == 200 && custody["status"] == "ok" && custody["owner_nodes"] == 2;
    },
    custody_wait, custody_poll);
  CHECK(custody["status"] == "ok");
  CHECK(custody["owner_nodes"] == 2);
  CHECK(custody["owned_here"] == 0);
  CHECK(custody["may_own"] == false);
}

} // namespace

TEST_CASE("four nodes started at once on PostgreSQL, not clustered, spend each expired account's "
          "refresh token exactly once and keep every account active",
          "[integration][custody]") {
  four_nodes_spend_each_refresh_token_once(false);
}

TEST_CASE("four clustered nodes started at once spend each expired account's refresh token "
          "exactly once and keep every account active",
          "[integration][custody]") {
  four_nodes_spend_each_refresh_token_once(true);
}

TEST_CASE("a SIGKILLed owner's accounts are owned by another node within the lease TTL, which "
          "refreshes them when a replica's request needs it",
          "[integration][custody]") {
  pooler_fixture::options opts;
  opts.accounts = 2;
  opts.start_gateway = false;
  pooler_fixture f{opts};
  auto nodes = start_nodes(f, {{"web", "web-1"}, {"worker", "worker-1"}, {"worker", "worker-2"}},
                           false, {{"CODEX_POOLER_ACCOUNT_LEASE_TTL_MS", "3000"}});
  const auto owner = owner_name_once_owned(f, "acct-1");
  REQUIRE_FALSE(owner.empty());
  auto& doomed = owner == "worker-1" ? *nodes[1] : *nodes[2];
  const auto survivor = owner == "worker-1" ? "worker-2" : "worker-1";
  REQUIRE(::kill(doomed.pid(), SIGKILL) == 0);
  const auto killed_at = std::chrono::steady_clock::now();

  // Requests keep being served meanwhile; the survivor owns the account within the TTL (plus a
  // renewal round and the heartbeat that marks the dead node stale).
  std::string new_owner;
  while (std::chrono::steady_clock::now() - killed_at < std::chrono::seconds{10}) {
    CHECK(f.turn_via(nodes[0]->port()).status == 200);
    new_owner = owner_name_of(f, "acct-1");
    if (new_owner == survivor) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  CHECK(new_owner == survivor);
  CHECK(std::chrono::steady_clock::now() - killed_at < std::chrono::milliseconds{3000 + 2500});

  // The upstream now rejects acct-1's access token: the web node's 401 asks the new owner, which
  // refreshes once, and the request succeeds on the new token.
  const auto refreshes_before = f.upstream().counters("acct-1").refresh_calls;
  f.script("acct-1", [](test::account_script& script) { script.access_token_expired = true; });
  f.script("acct-2", [](test::account_script& script) { script.status_5xx = 503; });
  auto reply = f.turn_via(nodes[0]->port());
  INFO(reply.body);
  CHECK(reply.status == 200);
  CHECK(f.upstream().counters("acct-1").refresh_calls == refreshes_before + 1);
  CHECK(account_row_of(f, "acct-1").status == "active");
}

TEST_CASE("an account usage-limited on one web node is not tried by the other",
          "[integration][custody]") {
  pooler_fixture::options opts;
  opts.accounts = 2;
  opts.start_gateway = false;
  opts.script = [](int index, test::account_script& script) {
    if (index == 0) {
      script.usage_limit_after = 0; // every turn is 429 usage_limit_reached
    }
  };
  pooler_fixture f{opts};
  auto nodes = start_nodes(f, {{"web", "web-a"}, {"web", "web-b"}, {"worker", "worker-1"}}, false);
  for (int i = 0; i < 30 && f.upstream().counters("acct-1").turn_requests == 0; ++i) {
    CHECK(f.turn_via(nodes[0]->port()).status == 200);
  }
  REQUIRE(f.upstream().counters("acct-1").turn_requests == 1);
  std::this_thread::sleep_for(std::chrono::seconds{1});
  for (int i = 0; i < 12; ++i) {
    CHECK(f.turn_via(nodes[1]->port()).status == 200);
  }
  // One 429 in total (give or take one in flight): web-b skipped the exhausted account.
  CHECK(f.upstream().counters("acct-1").turn_requests <= 2);
}

TEST_CASE("a conversation alternating between two web nodes stays on one account",
          "[integration][custody]") {
  pooler_fixture::options opts;
  opts.accounts = 2;
  // The account that served last goes last: without a cluster-wide pin, web-b would move the
  // conversation to the other account.
  opts.strategy = "least_recent_success";
  opts.start_gateway = false;
  pooler_fixture f{opts};
  auto nodes = start_nodes(f, {{"web", "web-a"}, {"web", "web-b"}, {"worker", "worker-1"}}, false);
  const std::map<std::string, std::string> conversation{{"session-id", "thread-alternating"}};

  auto served_by = [&f](const std::map<std::string, int>& before) {
    std::string account;
    for (const auto& [id, count] : f.turns_served()) {
      if (count > before.at(id)) {
        account = id;
      }
    }
    return account;
  };
  auto before = f.turns_served();
  REQUIRE(f.turn_via(nodes[0]->port(), conversation).status == 200);
  const auto pinned = served_by(before);
  REQUIRE_FALSE(pinned.empty());
  // Make the pinned account web-b's most recent success.
  for (int i = 0; i < 6; ++i) {
    before = f.turns_served();
    REQUIRE(f.turn_via(nodes[1]->port()).status == 200);
    if (served_by(before) == pinned) {
      break;
    }
  }
  for (int turn = 0; turn < 6; ++turn) {
    before = f.turns_served();
    auto reply = f.turn_via(nodes[turn % 2 == 0 ? 1 : 0]->port(), conversation);
    REQUIRE(reply.status == 200);
    CHECK(served_by(before) == pinned);
  }
}

TEST_CASE("a cluster with no node that may own accounts says so in /readyz, /metrics and the log",
          "[integration][custody]") {
  pooler_fixture::options opts;
  opts.accounts = 1;
  opts.start_gateway = false;
  pooler_fixture f{opts};
  auto nodes =
    start_nodes(f, {{"web", "web-alone"}}, false, {{"CODEX_POOLER_ACCOUNT_LEASE_TTL_MS", "1000"}});
  json custody;
  test::eventually(
    [&] {
      auto ready = test::http_get(nodes[0]->port(), "/readyz");
      custody = json::parse(ready.body)["account_custody"];
      return custody["status"] == "no_owner_node";
    },
    custody_wait, custody_poll);
  CHECK(custody["status"] == "no_owner_node");
  CHECK(custody["owner_nodes"] == 0);
  CHECK(custody["accounts"] == 1);
  auto metrics = test::http_get(nodes[0]->port(), "/metrics");
  CHECK(metrics.body.find("codex_pooler_cluster_account_owner_nodes 0") != std::string::npos);
  CHECK(nodes[0]->output().find("no live node may own upstream accounts") != std::string::npos);
  // Traffic is still served from the stored tokens meanwhile.
  CHECK(f.turn_via(nodes[0]->port()).status == 200);
}

TEST_CASE("a circuit opened on one web node keeps the other from trying the account",
          "[integration][custody]") {
  pooler_fixture::options opts;
  opts.accounts = 2;
  opts.start_gateway = false;
  // Without demotions only the circuit keeps a failing account out of the ring's first place.
  opts.settings = {"gateway.demotion_seconds=0", "gateway.circuit_failure_threshold=3",
                   "gateway.circuit_open_seconds=600"};
  opts.script = [](int index, test::account_script& script) {
    if (index == 0) {
      script.status_5xx = 503;
    }
  };
  pooler_fixture f{opts};
  auto nodes = start_nodes(f, {{"web", "web-a"}, {"web", "web-b"}, {"worker", "worker-1"}}, false);
  for (int i = 0; i < 60 && f.upstream().counters("acct-1").turn_requests < 3; ++i) {
    CHECK(f.turn_via(nodes[0]->port()).status == 200);
  }
  REQUIRE(f.upstream().counters("acct-1").turn_requests == 3);
  std::this_thread::sleep_for(std::chrono::seconds{1});
  for (int i = 0; i < 12; ++i) {
    CHECK(f.turn_via(nodes[1]->port()).status == 200);
  }
  // web-b never tried the account whose circuit web-a opened (one in flight at most).
  CHECK(f.upstream().counters("acct-1").turn_requests <= 4);
}

TEST_CASE("a usage limit of one model's own limit family blocks that model, not the account",
          "[integration][custody][quota]") {
  pooler_fixture::options opts;
  opts.accounts = 2;
  opts.settings = {"gateway.demotion_seconds=0"}; // a demoted account would go last anyway
  opts.script = [](int index, test::account_script& script) {
    if (index == 0) {
      script.limited_model = "gpt-fake";
    }
  };
  pooler_fixture f{opts};
  for (int i = 0; i < 30 && f.upstream().counters("acct-1").turn_requests == 0; ++i) {
    CHECK(f.turn({}, "say hi", "gpt-fake").status == 200); // fails over to acct-2
  }
  REQUIRE(f.upstream().counters("acct-1").turn_requests == 1);
  // The exhausted family keeps gpt-fake away from acct-1 …
  for (int i = 0; i < 8; ++i) {
    CHECK(f.turn({}, "say hi", "gpt-fake").status == 200);
  }
  CHECK(f.upstream().counters("acct-1").turn_requests == 1);
  // … while acct-1 still serves the other model.
  for (int i = 0; i < 12; ++i) {
    CHECK(f.turn({}, "say hi", "gpt-5.5").status == 200);
  }
  CHECK(f.upstream().counters("acct-1").turns_served > 0);
}

TEST_CASE("a draining owner hands its accounts off, so another node owns them long before the "
          "lease TTL",
          "[integration][custody]") {
  pooler_fixture::options opts;
  opts.accounts = 1;
  opts.start_gateway = false;
  pooler_fixture f{opts};
  auto nodes = start_nodes(f, {{"web", "web-1"}, {"worker", "worker-1"}, {"worker", "worker-2"}},
                           false, {{"CODEX_POOLER_ACCOUNT_LEASE_TTL_MS", "15000"}});
  const auto owner = owner_name_once_owned(f, "acct-1");
  REQUIRE_FALSE(owner.empty());
  auto& draining = owner == "worker-1" ? *nodes[1] : *nodes[2];
  const auto survivor = owner == "worker-1" ? "worker-2" : "worker-1";
  const auto signalled_at = std::chrono::steady_clock::now();
  REQUIRE(draining.stop(SIGTERM, std::chrono::seconds{30}) == 0);
  CHECK(draining.output().find("account leases handed off") != std::string::npos);
  std::string new_owner;
  test::eventually(
    [&] {
      new_owner = owner_name_of(f, "acct-1");
      return new_owner == survivor;
    },
    custody_wait, custody_poll);
  CHECK(new_owner == survivor);
  // The lease it held had 10 to 15 s left; a hand-off is taken at the survivor's next round.
  CHECK(std::chrono::steady_clock::now() - signalled_at < std::chrono::seconds{9});
  CHECK(f.turn_via(nodes[0]->port()).status == 200);
}
