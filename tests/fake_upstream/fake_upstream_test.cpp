#include "tests/fake_upstream/fake_upstream.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/http_client.hpp"

namespace {

using cxp::test::account_script;
using cxp::test::fake_upstream;
using cxp::test::http_request;
using json = nlohmann::json;

account_script make_account(const std::string& id) {
  account_script script;
  script.account_id = id;
  script.access_token = "at-" + id;
  script.refresh_token = "rt-" + id;
  return script;
}

std::map<std::string, std::string> auth_headers(const std::string& token, const std::string& id) {
  return {{"authorization", "Bearer " + token}, {"chatgpt-account-id", id}};
}

cxp::test::http_result turn(const fake_upstream& upstream, const std::string& token,
                            const std::string& id, bool stream = true) {
  json body{{"model", "gpt-5.5"},
            {"stream", stream},
            {"store", false},
            {"input",
             json::array({{{"type", "message"}, {"role", "user"}, {"content", "secret prompt"}}})}};
  return http_request(upstream.port(), "POST", "/backend-api/codex/responses", body.dump(),
                      auth_headers(token, id));
}

/// The `data:` payloads of an SSE body, in order.
std::vector<json> sse_events(const std::string& body) {
  std::vector<json> events;
  size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    auto end = body.find('\n', pos);
    events.push_back(json::parse(body.substr(pos + 6, end - pos - 6)));
    pos = end;
  }
  return events;
}

struct started_upstream {
  fake_upstream upstream;
  started_upstream() {
    auto error = upstream.start();
    REQUIRE_FALSE(error.has_value());
    upstream.set_account(make_account("acct-1"));
    upstream.set_account(make_account("acct-2"));
  }
};

} // namespace

TEST_CASE("an SSE turn for a good account streams a valid Codex response with quota headers",
          "[integration][fake_upstream]") {
  started_upstream f;
  auto result = turn(f.upstream, "at-acct-1", "acct-1");
  REQUIRE(result.status == 200);
  CHECK(result.headers["content-type"] == "text/event-stream");
  CHECK(std::stod(result.headers["x-codex-primary-used-percent"]) > 0.0);
  CHECK(result.headers["x-codex-primary-window-minutes"] == "300");
  CHECK(std::stoll(result.headers["x-codex-primary-reset-at"]) > 0);
  CHECK(result.headers["x-codex-secondary-window-minutes"] == "10080");
  CHECK(result.headers.count("x-codex-secondary-reset-at") == 1);
  auto events = sse_events(result.body);
  REQUIRE(events.size() >= 4);
  CHECK(events.front()["type"] == "response.created");
  CHECK(events.back()["type"] == "response.completed");
  CHECK(events.back()["response"]["usage"]["total_tokens"] == 13);
  auto done = std::find_if(events.begin(), events.end(),
                           [](const json& e) { return e["type"] == "response.output_item.done"; });
  REQUIRE(done != events.end());
  CHECK((*done)["item"]["content"][0]["text"] == "hello from fake upstream");
  CHECK(f.upstream.counters("acct-1").turns_served == 1);
}

TEST_CASE("stream false answers the response as JSON", "[integration][fake_upstream]") {
  started_upstream f;
  auto result = turn(f.upstream, "at-acct-1", "acct-1", false);
  REQUIRE(result.status == 200);
  auto body = json::parse(result.body);
  CHECK(body["status"] == "completed");
  CHECK(body["output"][0]["type"] == "message");
  CHECK(result.headers.count("x-codex-primary-used-percent") == 1);
}

TEST_CASE("a wrong bearer or account id is rejected with 401", "[integration][fake_upstream]") {
  started_upstream f;
  auto wrong_token = turn(f.upstream, "at-acct-2", "acct-1");
  CHECK(wrong_token.status == 401);
  CHECK(json::parse(wrong_token.body)["error"]["code"] == "token_expired");
  CHECK(turn(f.upstream, "at-acct-1", "acct-unknown").status == 401);
  CHECK(f.upstream.counters("acct-1").turns_served == 0);
}

