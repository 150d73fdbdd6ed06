#include <chrono>
#include <csignal>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/admin_client.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/pooler_fixture.hpp"
#include "tests/support/ws_client.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::pooler_fixture;

namespace {

using test::eventually;
using test::response_id_of;
using test::type_of;
using test::ws_client;

pooler_fixture::options ws_options(std::vector<std::string> settings = {}, int accounts = 2) {
  pooler_fixture::options opts;
  opts.accounts = accounts;
  opts.settings = std::move(settings);
  return opts;
}

std::map<std::string, std::string> session_headers(const std::string& thread) {
  return {{"session-id", thread}, {"thread-id", thread}, {"x-codex-window-id", thread + ":0"}};
}

} // namespace

TEST_CASE("turns of a session share one upstream socket, also across a client reconnect",
          "[integration][websocket]") {
  pooler_fixture f{ws_options()};
  std::string first_id;
  {
    ws_client client{f.gateway().port(),
                     f.api_key(),
                     {{"x-codex-turn-state", "client-state-1"},
                      {"session-id", "thread-ws-1"},
                      {"x-codex-window-id", "thread-ws-1:0"}}};
    REQUIRE(client.status == 101);
    CHECK(client.header("x-codex-turn-state") == "client-state-1");
    client.send(test::ws_create_frame("first turn"));
    auto frames = client.read_turn();
    REQUIRE_FALSE(frames.empty());
    CHECK(type_of(frames.front()) == "response.created");
    REQUIRE(type_of(frames.back()) == "response.completed");
    first_id = response_id_of(frames);
    bool has_text = false;
    for (const auto& frame : frames) {
      has_text = has_text
                 || (type_of(frame) == "response.output_text.delta"
                     && frame.value("delta", "").rfind("hello from acct-", 0) == 0);
    }
    CHECK(has_text);
    client.send(test::ws_create_frame("second turn", first_id));
    frames = client.read_turn();
    REQUIRE(type_of(frames.back()) == "response.completed");
    client.send(R"({"type":"response.processed","response_id":")" + response_id_of(frames) + "\"}");
    client.close();
  }
  // A new connection of the same session (same window id, no turn state: what the CLI's
  // `exec resume` does) continues on the same upstream socket.
  ws_client again{f.gateway().port(),
                  f.api_key(),
                  {{"session-id", "thread-ws-1"}, {"x-codex-window-id", "thread-ws-1:0"}}};
  REQUIRE(again.status == 101);
  CHECK(again.header("x-codex-turn-state").size() == 36); // a fresh UUID
  again.send(test::ws_create_frame("third turn after reconnect"));
  auto frames = again.read_turn();
  REQUIRE(type_of(frames.back()) == "response.completed");

  auto connections = f.upstream().websocket_connections();
  REQUIRE(connections.size() == 1);
  CHECK(connections[0].turns.size() == 3);
  CHECK(connections[0].turns[1].value("previous_response_id", "") == first_id);
  CHECK(connections[0].overlapping_creates == 0);
  CHECK(eventually([&] { return f.upstream().websocket_connections()[0].processed_acks == 1; }));

  auto logs = f.request_logs(3);
  REQUIRE(logs.size() == 3);
  for (const auto& row : logs) {
    CHECK(row["transport"] == "websocket");
    CHECK(row["outcome"] == "succeeded");
    CHECK(row["status_code"] == 200);
    CHECK(row["account_id"] == f.account_ids().at(connections[0].account_id));
    CHECK(row["session_key_hash"].get<std::string>().size() == 64);
  }
  // With a stream and fresh quota still pending, the node must stop cleanly.
  CHECK(f.gateway().stop(SIGTERM, std::chrono::seconds{10}) == 0);
}

