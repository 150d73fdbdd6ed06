#include <csignal>
#include <future>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/pooler_fixture.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::pooler_fixture;

namespace {

int total(const std::map<std::string, int>& counts) {
  int sum = 0;
  for (const auto& [name, count] : counts) {
    sum += count;
  }
  return sum;
}

/// The account whose counter grew between two snapshots (empty when none or several).
std::string served_by(const std::map<std::string, int>& before,
                      const std::map<std::string, int>& after) {
  std::string who;
  for (const auto& [account, count] : after) {
    if (count > before.at(account)) {
      if (!who.empty()) {
        return {};
      }
      who = account;
    }
  }
  return who;
}

pooler_fixture::options on(test::backend database, int accounts = 2) {
  pooler_fixture::options opts;
  opts.database = database;
  opts.accounts = accounts;
  return opts;
}

} // namespace

TEST_CASE("a turn is proxied with the account's credentials and relayed as SSE",
          "[integration][proxy]") {
  const auto kind = GENERATE(test::backend::postgres, test::backend::sqlite);
  pooler_fixture f{on(kind)};
  const auto before = f.turns_served();
  auto answer =
    f.turn({{"session-id", "thread-1"},
            {"thread-id", "thread-1"},
            {"x-client-request-id", "thread-1"},
            {"x-codex-turn-metadata", R"({"turn_id":"t1","code_mode_tool_names":["x"]})"},
            {"originator", "codex_exec"}});
  REQUIRE(answer.status == 200);
  CHECK(answer.headers["content-type"].find("text/event-stream") != std::string::npos);
  const auto account = served_by(before, f.turns_served());
  REQUIRE_FALSE(account.empty());
  CHECK(answer.body.find("hello from " + account) != std::string::npos);
  CHECK(answer.body.find("\"type\":\"response.completed\"") != std::string::npos);

  auto recorded = f.upstream().recorded();
  auto turn = std::find_if(recorded.rbegin(), recorded.rend(), [](const auto& r) {
    return r.target == "/backend-api/codex/responses";
  });
  REQUIRE(turn != recorded.rend());
  CHECK(turn->headers.at("chatgpt-account-id") == account);
  CHECK(turn->headers.at("session-id") == "thread-1");
  CHECK(turn->headers.at("thread-id") == "thread-1");
  CHECK(turn->headers.at("x-client-request-id") == "thread-1");
  CHECK(turn->headers.at("originator") == "codex_exec");
  CHECK(turn->headers.at("x-codex-turn-metadata").find("code_mode_tool_names")
        == std::string::npos);
  CHECK(turn->body.find("say hi") != std::string::npos);
  // The pool key never travels upstream; the fake records bearers only as fingerprints.
  for (const auto& request : recorded) {
    for (const auto& [name, value] : request.headers) {
      CHECK(value.find(f.api_key()) == std::string::npos);
    }
  }

  auto logs = f.request_logs(1);
  REQUIRE(logs.size() == 1);
  CHECK(logs[0]["outcome"] == "succeeded");
  CHECK(logs[0]["status_code"] == 200);
  CHECK(logs[0]["account_id"] == f.account_ids().at(account));
  CHECK(logs[0]["input_tokens"].get<int64_t>() > 0);
  CHECK(logs[0]["session_key_hash"].get<std::string>().size() == 64);

  // Right after traffic the accounts still have quota to flush: the node must still stop cleanly.
  f.turn();
  CHECK(f.gateway().stop(SIGTERM, std::chrono::seconds{10}) == 0);
}

