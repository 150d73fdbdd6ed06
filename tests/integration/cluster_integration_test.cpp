#include <chrono>
#include <csignal>
#include <memory>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "persistence/cluster/session_lease_repository.hpp"
#include "persistence/crypto/key_hash.hpp"
#include "tests/support/admin_client.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/pooler_fixture.hpp"
#include "tests/support/ws_client.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::pooler_fixture;
using test::response_id_of;
using test::type_of;
using test::ws_client;

namespace {

constexpr auto lease_ttl_ms = 3000;
constexpr auto lease_renew_ms = 500;

/// The cluster works asynchronously: conditions are polled this long.
constexpr auto cluster_wait = std::chrono::seconds{20};
constexpr auto cluster_poll = std::chrono::milliseconds{100};

std::string tail_of(const std::string& output) {
  constexpr size_t tail = 4000;
  return output.size() > tail ? output.substr(output.size() - tail) : output;
}

/// Sends a turn until it completes: while a session's owner is unreachable (lease not yet
/// expired, peers not yet connected) the gateway answers an error frame and the client retries.
std::vector<json> complete_turn(ws_client& client, const std::string& frame) {
  std::vector<json> frames;
  test::eventually(
    [&] {
      if (!client.open) {
        return true;
      }
      client.send(frame);
      frames = client.read_turn();
      return !frames.empty() && type_of(frames.back()) == "response.completed";
    },
    cluster_wait, cluster_poll);
  return frames;
}

std::map<std::string, std::string> session_headers() {
  return {{"x-codex-turn-state", "cluster-turn-state"},
          {"session-id", "thread-cluster"},
          {"x-codex-window-id", "thread-cluster:0"}};
}

} // namespace