TEST_CASE("response.create frames of one connection run one at a time, in order",
          "[integration][websocket]") {
  pooler_fixture f{ws_options()};
  for (const auto& [account, id] : f.account_ids()) {
    f.script(account, [](auto& s) { s.delay_first_byte_ms = 300; });
  }
  ws_client client{f.gateway().port(), f.api_key(), session_headers("thread-serial")};
  REQUIRE(client.status == 101);
  client.send(test::ws_create_frame("one"));
  client.send(test::ws_create_frame("two"));
  auto first = client.read_turn();
  auto second = client.read_turn();
  REQUIRE(type_of(first.back()) == "response.completed");
  REQUIRE(type_of(second.back()) == "response.completed");
  CHECK(response_id_of(first) != response_id_of(second));
  auto connections = f.upstream().websocket_connections();
  REQUIRE(connections.size() == 1);
  REQUIRE(connections[0].turns.size() == 2);
  CHECK(connections[0].turns[0]["input_text"] == "one\n");
  CHECK(connections[0].turns[1]["input_text"] == "two\n");
  CHECK(connections[0].overlapping_creates == 0);
}

TEST_CASE("an idle client is closed and an idle upstream socket expires after the owner window",
          "[integration][websocket]") {
  pooler_fixture f{ws_options(
    {"gateway.websocket_idle_timeout_ms=1500", "gateway.websocket_owner_idle_timeout_ms=1000"})};
  {
    ws_client client{f.gateway().port(), f.api_key(), session_headers("thread-idle")};
    REQUIRE(client.status == 101);
    client.send(test::ws_create_frame("before idling"));
    REQUIRE(type_of(client.read_turn().back()) == "response.completed");
    // Nothing more from the client: the gateway closes with 1001 after the idle timeout.
    CHECK_FALSE(client.read().has_value());
    CHECK(client.close_code == 1001);
  }
  // Detached, the stream keeps the upstream socket only for the owner window.
  CHECK(eventually([&] {
    auto connections = f.upstream().websocket_connections();
    return connections.size() == 1 && !connections[0].open;
  }));
  ws_client again{f.gateway().port(), f.api_key(), session_headers("thread-idle")};
  again.send(test::ws_create_frame("after expiry"));
  REQUIRE(type_of(again.read_turn().back()) == "response.completed");
  auto connections = f.upstream().websocket_connections();
  REQUIRE(connections.size() == 2);
  // Still the same account: the session stays pinned after its socket expired.
  CHECK(connections[1].account_id == connections[0].account_id);
}

TEST_CASE("a client message above the size limit closes the socket with 1009",
          "[integration][websocket]") {
  pooler_fixture f{ws_options({"ingress.max_body_bytes=4096"})};
  ws_client client{f.gateway().port(), f.api_key(), session_headers("thread-big")};
  REQUIRE(client.status == 101);
  client.send(test::ws_create_frame(std::string(8000, 'x')));
  CHECK_FALSE(client.read().has_value());
  CHECK(client.close_code == 1009);
  CHECK(f.upstream().websocket_connections().empty());
}

TEST_CASE("a revoked key closes its open sessions with 1008 and bad keys never upgrade",
          "[integration][websocket]") {
  pooler_fixture f{ws_options()};
  ws_client wrong{f.gateway().port(), "sk-cxp-not-a-key", session_headers("thread-x")};
  CHECK(wrong.status == 401);
  CHECK_FALSE(wrong.open);

  ws_client client{f.gateway().port(), f.api_key(), session_headers("thread-revoke")};
  REQUIRE(client.status == 101);
  client.send(test::ws_create_frame("still allowed"));
  REQUIRE(type_of(client.read_turn().back()) == "response.completed");
  auto keys = test::run_gateway_command(f.env(), {"admin", "key", "list", "--pool", f.pool_id()});
  REQUIRE(keys.exit_code == 0);
  auto listed = json::parse(keys.out);
  const auto& items = listed.is_array() ? listed : listed["items"];
  REQUIRE(items.size() == 1);
  auto revoked = test::run_gateway_command(
    f.env(), {"admin", "key", "revoke", "--id", items[0]["id"].get<std::string>()});
  REQUIRE(revoked.exit_code == 0);
  CHECK_FALSE(client.read().has_value());
  CHECK(client.close_code == 1008);
}

