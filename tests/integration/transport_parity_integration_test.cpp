// One turn engine (issue 14, item 1): the same fake-upstream scenario ends the same way over
// HTTP/SSE and over the websocket: the same account serves, the fake counts the same
// refreshes, the client sees the same end, and failover happens on both or on neither.
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "domain/routing/selection_policy.hpp"
#include "persistence/request_logs/request_log_repository.hpp"
#include "persistence/routing/routing_repository.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/pooler_fixture.hpp"
#include "tests/support/ws_client.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::pooler_fixture;

namespace {

enum class transport { http_sse, websocket };

const char* name_of(transport via) {
  return via == transport::http_sse ? "http_sse" : "websocket";
}

/// What a scenario must end in, whichever transport carried it.
struct outcome {
  std::string served_by;          ///< the fake account that served the turn ("" when none did)
  int refreshes = 0;              ///< token refreshes the fake counted, all accounts
  std::string end;                ///< "completed", or "<status>:<error code>" of the client's error
  std::vector<std::string> tried; ///< accounts of the gateway's attempt rows, in order (deduped)

  bool failed_over() const { return tried.size() > 1; }
};

std::string describe(const outcome& o) {
  std::string tried;
  for (const auto& account : o.tried) {
    tried += (tried.empty() ? "" : ",") + account;
  }
  return "served_by=" + o.served_by + " refreshes=" + std::to_string(o.refreshes) + " end=" + o.end
         + " tried=[" + tried + "]";
}

struct scenario {
  const char* name;
  std::function<void(test::account_script&)> first; ///< applied to acct-1, tried first
  outcome expected;
};

/// A prompt_cache_key (the rendezvous seed of both transports) that ranks acct-1 first, so the
/// scripted account is always the one tried first.
std::string seed_ranking_first(const pooler_fixture& f) {
  const auto& first = f.account_ids().at("acct-1");
  const auto& second = f.account_ids().at("acct-2");
  for (int i = 0;; ++i) {
    auto seed = "parity-seed-" + std::to_string(i);
    if (domain::rendezvous_score(seed, first) > domain::rendezvous_score(seed, second)) {
      return seed;
    }
  }
}

std::string error_end(int status, const json& error) {
  std::string code;
  if (error.is_object()) {
    code = error.value("code", std::string{});
    if (code.empty()) {
      code = error.value("type", std::string{});
    }
  }
  return std::to_string(status) + ":" + code;
}

std::string http_turn(pooler_fixture& f, const std::string& seed) {
  auto body = test::user_turn_body("say hi", "gpt-5.5");
  body["prompt_cache_key"] = seed;
  auto answer =
    test::http_request(f.gateway().port(), "POST", "/backend-api/codex/responses", body.dump(),
                       {{"authorization", "Bearer " + f.api_key()},
                        {"content-type", "application/json"},
                        {"accept", "text/event-stream"},
                        {"session-id", seed}});
  INFO(answer.body);
  if (answer.status == 200) {
    if (answer.body.find("\"response.completed\"") != std::string::npos) {
      return "completed";
    }
    return "200:stream_without_completion";
  }
  const auto parsed = json::parse(answer.body, nullptr, false);
  return error_end(answer.status, parsed.is_object() ? parsed.value("error", json{}) : json{});
}

std::string websocket_turn(pooler_fixture& f, const std::string& seed) {
  test::ws_client client{f.gateway().port(), f.api_key(), {{"session-id", seed}}};
  REQUIRE(client.status == 101);
  auto frame = test::user_turn_body("say hi", "gpt-5.5");
  frame["type"] = "response.create";
  frame["prompt_cache_key"] = seed;
  client.send(frame.dump());
  const auto frames = client.read_turn();
  REQUIRE_FALSE(frames.empty());
  const auto& last = frames.back();
  INFO(last.dump());
  if (test::type_of(last) == "response.completed") {
    return "completed";
  }
  if (test::type_of(last) == "error") {
    return error_end(last.value("status", 0), last.value("error", json{}));
  }
  return test::type_of(last);
}

/// The accounts the gateway's attempt rows name (in order, repeats folded), once the turn's
/// request-log row is written.
std::vector<std::string> tried_accounts(pooler_fixture& f) {
  std::map<std::string, std::string> fake_of;
  for (const auto& [fake, row] : f.account_ids()) {
    fake_of[row] = fake;
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (std::chrono::steady_clock::now() < give_up) {
    auto logs = persistence::request_log_repository{f.database().db()}.recent(10);
    if (logs && !logs->empty()) {
      std::vector<std::string> tried;
      for (const auto& attempt : logs->front().attempts) {
        const auto fake = fake_of[attempt.account_id.value_or("")];
        if (tried.empty() || tried.back() != fake) {
          tried.push_back(fake);
        }
      }
      return tried;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  FAIL("no request-log row was written");
  return {};
}

outcome run(const scenario& s, transport via) {
  pooler_fixture::options opts;
  opts.accounts = 2;
  pooler_fixture f{opts};
  // The startup usage polls (the owner's probe, the quota job) read both accounts before acct-1
  // is scripted: a poll after the script would tell every node it is used up (stored evidence
  // reaches every node), and the turn would skip it instead of failing over.
  REQUIRE(test::eventually([&] {
    for (const auto& [fake, row] : f.account_ids()) {
      auto windows = persistence::routing_repository{f.database().db()}.quota_windows(row);
      if (!windows || windows->empty()) {
        return false;
      }
    }
    return true;
  }));
  f.script("acct-1", s.first);
  const auto seed = seed_ranking_first(f);
  std::map<std::string, int> served_before;
  for (const auto* account : {"acct-1", "acct-2"}) {
    served_before[account] = f.upstream().counters(account).turns_served;
  }
  outcome seen;
  seen.end = via == transport::http_sse ? http_turn(f, seed) : websocket_turn(f, seed);
  for (const auto* account : {"acct-1", "acct-2"}) {
    const auto counters = f.upstream().counters(account);
    seen.refreshes += counters.refresh_calls;
    if (counters.turns_served > served_before[account]) {
      seen.served_by = account;
    }
  }
  seen.tried = tried_accounts(f);
  return seen;
}

} // namespace

TEST_CASE("the same upstream scenario ends the same way over HTTP/SSE and websockets",
          "[integration][parity]") {
  const auto s = GENERATE(values<scenario>({
    {"401 then success after one refresh",
     [](auto& a) { a.access_token_expired = true; },
     {"acct-1", 1, "completed", {"acct-1"}}},
    {"an auth error code (token_expired) without a 401 refreshes too",
     [](auto& a) { a.auth_error_status = 403; },
     {"acct-1", 1, "completed", {"acct-1"}}},
    {"a 401 that outlives its refresh moves to the next account",
     [](auto& a) { a.always_unauthorized = true; },
     {"acct-2", 1, "completed", {"acct-1", "acct-2"}}},
    {"429 usage_limit_reached moves to the next account",
     [](auto& a) { a.usage_limit_after = 0; },
     {"acct-2", 0, "completed", {"acct-1", "acct-2"}}},
    {"500 moves to the next account",
     [](auto& a) { a.status_5xx = 500; },
     {"acct-2", 0, "completed", {"acct-1", "acct-2"}}},
    {"a failed first event (server_error) moves to the next account",
     [](auto& a) { a.response_failed_first = true; },
     {"acct-2", 0, "completed", {"acct-1", "acct-2"}}},
    {"a connection cut before the first event moves to the next account",
     [](auto& a) { a.close_before_headers = true; },
     {"acct-2", 0, "completed", {"acct-1", "acct-2"}}},
    {"400 is relayed as the request's own fault, no failover",
     [](auto& a) { a.reject_status = 400; },
     {"", 0, "400:invalid_value", {"acct-1"}}},
  }));
  INFO(s.name);
  const auto over_http = run(s, transport::http_sse);
  const auto over_websocket = run(s, transport::websocket);
  for (const auto& [via, seen] : {std::pair{transport::http_sse, over_http},
                                  std::pair{transport::websocket, over_websocket}}) {
    INFO(name_of(via) << ": " << describe(seen));
    CHECK(seen.served_by == s.expected.served_by);
    CHECK(seen.refreshes == s.expected.refreshes);
    CHECK(seen.end == s.expected.end);
    CHECK(seen.tried == s.expected.tried);
    CHECK(seen.failed_over() == s.expected.failed_over());
  }
  INFO("http_sse: " << describe(over_http) << " / websocket: " << describe(over_websocket));
  CHECK(over_http.served_by == over_websocket.served_by);
  CHECK(over_http.refreshes == over_websocket.refreshes);
  CHECK(over_http.end == over_websocket.end);
  CHECK(over_http.failed_over() == over_websocket.failed_over());
}

TEST_CASE("the Responses websocket is served at /v1/responses too",
          "[integration][parity][websocket]") {
  pooler_fixture::options opts;
  opts.accounts = 1;
  pooler_fixture f{opts};
  test::ws_client client{
    f.gateway().port(), f.api_key(), {{"session-id", "thread-v1-ws"}}, "/v1/responses"};
  REQUIRE(client.status == 101);
  CHECK(client.header("x-codex-turn-state").size() == 36);
  client.send(test::ws_create_frame("over /v1"));
  const auto frames = client.read_turn();
  REQUIRE_FALSE(frames.empty());
  CHECK(test::type_of(frames.front()) == "response.created");
  CHECK(test::type_of(frames.back()) == "response.completed");
  auto logs = f.request_logs(1);
  REQUIRE(logs.size() == 1);
  CHECK(logs[0]["transport"] == "websocket");
  CHECK(logs[0]["outcome"] == "succeeded");
  CHECK(logs[0]["route"] == "/v1/responses");
}