TEST_CASE("usage limit, 5xx, dropped connections and failed first events fail over",
          "[integration][proxy]") {
  struct failure_case {
    const char* name;
    std::function<void(test::account_script&)> script;
  };
  const auto failure = GENERATE(values<failure_case>({{"usage_limit",
                                                       [](auto& s) {
                                                         s.usage_limit_after = 0;
                                                       }},
                                                      {"status_500",
                                                       [](auto& s) {
                                                         s.status_5xx = 500;
                                                       }},
                                                      {"status_503",
                                                       [](auto& s) {
                                                         s.status_5xx = 503;
                                                       }},
                                                      {"close_before_headers",
                                                       [](auto& s) {
                                                         s.close_before_headers = true;
                                                       }},
                                                      {"response_failed_first", [](auto& s) {
                                                         s.response_failed_first = true;
                                                       }}}));
  INFO(failure.name);
  pooler_fixture f{on(test::backend::postgres, 3)};
  // Every account but one fails; whichever the ring tries first, the healthy one serves.
  f.script("acct-1", failure.script);
  f.script("acct-2", failure.script);
  const auto before = f.turns_served();
  auto answer = f.turn();
  INFO(answer.body);
  REQUIRE(answer.status == 200);
  CHECK(served_by(before, f.turns_served()) == "acct-3");
  CHECK(answer.body.find("hello from acct-3") != std::string::npos);
  CHECK(answer.body.find("response.failed") == std::string::npos);

  auto logs = f.request_logs(1);
  REQUIRE(logs.size() == 1);
  CHECK(logs[0]["outcome"] == "succeeded");
  CHECK(logs[0]["account_id"] == f.account_ids().at("acct-3"));
  CHECK(logs[0]["attempt_count"].get<int>() >= 1);
}

TEST_CASE("a pool with every account exhausted answers the Codex usage-limit 429",
          "[integration][proxy]") {
  pooler_fixture f{on(test::backend::postgres)};
  const int64_t soon = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count()
                       + 1800;
  f.script("acct-1", [&](auto& s) {
    s.usage_limit_after = 0;
    s.primary_reset_at = soon;
  });
  f.script("acct-2", [&](auto& s) {
    s.usage_limit_after = 0;
    s.primary_reset_at = soon + 600;
  });
  auto first = f.turn();
  REQUIRE(first.status == 429);
  auto body = json::parse(first.body);
  CHECK(body["error"]["type"] == "usage_limit_reached");

  // Now both are known to be exhausted: the pool answers without trying upstream.
  const auto requests_before = f.upstream_turns();
  auto second = f.turn();
  REQUIRE(second.status == 429);
  body = json::parse(second.body);
  CHECK(body["error"]["type"] == "usage_limit_reached");
  CHECK(body["error"]["resets_at"].get<int64_t>() == soon);
  CHECK(body["error"]["resets_in_seconds"].get<int64_t>() > 0);
  CHECK(f.upstream_turns() == requests_before);
}

TEST_CASE("a stream that breaks after its first byte is never replayed", "[integration][proxy]") {
  pooler_fixture f{on(test::backend::postgres)};
  f.script("acct-1", [](auto& s) { s.abrupt_close_after_events = 4; });
  f.script("acct-2", [](auto& s) { s.abrupt_close_after_events = 4; });
  auto answer = f.turn();
  CHECK(answer.status == 200);
  CHECK(answer.body.find("response.created") != std::string::npos);
  CHECK(answer.body.find("response.completed") == std::string::npos);
  int requests = 0;
  for (const auto& account : {"acct-1", "acct-2"}) {
    requests += f.upstream().counters(account).turn_requests;
  }
  CHECK(requests == 1);
  auto logs = f.request_logs(1);
  REQUIRE(logs.size() == 1);
  CHECK(logs[0]["attempt_count"] == 1);
  CHECK(logs[0]["outcome"] == "failed");
}