TEST_CASE("a key paused through the admin API closes its sockets and stops authenticating at "
          "once, without waiting for a poll",
          "[integration][websocket]") {
  auto opts = ws_options();
  // Far beyond this test's waits: only the pause's announcement can close the socket in time.
  opts.gateway_env["CODEX_POOLER_KEY_RECHECK_MS"] = "600000";
  pooler_fixture f{opts};
  test::admin_client admin{f.gateway().port()};
  REQUIRE(admin.bootstrap("owner@example.com", "websocket test passphrase").status == 201);
  REQUIRE(admin.login("owner@example.com", "websocket test passphrase").status == 200);
  auto keys = admin.get("/admin/api/api-keys?pool_id=" + f.pool_id());
  REQUIRE(keys.status == 200);
  const auto key_id = json::parse(keys.body)["items"][0]["id"].get<std::string>();

  ws_client client{f.gateway().port(), f.api_key(), session_headers("thread-pause")};
  REQUIRE(client.status == 101);
  client.send(test::ws_create_frame("before the pause"));
  REQUIRE(type_of(client.read_turn().back()) == "response.completed");
  // An HTTP turn puts the key in the node's key cache, which would serve it for 2 s more.
  REQUIRE(f.turn().status == 200);

  REQUIRE(admin.send("POST", "/admin/api/api-keys/" + key_id + "/pause").status == 200);
  const auto paused_at = std::chrono::steady_clock::now();
  CHECK_FALSE(client.read().has_value());
  CHECK(client.close_code == 1008);
  CHECK(std::chrono::steady_clock::now() - paused_at < std::chrono::seconds{5});
  auto refused = f.turn();
  CHECK(refused.status == 401);
  CHECK(refused.body.find("api_key_inactive") != std::string::npos);

  REQUIRE(admin.send("POST", "/admin/api/api-keys/" + key_id + "/resume").status == 200);
  CHECK(f.turn().status == 200);
}

TEST_CASE("an upstream auth error on the socket refreshes the token and retries the turn",
          "[integration][websocket]") {
  pooler_fixture f{ws_options({}, 1)};
  ws_client client{f.gateway().port(), f.api_key(), session_headers("thread-refresh")};
  REQUIRE(client.status == 101);
  client.send(test::ws_create_frame("first"));
  REQUIRE(type_of(client.read_turn().back()) == "response.completed");
  f.script("acct-1", [](auto& s) { s.access_token_expired = true; });
  const auto refreshes = f.upstream().counters("acct-1").refresh_calls;
  client.send(test::ws_create_frame("second"));
  auto frames = client.read_turn();
  for (const auto& frame : frames) {
    CHECK(type_of(frame) != "error");
  }
  REQUIRE(type_of(frames.back()) == "response.completed");
  CHECK(f.upstream().counters("acct-1").refresh_calls == refreshes + 1);
  auto connections = f.upstream().websocket_connections();
  REQUIRE(connections.size() == 2);
  CHECK(connections[1].turns.size() == 1);
}

