// The pooled quota a Codex client is shown (README "Pooled quota"): the x-codex-* headers of a
// turn, its codex.rate_limits event (SSE and websocket), and the usage documents, compared with
// each other and with numbers computed by hand for a scripted pool.

#include <chrono>
#include <cmath>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/eventually.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/pooler_fixture.hpp"
#include "tests/support/ws_client.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::pooler_fixture;

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// The scripted pool. acct-1 is used up in its 5-hour window (every turn answers 429
/// usage_limit_reached; its usage document says 100 %) and has used nothing of its week;
/// acct-2 serves, with 4 turns per 5 hours and 10 per week. Resets are fixed, so every
/// expected number below is computed by hand from the README's definition.
struct scripted_pool {
  int64_t t = unix_now();
  int64_t acct1_5h_reset = t + 1'800;
  int64_t acct1_week_reset = t + 500'000;
  int64_t acct2_5h_reset = t + 3'600;
  int64_t acct2_week_reset = t + 400'000;

  pooler_fixture::options options() const {
    pooler_fixture::options opts;
    opts.accounts = 2;
    opts.script = [this](int index, test::account_script& s) {
      s.secondary_limit = 10;
      if (index == 0) {
        s.usage_limit_after = 0;
        s.primary_reset_at = acct1_5h_reset;
        s.secondary_reset_at = acct1_week_reset;
      } else {
        s.primary_limit = 4;
        s.primary_reset_at = acct2_5h_reset;
        s.secondary_reset_at = acct2_week_reset;
      }
    };
    return opts;
  }
};

/// What the client is expected to see: used percents (as the headers print them) and resets.
struct expected_quota {
  std::string primary_used;
  int64_t primary_reset = 0;
  std::string secondary_used;
  int64_t secondary_reset = 0;
  bool limit_reached = false;
};

std::vector<json> sse_events(const std::string& body) {
  std::vector<json> events;
  std::istringstream lines{body};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("data: ", 0) == 0) {
      events.push_back(json::parse(line.substr(6)));
    }
  }
  return events;
}

std::vector<json> of_type(const std::vector<json>& events, const std::string& type) {
  std::vector<json> out;
  for (const auto& event : events) {
    if (event.value("type", "") == type) {
      out.push_back(event);
    }
  }
  return out;
}

double percent(const std::string& text) {
  return std::stod(text);
}

void check_headers(const std::map<std::string, std::string>& headers,
                   const expected_quota& expected) {
  CHECK(headers.at("x-codex-primary-used-percent") == expected.primary_used);
  CHECK(headers.at("x-codex-primary-window-minutes") == "300");
  CHECK(headers.at("x-codex-primary-reset-at") == std::to_string(expected.primary_reset));
  CHECK(headers.at("x-codex-secondary-used-percent") == expected.secondary_used);
  CHECK(headers.at("x-codex-secondary-window-minutes") == "10080");
  CHECK(headers.at("x-codex-secondary-reset-at") == std::to_string(expected.secondary_reset));
  // The answering account's own headers are never relayed as they are.
  CHECK_FALSE(headers.count("x-codex-plan-type"));
  CHECK_FALSE(headers.count("x-codex-credits-has-credits"));
}

void check_event(const json& event, const expected_quota& expected) {
  INFO(event.dump());
  const auto& limits = event["rate_limits"];
  CHECK(limits["primary"]["used_percent"].get<double>() == Approx(percent(expected.primary_used)));
  CHECK(limits["primary"]["window_minutes"] == 300);
  CHECK(limits["primary"]["reset_at"] == expected.primary_reset);
  CHECK(limits["secondary"]["used_percent"].get<double>()
        == Approx(percent(expected.secondary_used)));
  CHECK(limits["secondary"]["window_minutes"] == 10080);
  CHECK(limits["secondary"]["reset_at"] == expected.secondary_reset);
  CHECK(limits["limit_reached"] == expected.limit_reached);
  CHECK(limits["allowed"] == !expected.limit_reached);
}

/// Whether `document` (the usage shape) says `expected` (integer percents, rounded down).
bool document_says(const json& document, const expected_quota& expected) {
  const auto& limit = document["rate_limit"];
  return limit["primary_window"].is_object() && limit["secondary_window"].is_object()
         && limit["primary_window"]["used_percent"]
              == static_cast<int>(std::floor(percent(expected.primary_used)))
         && limit["primary_window"]["limit_window_seconds"] == 18'000
         && limit["primary_window"]["reset_at"] == expected.primary_reset
         && limit["secondary_window"]["used_percent"]
              == static_cast<int>(std::floor(percent(expected.secondary_used)))
         && limit["secondary_window"]["limit_window_seconds"] == 604'800
         && limit["secondary_window"]["reset_at"] == expected.secondary_reset
         && limit["limit_reached"] == expected.limit_reached
         && limit["allowed"] == !expected.limit_reached;
}

