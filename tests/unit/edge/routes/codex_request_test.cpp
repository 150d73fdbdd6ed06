#include "edge/routes/codex/codex_request.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace cxp;
using namespace cxp::edge;
using json = nlohmann::json;

namespace {

http_request request_with(std::map<std::string, std::string> headers) {
  http_request request{http::verb::post, "/backend-api/codex/responses", 11};
  for (const auto& [name, value] : headers) {
    request.set(name, value);
  }
  return request;
}

std::map<std::string, std::string> as_map(const actors::header_list& headers) {
  return {headers.begin(), headers.end()};
}

} // namespace

TEST_CASE("the session key comes from headers, then the window id, then the cache key",
          "[unit][edge][codex]") {
  const json body = {{"prompt_cache_key", "cache-1"}};
  CHECK(session_key_of(request_with({{"session-id", "s1"}, {"thread-id", "t1"}}), body) == "s1");
  CHECK(session_key_of(request_with({{"session_id", "s2"}}), body) == "s2");
  CHECK(session_key_of(request_with({{"x-session-id", "s3"}}), body) == "s3");
  CHECK(session_key_of(request_with({{"thread-id", "t4"}}), body) == "t4");
  CHECK(session_key_of(request_with({{"x-codex-window-id", "w5:2"}}), body) == "w5");
  CHECK(session_key_of(request_with({}), body) == "cache-1");
  CHECK(session_key_of(request_with({}), json::object()).empty());
}

TEST_CASE("key policy enforces and restricts models and efforts", "[unit][edge][codex]") {
  domain::api_key_policy policy;
  json body = {{"model", "gpt-5.5"}, {"reasoning", {{"effort", "high"}}}};
  CHECK(*apply_key_policy(body, policy) == false);

  policy.enforced_model = "gpt-fake";
  REQUIRE(*apply_key_policy(body, policy));
  CHECK(body["model"] == "gpt-fake");

  domain::api_key_policy allow_list;
  allow_list.allowed_models = std::vector<std::string>{"GPT-5.5"};
  json allowed = {{"model", "gpt-5.5"}};
  CHECK(apply_key_policy(allowed, allow_list));
  json denied = {{"model", "gpt-other"}};
  auto refused = apply_key_policy(denied, allow_list);
  REQUIRE_FALSE(refused);
  CHECK(to_errc(refused.error()) == errc::model_not_allowed);

  domain::api_key_policy capped;
  capped.max_reasoning_effort = "medium";
  json too_high = {{"model", "m"}, {"reasoning", {{"effort", "xhigh"}}}};
  auto capped_out = apply_key_policy(too_high, capped);
  REQUIRE_FALSE(capped_out);
  CHECK(to_errc(capped_out.error()) == errc::reasoning_effort_not_allowed);
  json low = {{"model", "m"}, {"reasoning", {{"effort", "low"}}}};
  CHECK(apply_key_policy(low, capped));

  domain::api_key_policy enforced;
  enforced.enforced_reasoning_effort = "low";
  json any = {{"model", "m"}};
  REQUIRE(*apply_key_policy(any, enforced));
  CHECK(any["reasoning"]["effort"] == "low");
}

TEST_CASE("only allowlisted headers go upstream, with the account's credentials",
          "[unit][edge][codex]") {
  auto client =
    request_with({{"authorization", "Bearer sk-cxp-pool-key"},
                  {"cookie", "a=b"},
                  {"originator", "codex_exec"},
                  {"user-agent", "codex_exec/0.169.0"},
                  {"session-id", "s"},
                  {"thread-id", "t"},
                  {"x-client-request-id", "r"},
                  {"x-codex-window-id", "s:0"},
                  {"x-codex-turn-state", "ts"},
                  {"x-codex-turn-metadata", R"({"turn_id":"1","code_mode_tool_names":[]})"},
                  {"x-custom", "dropped"}});
  auto headers = as_map(upstream_headers_for(client, "at-account", "acct-1", true));
  CHECK(headers["authorization"] == "Bearer at-account");
  CHECK(headers["chatgpt-account-id"] == "acct-1");
  CHECK(headers["accept"] == "text/event-stream");
  CHECK(headers["originator"] == "codex_exec");
  CHECK(headers["user-agent"] == "codex_exec/0.169.0");
  for (const auto* name : {"session-id", "thread-id", "x-client-request-id", "x-codex-window-id",
                           "x-codex-turn-state"}) {
    CHECK(headers.count(name) == 1);
  }
  CHECK(json::parse(headers["x-codex-turn-metadata"]) == json{{"turn_id", "1"}});
  CHECK(headers.count("cookie") == 0);
  CHECK(headers.count("x-custom") == 0);

  auto foreign =
    as_map(upstream_headers_for(request_with({{"user-agent", "curl/8"}}), "at", "a", false));
  CHECK(foreign["originator"] == "codex_cli_rs");
  CHECK(foreign["user-agent"].rfind("codex_cli_rs/", 0) == 0);
  CHECK(foreign["accept"] == "application/json");
}

TEST_CASE("quota headers are consumed, turn state and models relayed", "[unit][edge][codex]") {
  CHECK(is_relayed_response_header("x-codex-turn-state"));
  CHECK(is_relayed_response_header("content-type"));
  CHECK(is_relayed_response_header("openai-model"));
  CHECK_FALSE(is_relayed_response_header("x-codex-primary-used-percent"));
  CHECK_FALSE(is_relayed_response_header("set-cookie"));
}

TEST_CASE("a body the key's policy changes is rewritten whole, its bulk kept",
          "[unit][edge][codex]") {
  domain::api_key_policy policy;
  policy.enforced_model = "gpt-5.5";
  const std::string text =
    R"({"model":"other","input":[{"role":"user","content":"hi"}],)"
    R"("instructions":"be brief","tools":[{"type":"function"}],"store":null})";
  json outline;
  REQUIRE_FALSE(parse_untrusted_outline(text, outline, bulky_body_fields));
  CHECK(outline["input"] == json::array());
  auto rewritten = json::parse(rewritten_body(text, policy));
  CHECK(rewritten["model"] == "gpt-5.5");
  CHECK(rewritten["input"] == json::parse(R"([{"role":"user","content":"hi"}])"));
  CHECK(rewritten["instructions"] == "be brief");
  CHECK(rewritten["tools"].size() == 1);
  CHECK_FALSE(rewritten.contains("store")); // a null declared field is dropped, as checked
}