TEST_CASE("a session whose pinned account became ineligible gets a clear error, not a move",
          "[integration][websocket]") {
  pooler_fixture f{ws_options()};
  ws_client client{f.gateway().port(), f.api_key(), session_headers("thread-pinned")};
  REQUIRE(client.status == 101);
  client.send(test::ws_create_frame("first"));
  REQUIRE(type_of(client.read_turn().back()) == "response.completed");
  const auto pinned = f.upstream().websocket_connections().at(0).account_id;
  f.script(pinned, [](auto& s) { s.usage_limit_after = 0; });
  client.send(test::ws_create_frame("second"));
  auto frames = client.read_turn();
  REQUIRE_FALSE(frames.empty());
  CHECK(type_of(frames.back()) == "error");
  // The other account never saw this session.
  for (const auto& connection : f.upstream().websocket_connections()) {
    CHECK(connection.account_id == pinned);
  }
  // The next turn is refused by the pin itself, with the restart hint.
  client.send(test::ws_create_frame("third"));
  frames = client.read_turn();
  REQUIRE(type_of(frames.back()) == "error");
  CHECK(frames.back()["status"] == 503);
  CHECK(frames.back()["error"]["code"] == "pinned_continuation_unavailable");
  CHECK(frames.back()["error"]["message"].get<std::string>().find("full context")
        != std::string::npos);
}

TEST_CASE("an upgrade refused with 401 refreshes the token and opens the socket again",
          "[integration][websocket]") {
  pooler_fixture f{ws_options({}, 1)};
  f.script("acct-1", [](auto& s) { s.access_token_expired = true; });
  ws_client client{f.gateway().port(), f.api_key(), session_headers("thread-upgrade-401")};
  REQUIRE(client.status == 101);
  client.send(test::ws_create_frame("first"));
  auto frames = client.read_turn();
  REQUIRE(type_of(frames.back()) == "response.completed");
  CHECK(f.upstream().counters("acct-1").refresh_calls == 1);
  auto connections = f.upstream().websocket_connections();
  REQUIRE(connections.size() == 1); // the refused upgrade never became a connection
  CHECK(connections[0].turns.size() == 1);
}

TEST_CASE("a session whose upstream socket was closed continues on a new one, same account",
          "[integration][websocket]") {
  pooler_fixture f{ws_options()};
  ws_client client{f.gateway().port(), f.api_key(), session_headers("thread-dropped")};
  REQUIRE(client.status == 101);
  client.send(test::ws_create_frame("first"));
  REQUIRE(type_of(client.read_turn().back()) == "response.completed");
  f.upstream().close_websockets();
  client.send(test::ws_create_frame("second"));
  auto frames = client.read_turn();
  REQUIRE(type_of(frames.back()) == "response.completed");
  auto connections = f.upstream().websocket_connections();
  REQUIRE(connections.size() == 2);
  CHECK(connections[1].account_id == connections[0].account_id);
  CHECK(connections[1].turns.size() == 1);
}

TEST_CASE("each websocket turn counts against the key's request cap", "[integration][websocket]") {
  pooler_fixture f{ws_options()};
  auto created =
    test::run_gateway_command(f.env(), {"admin", "key", "create", "--pool", f.pool_id(), "--name",
                                        "capped", "--policy", R"({"max_requests_per_minute":1})"});
  REQUIRE(created.exit_code == 0);
  const auto capped =
    json::parse(created.out.substr(created.out.find('{')))["key"].get<std::string>();
  ws_client client{f.gateway().port(), capped, session_headers("thread-capped")};
  REQUIRE(client.status == 101);
  client.send(test::ws_create_frame("first"));
  REQUIRE(type_of(client.read_turn().back()) == "response.completed");
  client.send(test::ws_create_frame("second"));
  auto frames = client.read_turn();
  REQUIRE(type_of(frames.back()) == "error");
  CHECK(frames.back()["status"] == 429);
  CHECK(frames.back()["error"]["code"] == "api_key_policy_limit_exceeded");
  CHECK(f.upstream().websocket_connections().at(0).turns.size() == 1);
}