json get_json(uint16_t port, const std::string& path, const std::string& key) {
  auto answer = test::http_get(port, path, {{"authorization", "Bearer " + key}});
  REQUIRE(answer.status == 200);
  return json::parse(answer.body);
}

/// Every usage document of the key (the three Codex paths and /v1/usage's `pool_quota`)
/// eventually says `expected` (the pool merges the turn's evidence when its report arrives).
void check_documents(uint16_t port, const std::string& key, const expected_quota& expected) {
  for (const auto* path : {"/backend-api/wham/usage", "/wham/usage", "/api/codex/usage"}) {
    INFO(path);
    json last;
    CHECK(test::eventually([&] {
      last = get_json(port, path, key);
      return document_says(last, expected);
    }));
    INFO(last.dump());
    CHECK(last["plan_type"] == "plus");
  }
  json v1;
  CHECK(test::eventually([&] {
    v1 = get_json(port, "/v1/usage", key);
    return document_says(v1["pool_quota"], expected);
  }));
  INFO(v1.dump());
  CHECK(v1["upstream_limits"].size() == 2);
}

} // namespace

TEST_CASE("headers, rate-limit events and usage documents show the pooled quota",
          "[integration][pooled_quota]") {
  const bool websocket = GENERATE(false, true);
  INFO((websocket ? "websocket" : "http"));
  const scripted_pool pool;
  pooler_fixture f{pool.options()};
  const auto port = f.gateway().port();

  // Before any turn: acct-1's usage probe (5 h at 100 %) and acct-2's (nothing used) are in:
  // 5 h = (100 + 0) / 2 = 50 %, reset by acct-2, the account carrying the load.
  const expected_quota start{"50", pool.acct2_5h_reset, "0", pool.acct2_week_reset, false};
  REQUIRE(test::eventually(
    [&] { return document_says(get_json(port, "/backend-api/wham/usage", f.api_key()), start); }));

  // One turn, served by acct-2 (acct-1 is exhausted): acct-2 is at 1/4 of its 5 hours and
  // 1/10 of its week. 5 h = (100 + 25) / 2 = 62.5 %; week = (0 + 10) / 2 = 5 %; both reset
  // when acct-2's windows do (acct-1 is blocked, so it carries no load).
  const expected_quota after_turn{"62.5", pool.acct2_5h_reset, "5", pool.acct2_week_reset, false};
  if (websocket) {
    test::ws_client client{port, f.api_key(), {{"session-id", "pooled-quota-ws"}}};
    REQUIRE(client.status == 101);
    client.send(test::ws_create_frame("say hi"));
    auto frames = client.read_turn();
    REQUIRE(test::type_of(frames.back()) == "response.completed");
    const auto limits = of_type(frames, "codex.rate_limits");
    REQUIRE(limits.size() == 1); // the pool's, never the account's own
    CHECK(test::type_of(frames[0]) == "response.created");
    CHECK(test::type_of(frames[1]) == "codex.rate_limits");
    check_event(limits.front(), after_turn);
  } else {
    auto turn = f.turn();
    REQUIRE(turn.status == 200);
    check_headers(turn.headers, after_turn);
    const auto events = sse_events(turn.body);
    const auto limits = of_type(events, "codex.rate_limits");
    REQUIRE(limits.size() == 1);
    CHECK(events[0]["type"] == "response.created");
    CHECK(events[1]["type"] == "codex.rate_limits");
    check_event(limits.front(), after_turn);
    CHECK(events.back()["type"] == "response.completed");
  }
  check_documents(port, f.api_key(), after_turn);

  // acct-2 runs out too (its script replaced: counters back to 0, every turn a usage limit).
  // 5 h = (100 + 100) / 2 = 100 %, resetting when the first account comes back (acct-1);
  // week = (0 + 0) / 2 = 0 %, no account carries load: the earliest reset known (acct-2's).
  f.script("acct-2", [](auto& s) { s.usage_limit_after = 0; });
  const expected_quota exhausted{"100", pool.acct1_5h_reset, "0", pool.acct2_week_reset, true};
  if (websocket) {
    test::ws_client client{port, f.api_key(), {{"session-id", "pooled-quota-ws-2"}}};
    REQUIRE(client.status == 101);
    client.send(test::ws_create_frame("say hi again"));
    auto frames = client.read_turn();
    REQUIRE_FALSE(frames.empty());
    const auto& error = frames.back();
    INFO(error.dump());
    REQUIRE(test::type_of(error) == "error");
    CHECK(error["status"] == 429);
    CHECK(error["error"]["type"] == "usage_limit_reached");
    const auto limits = of_type(frames, "codex.rate_limits");
    REQUIRE(limits.size() == 1);
    check_event(limits.front(), exhausted);
    if (error.contains("headers")) {
      std::map<std::string, std::string> headers;
      for (const auto& [name, value] : error["headers"].items()) {
        headers[name] = value.get<std::string>();
      }
      check_headers(headers, exhausted);
    }
  } else {
    auto turn = f.turn();
    REQUIRE(turn.status == 429);
    const auto body = json::parse(turn.body);
    CHECK(body["error"]["type"] == "usage_limit_reached");
    CHECK(body["error"]["resets_at"] == pool.acct1_5h_reset);
    check_headers(turn.headers, exhausted);
    CHECK(turn.headers.at("x-codex-active-limit") == "codex");
  }
  check_documents(port, f.api_key(), exhausted);

  // Now the pool answers the usage limit itself, with the same numbers on the 429.
  auto denied = f.turn();
  REQUIRE(denied.status == 429);
  check_headers(denied.headers, exhausted);
}