TEST_CASE("usage limit after N turns answers 429 usage_limit_reached with resets_at",
          "[integration][fake_upstream]") {
  started_upstream f;
  auto script = make_account("acct-1");
  script.usage_limit_after = 2;
  script.primary_reset_at = 1900000000;
  f.upstream.set_account(script);
  CHECK(turn(f.upstream, "at-acct-1", "acct-1").status == 200);
  auto second = turn(f.upstream, "at-acct-1", "acct-1");
  CHECK(second.status == 200);
  CHECK(second.headers["x-codex-primary-used-percent"] == "100");
  auto limited = turn(f.upstream, "at-acct-1", "acct-1");
  REQUIRE(limited.status == 429);
  auto error = json::parse(limited.body)["error"];
  CHECK(error["type"] == "usage_limit_reached");
  CHECK(error["resets_at"] == 1900000000);
  CHECK(error["resets_in_seconds"].get<int64_t>() > 0);
  CHECK(limited.headers["x-codex-primary-used-percent"] == "100");
  CHECK(limited.headers["x-codex-primary-reset-at"] == "1900000000");
  CHECK(turn(f.upstream, "at-acct-2", "acct-2").status == 200);
}

TEST_CASE("refresh tokens rotate, are single-use, and revive an expired access token",
          "[integration][fake_upstream]") {
  started_upstream f;
  auto script = make_account("acct-1");
  script.access_token_expired = true;
  f.upstream.set_account(script);
  CHECK(turn(f.upstream, "at-acct-1", "acct-1").status == 401);

  json body{{"client_id", "app_EMoamEEZ73f0CkXaXp7hrann"},
            {"grant_type", "refresh_token"},
            {"refresh_token", "rt-acct-1"}};
  auto refreshed = http_request(f.upstream.port(), "POST", "/oauth/token", body.dump());
  REQUIRE(refreshed.status == 200);
  auto tokens = json::parse(refreshed.body);
  auto access = tokens["access_token"].get<std::string>();
  CHECK(tokens["refresh_token"] != "rt-acct-1");
  CHECK(std::count(access.begin(), access.end(), '.') == 2);
  CHECK(turn(f.upstream, access, "acct-1").status == 200);
  CHECK(turn(f.upstream, "at-acct-1", "acct-1").status == 401);

  auto reused = http_request(f.upstream.port(), "POST", "/oauth/token", body.dump());
  CHECK(reused.status == 401);
  CHECK(json::parse(reused.body)["error"]["code"] == "refresh_token_reused");

  auto form = http_request(f.upstream.port(), "POST", "/oauth/token",
                           "grant_type=refresh_token&refresh_token="
                             + tokens["refresh_token"].get<std::string>(),
                           {{"content-type", "application/x-www-form-urlencoded"}});
  CHECK(form.status == 200);
  CHECK(f.upstream.counters("acct-1").refresh_calls == 3);
  CHECK(f.upstream.counters("acct-1").generation == 2);

  body["refresh_token"] = "rt-garbage";
  auto unknown = http_request(f.upstream.port(), "POST", "/oauth/token", body.dump());
  CHECK(unknown.status == 400);
  CHECK(json::parse(unknown.body)["error"] == "invalid_grant");

  auto revoked = make_account("acct-2");
  revoked.refresh_revoked = true;
  f.upstream.set_account(revoked);
  body["refresh_token"] = "rt-acct-2";
  auto invalidated = http_request(f.upstream.port(), "POST", "/oauth/token", body.dump());
  CHECK(invalidated.status == 401);
  CHECK(json::parse(invalidated.body)["error"]["code"] == "refresh_token_invalidated");
}