TEST_CASE("three nodes on one PostgreSQL forward a session to its owner, take it over after "
          "the owner is killed, and close a revoked key's socket on another node",
          "[integration][cluster]") {
  pooler_fixture::options opts;
  opts.accounts = 2;
  // The account that served last goes last, so a node taking the session over would move it
  // to the other account if the lease's account did not pin it (see the HTTP turns below).
  opts.strategy = "least_recent_success";
  opts.start_gateway = false;
  pooler_fixture f{opts};

  std::vector<uint16_t> cluster_ports{test::free_loopback_port(), test::free_loopback_port(),
                                      test::free_loopback_port()};
  std::string peers;
  for (auto port : cluster_ports) {
    peers += (peers.empty() ? "" : ",") + std::string{"127.0.0.1:"} + std::to_string(port);
  }
  std::vector<std::unique_ptr<test::gateway_process>> nodes;
  for (size_t i = 0; i < cluster_ports.size(); ++i) {
    auto env = f.env();
    env["CODEX_POOLER_NODE_NAME"] = "node-" + std::to_string(i + 1);
    env["CODEX_POOLER_CLUSTER_PORT"] = std::to_string(cluster_ports[i]);
    env["CODEX_POOLER_CLUSTER_PEERS"] = peers;
    env["CODEX_POOLER_SESSION_LEASE_TTL_MS"] = std::to_string(lease_ttl_ms);
    env["CODEX_POOLER_SESSION_LEASE_RENEW_MS"] = std::to_string(lease_renew_ms);
    // Polls far beyond the test's waits: key and settings changes must arrive as broadcasts.
    env["CODEX_POOLER_SETTINGS_POLL_MS"] = "600000";
    env["CODEX_POOLER_KEY_RECHECK_MS"] = "600000";
    nodes.push_back(std::make_unique<test::gateway_process>(env));
  }
  auto& node1 = *nodes[0];
  auto& node2 = *nodes[1];
  auto& node3 = *nodes[2];

  // A session opened on node 1: node 1 owns it and its upstream socket.
  std::string first_id;
  {
    ws_client client{node1.port(), f.api_key(), session_headers()};
    REQUIRE(client.status == 101);
    auto frames = complete_turn(client, test::ws_create_frame("turn one on node 1"));
    REQUIRE(type_of(frames.back()) == "response.completed");
    first_id = response_id_of(frames);
    client.close();
  }

  // The same session through node 2 is forwarded to node 1's stream: same upstream socket.
  // This client stays connected through everything that follows.
  ws_client via_node2{node2.port(), f.api_key(), session_headers()};
  REQUIRE(via_node2.status == 101);
  auto frames = complete_turn(via_node2, test::ws_create_frame("turn two via node 2", first_id));
  REQUIRE_FALSE(frames.empty());
  REQUIRE(type_of(frames.back()) == "response.completed");
  const auto second_id = response_id_of(frames);
  bool has_text = false;
  for (const auto& frame : frames) {
    has_text = has_text || type_of(frame) == "response.output_text.delta";
  }
  CHECK(has_text);
  auto connections = f.upstream().websocket_connections();
  REQUIRE(connections.size() == 1);
  REQUIRE(connections[0].turns.size() == 2);
  CHECK(connections[0].turns[1].value("previous_response_id", "") == first_id);
  CHECK(connections[0].overlapping_creates == 0);
  const auto session_account = connections[0].account_id;

  // A second key's session on node 1; revoking that key through node 3's admin API closes the
  // socket on node 1 with 1008 at once (the broadcast; node 1's own re-check is minutes away).
  auto second_key = test::run_gateway_command(
    f.env(), {"admin", "key", "create", "--pool", f.pool_id(), "--name", "revoked-later"});
  REQUIRE(second_key.exit_code == 0);
  const auto second = json::parse(second_key.out);
  {
    ws_client doomed{node1.port(),
                     second["key"].get<std::string>(),
                     {{"x-codex-turn-state", "doomed-state"}, {"session-id", "thread-doomed"}}};
    REQUIRE(doomed.status == 101);
    frames = complete_turn(doomed, test::ws_create_frame("a turn before the revocation"));
    REQUIRE(type_of(frames.back()) == "response.completed");

    test::admin_client admin{node3.port()};
    REQUIRE(admin.bootstrap("owner@example.com", "cluster test passphrase").status == 201);
    REQUIRE(admin.login("owner@example.com", "cluster test passphrase").status == 200);
    const auto key_id = second["id"].get<std::string>();
    auto revoked = admin.send("POST", "/admin/api/api-keys/" + key_id + "/revoke");
    REQUIRE(revoked.status == 200);
    const auto revoked_at = std::chrono::steady_clock::now();
    CHECK_FALSE(doomed.read().has_value());
    CHECK(doomed.close_code == 1008);
    CHECK(std::chrono::steady_clock::now() - revoked_at < std::chrono::seconds{5});

    // A settings change on node 3 reaches node 1 the same way: node 1's new sockets take the
    // smaller message limit at once. The probe frame is no turn (under the old limit it only
    // earns an error frame), so it leaves no request log and no upstream socket behind.
    REQUIRE(admin.send("PATCH", "/admin/api/settings", {{"ingress.max_body_bytes", 4096}}).status
            == 200);
    CHECK(test::eventually(
      [&] {
        ws_client probe{node1.port(), f.api_key(), {{"x-codex-turn-state", "probe-state"}}};
        probe.send(json{{"type", "probe"}, {"padding", std::string(8000, 'x')}}.dump());
        return !probe.read().has_value() && probe.close_code == 1009;
      },
      std::chrono::seconds{5}, cluster_poll));
    REQUIRE(
      admin.send("PATCH", "/admin/api/settings", {{"ingress.max_body_bytes", 33554432}}).status
      == 200);
  }

  // Every finished turn is logged before node 1 dies (its writer batches).
  auto logs = f.request_logs(3);
  REQUIRE(logs.size() == 3);

  auto keys = test::run_gateway_command(f.env(), {"admin", "key", "list", "--pool", f.pool_id()});
  REQUIRE(keys.exit_code == 0);
  std::string first_key_id;
  for (const auto& item : json::parse(keys.out)) {
    if (item["display_name"] != "revoked-later") {
      first_key_id = item["id"].get<std::string>();
    }
  }
  REQUIRE_FALSE(first_key_id.empty());
  const auto lease_key =
    persistence::sha256_hex(f.pool_id() + ":" + first_key_id + ":turn_state:cluster-turn-state");
  // The session's lease names its account, which is what a node taking it over continues on.
  persistence::session_lease_repository lease_rows{f.database().db()};
  CHECK(test::eventually(
    [&] {
      auto row = lease_rows.find(lease_key);
      return row && row->has_value() && (*row)->account_id
             && *(*row)->account_id == f.account_ids().at(session_account);
    },
    cluster_wait, cluster_poll));

  // Node 1 dies without a word. The client on node 2 keeps its socket; once node 1's lease
  // expired node 2 takes the session over and continues on the same account, on a new upstream
  // socket. That socket has no cache of the earlier responses, so the client continues with
  // full context (no previous_response_id), as the Codex CLI does after a continuity miss.
  REQUIRE(node1.stop(SIGKILL, std::chrono::seconds{5}) != -1);
  // HTTP turns through node 2 until the session's account is the one that served there last:
  // node 2's own choice for the session is now the other account.
  size_t http_turns = 0;
  for (bool last_on_session_account = false; !last_on_session_account && http_turns < 4;
       ++http_turns) {
    const auto before = f.turns_served();
    REQUIRE(f.turn_via(node2.port()).status == 200);
    last_on_session_account = f.turns_served()[session_account] > before.at(session_account);
  }
  REQUIRE(http_turns <= 2);
  frames = complete_turn(via_node2, test::ws_create_frame("turn three after node 1 died"));
  INFO(tail_of(node2.output()));
  REQUIRE_FALSE(frames.empty());
  REQUIRE(type_of(frames.back()) == "response.completed");
  const auto third_id = response_id_of(frames);
  // Upstream sockets so far: the session's on node 1, the revoked key's session's, and this.
  connections = f.upstream().websocket_connections();
  REQUIRE(connections.size() == 3);
  CHECK(connections[2].account_id == session_account);
  REQUIRE(connections[2].turns.size() == 1);

  // A client of the session on node 3 is now forwarded to node 2, the new owner: the same new
  // upstream socket, continuing from the third response. It names the session only by that
  // response id (a new turn state, no session or window header), a key node 2 learned after it
  // took the session over and leased then.
  // The third response's alias is stored after the turn completed (the stream tells its registry,
  // which leases it): a client faster than that would open a new upstream socket instead.
  // Known race, noted on issue 14: the alias should be leased before the client sees the end.
  REQUIRE(test::eventually(
    [&] {
      auto row = lease_rows.find(persistence::sha256_hex(f.pool_id() + ":" + first_key_id
                                                         + ":previous_response_id:" + third_id));
      return row && row->has_value();
    },
    cluster_wait, cluster_poll));
  {
    ws_client via_node3{
      node3.port(),
      f.api_key(),
      {{"x-codex-turn-state", "node-3-reconnect"}, {"thread-id", "thread-cluster"}}};
    REQUIRE(via_node3.status == 101);
    frames = complete_turn(via_node3, test::ws_create_frame("turn four via node 3", third_id));
    REQUIRE_FALSE(frames.empty());
    INFO(frames.back().dump());
    REQUIRE(type_of(frames.back()) == "response.completed");
    via_node3.close();
  }
  connections = f.upstream().websocket_connections();
  REQUIRE(connections.size() == 3);
  REQUIRE(connections[2].turns.size() == 2);
  // Node 2 also leased the client's new turn state, its key for this session from now on.
  CHECK(test::eventually(
    [&] {
      auto row = lease_rows.find(
        persistence::sha256_hex(f.pool_id() + ":" + first_key_id + ":turn_state:node-3-reconnect"));
      auto session = lease_rows.find(lease_key);
      // The same owner, not the same token: the alias row's token differs when the session's
      // lease was acquired again after the alias was written.
      return row && row->has_value() && session && session->has_value()
             && (*row)->owner_node_id == (*session)->owner_node_id;
    },
    cluster_wait, cluster_poll));
  CHECK(connections[2].turns[1].value("previous_response_id", "") == third_id);
  CHECK(connections[2].overlapping_creates == 0);

  // No request log is lost: turns one and two (run by node 1, two forwarded from node 2), the
  // revoked key's turn, turns three and four (run by node 2, four forwarded from node 3), each
  // logged once, all succeeded, the session's on its one account.
  // (Plus node 2's HTTP turns.)
  logs = f.request_logs(5 + http_turns);
  REQUIRE(logs.size() == 5 + http_turns);
  size_t same_session = 0;
  int websocket_turns = 0;
  const auto session_hash = logs[0]["session_key_hash"];
  for (const auto& row : logs) {
    CHECK(row["outcome"] == "succeeded");
    if (row["transport"] != "websocket") {
      continue;
    }
    ++websocket_turns;
    if (row["session_key_hash"] == session_hash) {
      ++same_session;
      CHECK(row["account_id"] == f.account_ids().at(session_account));
    }
  }
  CHECK(websocket_turns == 5);
  CHECK(same_session == 4);

  // Drain: SIGTERM on node 2 (the owner) while a slow turn of the session runs there. The turn
  // finishes and reaches its client, the session is handed off (its lease stays, expired at
  // once, naming the account) and the client's socket is closed with 1001 before node 2 exits 0.
  via_node2.close();
  f.script(session_account, [](auto& script) { script.delay_first_byte_ms = 1500; });
  ws_client on_node2{node2.port(), f.api_key(), session_headers()};
  REQUIRE(on_node2.status == 101);
  on_node2.send(test::ws_create_frame("a slow turn while node 2 drains"));
  CHECK(test::eventually([&] { return f.upstream().websocket_connections()[2].turns.size() == 3; },
                         cluster_wait, std::chrono::milliseconds{10}));
  const auto owner_before_drain = (*lease_rows.find(lease_key))->owner_node_id;
  const auto node2_exit = node2.stop(SIGTERM, std::chrono::seconds{15});
  INFO(tail_of(node2.output()));
  CHECK(node2_exit == 0);
  frames = on_node2.read_turn();
  REQUIRE_FALSE(frames.empty());
  CHECK(type_of(frames.back()) == "response.completed");
  // Then node 2 said goodbye (1001), so its client reconnects elsewhere.
  CHECK_FALSE(on_node2.read().has_value());
  CHECK(on_node2.close_code == 1001);
  auto lease = lease_rows.find(lease_key);
  REQUIRE(lease);
  REQUIRE(lease->has_value());
  CHECK((*lease)->expires_at <= to_iso8601(std::chrono::system_clock::now()));
  CHECK((*lease)->account_id == f.account_ids().at(session_account));

  // Node 3 takes the handed-off session over on the first try (no waiting for the lease TTL),
  // on the same account.
  f.script(session_account, [](auto& script) { script.delay_first_byte_ms = 0; });
  {
    ws_client after_drain{node3.port(), f.api_key(), session_headers()};
    REQUIRE(after_drain.status == 101);
    after_drain.send(test::ws_create_frame("a turn after the drain"));
    frames = after_drain.read_turn();
    REQUIRE_FALSE(frames.empty());
    INFO(frames.back().dump());
    REQUIRE(type_of(frames.back()) == "response.completed");
  }
  connections = f.upstream().websocket_connections();
  REQUIRE(connections.size() == 4);
  CHECK(connections[3].account_id == session_account);
  lease = lease_rows.find(lease_key);
  REQUIRE(lease->has_value());
  CHECK((*lease)->owner_node_id != owner_before_drain);
  CHECK(f.request_logs(7 + http_turns).size() == 7 + http_turns);
  // Every notice reached only actors that handle it (CAF reports any other).
  CHECK(node3.output().find("unexpected message") == std::string::npos);
}