TEST_CASE("every node of a cluster answers the same pooled quota",
          "[integration][pooled_quota][cluster]") {
  const scripted_pool pool;
  auto opts = pool.options();
  opts.start_gateway = false;
  pooler_fixture f{opts};
  // Two nodes sharing only the database (as compose starts them): what one learns from its
  // traffic reaches the other through the stored quota evidence.
  auto env_for = [&](const std::string& name) {
    auto env = f.env();
    env["CODEX_POOLER_NODE_NAME"] = name;
    return env;
  };
  test::gateway_process a{env_for("node-a")};
  test::gateway_process b{env_for("node-b")};

  const expected_quota after_turn{"62.5", pool.acct2_5h_reset, "5", pool.acct2_week_reset, false};
  REQUIRE(test::eventually([&] {
    return document_says(get_json(a.port(), "/backend-api/wham/usage", f.api_key()),
                         {"50", pool.acct2_5h_reset, "0", pool.acct2_week_reset, false});
  }));
  auto turn = f.turn_via(a.port());
  REQUIRE(turn.status == 200);
  check_headers(turn.headers, after_turn);
  check_documents(a.port(), f.api_key(), after_turn);
  // Node B served nothing: it reads node A's evidence back from the database.
  check_documents(b.port(), f.api_key(), after_turn);
}

TEST_CASE("a key's tighter token cap is the window its client is shown",
          "[integration][pooled_quota]") {
  pooler_fixture::options opts;
  opts.accounts = 2;
  opts.key_policy = {{"max_tokens_per_day", 20}}; // each fake turn uses 10 + 3 tokens
  pooler_fixture f{opts};
  const auto port = f.gateway().port();
  const int64_t day = 86'400;
  const int64_t midnight = (unix_now() / day + 1) * day; // the next UTC day starts the cap anew

  auto daily_window = [&](int used) {
    return test::eventually([&] {
      const auto window =
        get_json(port, "/wham/usage", f.api_key())["rate_limit"]["primary_window"];
      return window.is_object() && window["limit_window_seconds"] == day
             && window["used_percent"] == used && window["reset_at"] == midnight;
    });
  };
  REQUIRE(f.turn().status == 200);
  // 13 of 20 tokens: 65 % of the day, more than the pool's 5-hour share: the primary slot.
  REQUIRE(daily_window(65));
  auto second = f.turn();
  REQUIRE(second.status == 200);
  CHECK(second.headers.at("x-codex-primary-window-minutes") == "1440");
  CHECK(second.headers.at("x-codex-primary-used-percent") == "65");
  CHECK(second.headers.at("x-codex-primary-reset-at") == std::to_string(midnight));
  // 26 of 20: the cap is reached; the key's 429 says so in the headers too.
  REQUIRE(daily_window(100));
  CHECK(get_json(port, "/wham/usage", f.api_key())["rate_limit"]["limit_reached"] == true);
  auto refused = f.turn();
  REQUIRE(refused.status == 429);
  CHECK(json::parse(refused.body)["error"]["code"] == "api_key_policy_limit_exceeded");
  CHECK(refused.headers.at("x-codex-primary-used-percent") == "100");
  CHECK(refused.headers.at("x-codex-primary-window-minutes") == "1440");
  CHECK(refused.headers.at("x-codex-primary-reset-at") == std::to_string(midnight));
}