TEST_CASE("requests are recorded with a fingerprinted authorization",
          "[integration][fake_upstream]") {
  started_upstream f;
  auto headers = auth_headers("at-acct-1", "acct-1");
  headers["session-id"] = "sess-42";
  http_request(f.upstream.port(), "POST", "/backend-api/codex/responses",
               R"({"stream":true,"input":[]})", headers);
  auto recorded = f.upstream.recorded();
  REQUIRE(recorded.size() == 1);
  CHECK(recorded[0].method == "POST");
  CHECK(recorded[0].target == "/backend-api/codex/responses");
  CHECK(recorded[0].headers["session-id"] == "sess-42");
  CHECK(recorded[0].headers["chatgpt-account-id"] == "acct-1");
  CHECK(recorded[0].headers["authorization"].rfind("Bearer sha256:", 0) == 0);
  CHECK(recorded[0].headers["authorization"].find("at-acct-1") == std::string::npos);
  CHECK(recorded[0].body == R"({"stream":true,"input":[]})");

  auto over_http = cxp::test::http_get(f.upstream.port(), "/__control/requests");
  REQUIRE(over_http.status == 200);
  auto list = json::parse(over_http.body);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["headers"]["authorization"] == recorded[0].headers["authorization"]);
  CHECK(over_http.body.find("at-acct-1") == std::string::npos);
}

TEST_CASE("the control endpoint scripts accounts, models and usage answer in Codex shape",
          "[integration][fake_upstream]") {
  started_upstream f;
  json script{{"account_id", "acct-9"},
              {"access_token", "at-9"},
              {"refresh_token", "rt-9"},
              {"status_5xx", 503}};
  auto set = http_request(f.upstream.port(), "POST", "/__control/accounts", script.dump());
  REQUIRE(set.status == 200);
  auto failed = turn(f.upstream, "at-9", "acct-9");
  CHECK(failed.status == 503);
  CHECK(json::parse(failed.body)["error"]["code"] == "server_is_overloaded");

  auto models =
    cxp::test::http_get(f.upstream.port(), "/backend-api/codex/models?client_version=0.169.0",
                        auth_headers("at-acct-1", "acct-1"));
  REQUIRE(models.status == 200);
  CHECK(json::parse(models.body)["models"][0]["slug"] == "gpt-5.5");
  CHECK(json::parse(models.body)["models"][1]["slug"] == "gpt-fake");

  turn(f.upstream, "at-acct-1", "acct-1");
  auto usage = cxp::test::http_get(f.upstream.port(), "/backend-api/wham/usage",
                                   auth_headers("at-acct-1", "acct-1"));
  REQUIRE(usage.status == 200);
  auto doc = json::parse(usage.body);
  CHECK(doc["plan_type"] == "plus");
  CHECK(doc["rate_limit"]["allowed"] == true);
  CHECK(doc["rate_limit"]["primary_window"]["limit_window_seconds"] == 18000);
  CHECK(doc["rate_limit"]["primary_window"]["used_percent"].is_number_integer());
}

TEST_CASE("scripted failures: drops, response.failed first, slow first byte",
          "[integration][fake_upstream]") {
  started_upstream f;
  auto script = make_account("acct-1");
  script.close_before_headers = true;
  f.upstream.set_account(script);
  CHECK_THROWS(turn(f.upstream, "at-acct-1", "acct-1"));

  script = make_account("acct-1");
  script.abrupt_close_after_events = 2;
  f.upstream.set_account(script);
  CHECK_THROWS(turn(f.upstream, "at-acct-1", "acct-1"));

  script = make_account("acct-1");
  script.response_failed_first = true;
  f.upstream.set_account(script);
  auto failed = turn(f.upstream, "at-acct-1", "acct-1");
  REQUIRE(failed.status == 200);
  auto events = sse_events(failed.body);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["type"] == "response.failed");

  script = make_account("acct-1");
  script.delay_first_byte_ms = 200;
  f.upstream.set_account(script);
  auto start = std::chrono::steady_clock::now();
  CHECK(turn(f.upstream, "at-acct-1", "acct-1").status == 200);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds{200});
}