TEST_CASE("a websocket turn beyond the proxy_websocket bulkhead gets an overloaded error frame",
          "[integration][websocket][admission]") {
  auto opts = ws_options(
    {R"(gateway.bulkheads={"proxy_websocket":{"max_concurrency":1,"queue_limit":0}})"}, 1);
  opts.script = [](int, test::account_script& script) {
    script.delay_first_byte_ms = 1000;
  };
  pooler_fixture f{opts};
  ws_client slow{f.gateway().port(), f.api_key(), session_headers("thread-slow")};
  ws_client other{f.gateway().port(), f.api_key(), session_headers("thread-other")};
  REQUIRE(slow.status == 101);
  REQUIRE(other.status == 101);
  slow.send(test::ws_create_frame("takes the only place"));
  // The slow turn is upstream (its place taken) before the other one asks.
  REQUIRE(eventually([&] { return f.upstream().websocket_connections().size() == 1; }));
  other.send(test::ws_create_frame("finds no place"));
  auto refused = other.read_turn();
  REQUIRE_FALSE(refused.empty());
  CHECK(type_of(refused.back()) == "error");
  CHECK(refused.back()["status"] == 503);
  CHECK(refused.back()["error"]["code"] == "server_is_overloaded");
  CHECK(type_of(slow.read_turn().back()) == "response.completed");
  // The place is free again.
  other.send(test::ws_create_frame("now there is room"));
  CHECK(type_of(other.read_turn().back()) == "response.completed");
}

TEST_CASE("a client that drops mid-turn and reconnects gets only its new turn's frames",
          "[integration][websocket]") {
  auto opts = ws_options({}, 1);
  opts.script = [](int, test::account_script& script) {
    // 8 frames 400 ms apart: the abandoned answer's tail is still upstream at the reconnect.
    script.ws_event_interval_ms = 400;
  };
  pooler_fixture f{opts};
  {
    ws_client dropped{f.gateway().port(), f.api_key(), session_headers("thread-drop")};
    REQUIRE(dropped.status == 101);
    dropped.send(test::ws_create_frame("abandoned"));
    auto first = dropped.read();
    REQUIRE(first);
    CHECK(type_of(json::parse(*first)) == "response.created");
    dropped.close();
  }
  ws_client again{f.gateway().port(), f.api_key(), session_headers("thread-drop")};
  REQUIRE(again.status == 101);
  again.send(test::ws_create_frame("new turn"));
  auto frames = again.read_turn();
  REQUIRE_FALSE(frames.empty());
  CHECK(type_of(frames.front()) == "response.created");
  REQUIRE(type_of(frames.back()) == "response.completed");
  // Every frame is the new answer's: one response id, its sequence numbers from 0 in order.
  const auto id = frames.front().value(json::json_pointer{"/response/id"}, std::string{});
  CHECK(response_id_of(frames) == id);
  int64_t expected_seq = 0;
  for (const auto& frame : frames) {
    if (frame.contains("response")) {
      CHECK(frame["response"].value("id", std::string{}) == id);
    }
    if (frame.contains("sequence_number")) {
      CHECK(frame["sequence_number"] == expected_seq++);
    }
  }
  // The abandoned answer was cut off upstream (its socket closed) and logged as cancelled;
  // the new turn ran on a new socket.
  CHECK(eventually([&] { return !f.upstream().websocket_connections().at(0).open; }));
  auto connections = f.upstream().websocket_connections();
  REQUIRE(connections.size() == 2);
  REQUIRE(connections[1].turns.size() == 1);
  CHECK(connections[1].turns[0]["input_text"] == "new turn\n");
  auto logs = f.request_logs(2);
  REQUIRE(logs.size() == 2);
  std::multiset<std::string> outcomes;
  for (const auto& row : logs) {
    outcomes.insert(row["outcome"].get<std::string>() + " "
                    + std::to_string(row["status_code"].get<int>()));
  }
  CHECK(outcomes == std::multiset<std::string>{"cancelled 499", "succeeded 200"});
}