TEST_CASE("20 concurrent requests on an expired token share one refresh",
          "[integration][proxy][refresh]") {
  auto opts = on(test::backend::postgres, 1);
  pooler_fixture f{opts};
  f.script("acct-1", [](auto& s) { s.access_token_expired = true; });
  std::vector<std::future<test::http_result>> answers;
  for (int i = 0; i < 20; ++i) {
    answers.push_back(std::async(std::launch::async, [&f] { return f.turn(); }));
  }
  for (auto& answer : answers) {
    CHECK(answer.get().status == 200);
  }
  CHECK(f.upstream().counters("acct-1").refresh_calls == 1);
  CHECK(f.upstream().counters("acct-1").turns_served == 20);

  // The rotated refresh token was persisted before use: a new process, which only knows what
  // the database holds, refreshes again with it (the first one is dead upstream).
  f.restart_gateway();
  f.script("acct-1", [](auto& s) { s.access_token_expired = true; });
  CHECK(f.turn().status == 200);
  CHECK(f.upstream().counters("acct-1").refresh_calls == 1);
}

TEST_CASE("a revoked refresh token marks the account reauth_required and traffic moves on",
          "[integration][proxy][refresh]") {
  pooler_fixture f{on(test::backend::postgres)};
  f.script("acct-1", [](auto& s) {
    s.access_token_expired = true;
    s.refresh_revoked = true;
  });
  // Twelve sessions spread over both accounts by rendezvous hashing: acct-1 is tried by some
  // (all twelve avoiding it has probability 2^-12), and none of them fails.
  for (int i = 0; i < 12; ++i) {
    auto answer = f.turn({{"session-id", "session-" + std::to_string(i)}});
    INFO(answer.body);
    REQUIRE(answer.status == 200);
    CHECK(answer.body.find("hello from acct-2") != std::string::npos);
  }
  CHECK(f.upstream().counters("acct-1").refresh_calls == 1);
  auto accounts = test::run_gateway_command(f.env(), {"admin", "account", "list"});
  auto listed = json::parse(accounts.out);
  const auto& items = listed.is_array() ? listed : listed["items"];
  bool found = false;
  for (const auto& account : items) {
    if (account["chatgpt_account_id"] == "acct-1") {
      found = true;
      CHECK(account["status"] == "reauth_required");
    }
  }
  CHECK(found);
}