namespace {

/// Opens `count` sessions one after another, each with one turn, and detaches each.
void open_and_detach(pooler_fixture& f, int count, const std::string& prefix) {
  for (int i = 0; i < count; ++i) {
    ws_client client{f.gateway().port(), f.api_key(),
                     session_headers(prefix + "-" + std::to_string(i))};
    REQUIRE(client.status == 101);
    client.send(test::ws_create_frame("turn " + std::to_string(i)));
    REQUIRE(type_of(client.read_turn().back()) == "response.completed");
    client.close();
  }
}

/// The value of the detached-socket cap counter for `limit` (0 when not exported yet).
int detached_closed(pooler_fixture& f, const std::string& limit) {
  const auto body = test::http_get(f.gateway().port(), "/metrics").body;
  const auto name =
    "codex_pooler_gateway_websocket_detached_closed_total{limit=\"" + limit + "\"} ";
  const auto at = body.find(name);
  return at == std::string::npos ? 0 : std::stoi(body.substr(at + name.size()));
}

/// Which of the fake's upstream connections are still open, in accept order.
std::vector<bool> open_sockets(pooler_fixture& f) {
  std::vector<bool> open;
  for (const auto& connection : f.upstream().websocket_connections()) {
    open.push_back(connection.open);
  }
  return open;
}

} // namespace

TEST_CASE("detached sessions beyond the per key cap lose their upstream sockets oldest first",
          "[integration][websocket]") {
  pooler_fixture f{ws_options({"gateway.websocket_detached_per_key_limit=3"}, 1)};
  open_and_detach(f, 5, "thread-key-cap");
  // The two least recently used sockets are closed, at the fake's side too; three stay.
  CHECK(eventually([&] {
    return open_sockets(f) == std::vector<bool>{false, false, true, true, true};
  }));
  CHECK(eventually([&] { return detached_closed(f, "api_key") == 2; }));
  CHECK(detached_closed(f, "account") == 0);
  // A session whose socket was closed by the cap still continues, on a new socket.
  ws_client back{f.gateway().port(), f.api_key(), session_headers("thread-key-cap-0")};
  back.send(test::ws_create_frame("after the cap"));
  REQUIRE(type_of(back.read_turn().back()) == "response.completed");
  CHECK(f.upstream().websocket_connections().size() == 6);
}

TEST_CASE("detached sessions beyond the per account cap lose their upstream sockets oldest first",
          "[integration][websocket]") {
  pooler_fixture f{ws_options({"gateway.websocket_detached_per_key_limit=100",
                               "gateway.websocket_detached_per_account_limit=2"},
                              1)};
  open_and_detach(f, 3, "thread-account-cap");
  CHECK(eventually([&] { return open_sockets(f) == std::vector<bool>{false, true, true}; }));
  CHECK(eventually([&] { return detached_closed(f, "account") == 1; }));
  CHECK(detached_closed(f, "api_key") == 0);
}

TEST_CASE("a response.create frame with a wrong-typed field or deep nesting gets an error frame "
          "naming the problem and the connection keeps serving",
          "[integration][websocket]") {
  pooler_fixture f{ws_options()};
  ws_client client{f.gateway().port(), f.api_key(), session_headers("thread-hostile")};
  REQUIRE(client.status == 101);
  for (const auto* field : {"model", "previous_response_id", "prompt_cache_key", "stream"}) {
    auto frame = json::parse(test::ws_create_frame("typed"));
    frame[field] = json::array({1});
    client.send(frame.dump());
    auto refused = client.read_turn();
    REQUIRE_FALSE(refused.empty());
    CHECK(type_of(refused.back()) == "error");
    CHECK(refused.back()["status"] == 400);
    CHECK(refused.back()["error"]["param"] == field);
  }
  client.send(R"({"type":"response.create","model":"gpt-5.5","input":)" + std::string(5000, '[')
              + std::string(5000, ']') + "}");
  auto deep = client.read_turn();
  REQUIRE_FALSE(deep.empty());
  CHECK(type_of(deep.back()) == "error");
  CHECK(deep.back()["status"] == 400);
  client.send(test::ws_create_frame("still here"));
  CHECK(type_of(client.read_turn().back()) == "response.completed");
  CHECK(f.upstream().websocket_connections().size() == 1);
}