TEST_CASE("quota headers update the account's stored windows", "[integration][proxy]") {
  pooler_fixture f{on(test::backend::postgres, 1)};
  f.script("acct-1", [](auto& s) { s.primary_limit = 4; });
  REQUIRE(f.turn().status == 200);
  REQUIRE(f.turn().status == 200);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  std::string dump;
  // account_quota_windows: account, family, minutes, slot, family name (none), used percent.
  const std::string stored_window = "\tcodex\t300\tprimary\t\\N\t50\t";
  while (std::chrono::steady_clock::now() < give_up) {
    dump = f.dump_database();
    if (dump.find(stored_window) != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  CHECK(dump.find(stored_window) != std::string::npos);

  auto usage = test::http_get(f.gateway().port(), "/backend-api/wham/usage",
                              {{"authorization", "Bearer " + f.api_key()}});
  REQUIRE(usage.status == 200);
  auto document = json::parse(usage.body);
  CHECK(document["rate_limit"]["primary_window"]["used_percent"] == 50);
  CHECK(document["rate_limit"]["limit_reached"] == false);
  CHECK(document["plan_type"] == "plus");
}

TEST_CASE("a session stays on its account and is refused rather than moved",
          "[integration][proxy][sessions]") {
  pooler_fixture f{on(test::backend::postgres, 3)};
  const std::map<std::string, std::string> session{{"session-id", "sticky-session"}};
  auto before = f.turns_served();
  REQUIRE(f.turn(session).status == 200);
  const auto pinned = served_by(before, f.turns_served());
  REQUIRE_FALSE(pinned.empty());
  for (int i = 0; i < 5; ++i) {
    before = f.turns_served();
    REQUIRE(f.turn(session).status == 200);
    CHECK(served_by(before, f.turns_served()) == pinned);
  }
  f.script(pinned, [](auto& s) { s.status_5xx = 500; });
  before = f.turns_served();
  auto refused = f.turn(session);
  CHECK(refused.status == 500);
  CHECK(total(f.turns_served()) == total(before));
  // A new session is routed normally.
  REQUIRE(f.turn({{"session-id", "fresh-session"}}).status == 200);
}

TEST_CASE("models come from the accounts' synced catalog", "[integration][proxy]") {
  pooler_fixture f{on(test::backend::sqlite)};
  const std::map<std::string, std::string> auth{{"authorization", "Bearer " + f.api_key()}};
  json models;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (std::chrono::steady_clock::now() < give_up) {
    auto answer = test::http_get(f.gateway().port(), "/backend-api/codex/models", auth);
    REQUIRE(answer.status == 200);
    CHECK(answer.headers["etag"].rfind("W/\"", 0) == 0);
    models = json::parse(answer.body)["models"];
    if (models.size() == 2) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  REQUIRE(models.size() == 2);
  CHECK(models[0]["slug"] == "gpt-5.5");
  CHECK(models[1]["slug"] == "gpt-fake");
  auto unknown = f.turn({}, "hi", "gpt-unknown");
  CHECK(unknown.status == 400);
  CHECK(json::parse(unknown.body)["error"]["code"] == "invalid_model");
  CHECK(test::http_get(f.gateway().port(), "/backend-api/codex/models").status == 401);
}

TEST_CASE("bad keys and bodies get clear errors", "[integration][proxy]") {
  pooler_fixture f{on(test::backend::sqlite, 1)};
  const auto port = f.gateway().port();
  auto missing = test::http_request(port, "POST", "/backend-api/codex/responses", "{}", {});
  CHECK(missing.status == 401);
  CHECK(json::parse(missing.body)["error"]["code"] == "api_key_missing");
  auto wrong = test::http_request(port, "POST", "/backend-api/codex/responses", "{}",
                                  {{"authorization", "Bearer sk-cxp-000000000000-nope"}});
  CHECK(wrong.status == 401);
  auto not_json = test::http_request(port, "POST", "/backend-api/codex/responses", "not json",
                                     {{"authorization", "Bearer " + f.api_key()}});
  CHECK(not_json.status == 400);
  CHECK(json::parse(not_json.body)["error"]["code"] == "invalid_request");
  auto no_model = test::http_request(port, "POST", "/backend-api/codex/responses", "{}",
                                     {{"authorization", "Bearer " + f.api_key()}});
  CHECK(no_model.status == 400);
  CHECK(json::parse(no_model.body)["error"]["param"] == "model");
}

TEST_CASE("nothing secret or private reaches the database or the logs", "[integration][proxy]") {
  pooler_fixture f{on(test::backend::postgres)};
  const std::string prompt = "the secret prompt 9f8e7d";
  REQUIRE(f.turn({{"session-id", "private-session"}}, prompt).status == 200);
  f.request_logs(1);
  const auto dump = f.dump_database();
  const auto output = f.gateway().output();
  for (const auto* text : {&dump, &output}) {
    CHECK(text->find(prompt) == std::string::npos);
    CHECK(text->find(f.api_key()) == std::string::npos);
    CHECK(text->find("private-session") == std::string::npos);
    for (const auto& account : {"acct-1", "acct-2"}) {
      auto script = f.upstream().account(account);
      CHECK(text->find(script->access_token) == std::string::npos);
      CHECK(text->find(script->refresh_token) == std::string::npos);
    }
  }
}

TEST_CASE("a key's requests-per-minute cap refuses the request over it", "[integration][proxy]") {
  auto opts = on(test::backend::sqlite);
  opts.key_policy = {{"max_requests_per_minute", 2}};
  pooler_fixture f{opts};
  CHECK(f.turn().status == 200);
  CHECK(f.turn().status == 200);
  const auto upstream_before = f.upstream_turns();
  auto refused = f.turn();
  REQUIRE(refused.status == 429);
  auto body = json::parse(refused.body);
  CHECK(body["error"]["code"] == "api_key_policy_limit_exceeded");
  CHECK(body["error"]["type"] == "rate_limit_error");
  CHECK_THAT(body["error"]["message"].get<std::string>(),
             Catch::Contains("2 requests per minute") && Catch::Contains("retry after"));
  CHECK(f.upstream_turns() == upstream_before);
  auto logs = f.request_logs(3);
  CHECK(logs[0]["status_code"] == 429);
  CHECK(logs[0]["error_code"] == "api_key_policy_limit_exceeded");
}

TEST_CASE("a key's token cap counts the tokens of its answers and survives a restart",
          "[integration][proxy]") {
  auto opts = on(test::backend::postgres);
  opts.key_policy = {{"max_tokens_per_day", 20}}; // each fake answer uses 10 + 3 tokens
  pooler_fixture f{opts};
  int served = 0;
  test::http_result last;
  // Tokens are counted when an answer's report reaches the pool, just after the client has the
  // stream, so the refusal comes on the third request or, at worst, a few requests later.
  for (int i = 0; i < 40; ++i) {
    last = f.turn();
    if (last.status != 200) {
      break;
    }
    ++served;
    if (served >= 2) {
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
  }
  REQUIRE(last.status == 429);
  CHECK(json::parse(last.body)["error"]["code"] == "api_key_policy_limit_exceeded");
  CHECK(served >= 2);
  CHECK(served <= 3);

  f.restart_gateway();
  auto after_restart = f.turn();
  CHECK(after_restart.status == 429);
  CHECK_THAT(json::parse(after_restart.body)["error"]["message"].get<std::string>(),
             Catch::Contains("20 tokens per day"));
}

TEST_CASE("requests beyond a route class's bulkhead get 503 server_is_overloaded and reach no "
          "account",
          "[integration][proxy][admission]") {
  pooler_fixture::options opts;
  opts.accounts = 1;
  opts.settings = {
    R"(gateway.bulkheads={"proxy_stream":{"max_concurrency":1,"queue_limit":1,"queue_timeout_ms":300}})"};
  pooler_fixture f{opts};
  // A node applies the limits from the settings its requests see, starting with this one.
  REQUIRE(f.turn().status == 200);
  f.script("acct-1", [](auto& script) { script.delay_first_byte_ms = 1500; });
  const auto served_before = f.turns_served().at("acct-1");

  // One runs (slowly), one waits in the queue until its 300 ms are up, one finds the queue
  // full. Started in that order.
  std::vector<std::future<test::http_result>> turns;
  for (int i = 0; i < 3; ++i) {
    turns.push_back(std::async(std::launch::async, [&f] { return f.turn(); }));
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  std::vector<int> statuses;
  int overloaded = 0;
  for (auto& turn : turns) {
    auto result = turn.get();
    statuses.push_back(result.status);
    if (result.status == 503) {
      auto body = json::parse(result.body);
      CHECK(body["error"]["code"] == "server_is_overloaded");
      ++overloaded;
    }
  }
  CHECK(statuses[0] == 200);
  CHECK(overloaded == 2);
  CHECK(f.turns_served().at("acct-1") == served_before + 1);

  auto logs = f.request_logs(4);
  int rejected = 0;
  for (const auto& row : logs) {
    if (row["error_code"] == "server_is_overloaded") {
      CHECK(row["outcome"] == "rejected");
      CHECK(row["status_code"] == 503);
      ++rejected;
    }
  }
  CHECK(rejected == 2);
  const auto metrics = test::http_get(f.gateway().port(), "/metrics").body;
  CHECK(
    metrics.find(
      R"(codex_pooler_gateway_admissions_total{outcome="rejected",route_class="proxy_stream"} 1)")
    != std::string::npos);
  CHECK(
    metrics.find(
      R"(codex_pooler_gateway_admissions_total{outcome="timeout",route_class="proxy_stream"} 1)")
    != std::string::npos);
}
