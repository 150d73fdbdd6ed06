#include "domain/accounts/auth_json.hpp"

#include <chrono>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/encoding.hpp"
#include "common/errc.hpp"

using namespace cxp;
using namespace cxp::domain;
using nlohmann::json;

namespace {

constexpr int64_t access_exp = 1'900'000'000;

/// An unsigned-looking JWT: base64url header and payload plus a fake signature.
std::string make_jwt(const json& payload) {
  return to_base64url(json{{"alg", "RS256"}, {"typ", "JWT"}}.dump()) + "."
         + to_base64url(payload.dump()) + "." + to_base64url("not-a-real-signature");
}

json id_claims(bool with_account_id = true) {
  json auth{{"chatgpt_plan_type", "plus"}, {"chatgpt_user_id", "user-abc"}};
  if (with_account_id) {
    auth["chatgpt_account_id"] = "acct-from-claim";
  }
  return {
    {"email", "dev@example.com"}, {"exp", access_exp}, {std::string{openai_auth_claim}, auth}};
}

json chatgpt_file() {
  return {{"auth_mode", "chatgpt"},
          {"OPENAI_API_KEY", nullptr},
          {"tokens",
           {{"id_token", make_jwt(id_claims())},
            {"access_token", make_jwt({{"exp", access_exp}})},
            {"refresh_token", "rt-opaque-refresh"},
            {"account_id", "acct-from-field"}}},
          {"last_refresh", "2026-11-24T03:16:40.905102814Z"}};
}

std::map<std::string, std::string> fields_of(const caf::expected<parsed_auth_json>& result) {
  REQUIRE_FALSE(result);
  CHECK(to_errc(result.error()) == errc::validation_failed);
  return field_errors_of(result.error());
}

} // namespace

TEST_CASE("a ChatGPT auth.json yields tokens, account id and claims", "[unit][domain][admin]") {
  const auto parsed = parse_auth_json(chatgpt_file().dump());
  REQUIRE(parsed);
  CHECK(parsed->access_token.expose()
        == chatgpt_file()["tokens"]["access_token"].get<std::string>());
  CHECK(parsed->refresh_token.expose() == "rt-opaque-refresh");
  CHECK(parsed->chatgpt_account_id == "acct-from-field");
  CHECK(parsed->chatgpt_user_id == "user-abc");
  CHECK(parsed->email == "dev@example.com");
  CHECK(parsed->plan_type == "plus");
  REQUIRE(parsed->access_token_expires_at);
  CHECK(*parsed->access_token_expires_at == time_point{std::chrono::seconds{access_exp}});
  REQUIRE(parsed->last_refresh);
  CHECK(to_iso8601(*parsed->last_refresh) == "2026-11-24T03:16:40.905102Z");
}

TEST_CASE("the account id falls back to the id_token claim when the field is absent",
          "[unit][domain][admin]") {
  auto file = chatgpt_file();
  file["tokens"].erase("account_id");
  const auto parsed = parse_auth_json(file.dump());
  REQUIRE(parsed);
  CHECK(parsed->chatgpt_account_id == "acct-from-claim");
}

TEST_CASE("a file without account id field or claim is rejected on tokens.account_id",
          "[unit][domain][admin]") {
  auto file = chatgpt_file();
  file["tokens"].erase("account_id");
  file["tokens"]["id_token"] = make_jwt(id_claims(false));
  const auto fields = fields_of(parse_auth_json(file.dump()));
  CHECK(fields.count("tokens.account_id") == 1);
}

TEST_CASE("the email may come from the profile claim and user_id stands in for chatgpt_user_id",
          "[unit][domain][admin]") {
  auto file = chatgpt_file();
  file["tokens"]["id_token"] =
    make_jwt({{std::string{openai_profile_claim}, {{"email", "profile@example.com"}}},
              {std::string{openai_auth_claim},
               {{"chatgpt_account_id", "acct-x"}, {"user_id", "user-legacy"}}}});
  const auto parsed = parse_auth_json(file.dump());
  REQUIRE(parsed);
  CHECK(parsed->email == "profile@example.com");
  CHECK(parsed->chatgpt_user_id == "user-legacy");
  CHECK_FALSE(parsed->plan_type);
}

TEST_CASE("an API-key-only auth.json is rejected with a clear message", "[unit][domain][admin]") {
  const auto fields = fields_of(
    parse_auth_json(json{{"auth_mode", "apikey"}, {"OPENAI_API_KEY", "sk-test-login"}}.dump()));
  REQUIRE(fields.count("OPENAI_API_KEY") == 1);
  CHECK(fields.at("OPENAI_API_KEY").find("holds an API key, not a ChatGPT login")
        != std::string::npos);
  CHECK(fields.at("OPENAI_API_KEY").find("sk-test-login") == std::string::npos);

  const auto without_mode = fields_of(parse_auth_json(json{{"OPENAI_API_KEY", "sk-other"}}.dump()));
  CHECK(without_mode.count("OPENAI_API_KEY") == 1);
  const auto mode_only = fields_of(parse_auth_json(json{{"auth_mode", "apikey"}}.dump()));
  CHECK(mode_only.count("auth_mode") == 1);
}

TEST_CASE("other login modes and personal access tokens are rejected", "[unit][domain][admin]") {
  auto agent = chatgpt_file();
  agent["auth_mode"] = "agentIdentity";
  CHECK(fields_of(parse_auth_json(agent.dump())).count("auth_mode") == 1);

  auto pat = chatgpt_file();
  pat["personal_access_token"] = "pat-123";
  CHECK(fields_of(parse_auth_json(pat.dump())).count("personal_access_token") == 1);

  auto at_token = chatgpt_file();
  at_token["tokens"]["access_token"] = "at-personal";
  CHECK(fields_of(parse_auth_json(at_token.dump())).count("tokens.access_token") == 1);
}

TEST_CASE("missing tokens are reported with their field paths", "[unit][domain][admin]") {
  auto file = chatgpt_file();
  file["tokens"].erase("refresh_token");
  file["tokens"]["access_token"] = "";
  const auto fields = fields_of(parse_auth_json(file.dump()));
  CHECK(fields.count("tokens.refresh_token") == 1);
  CHECK(fields.count("tokens.access_token") == 1);
  CHECK(fields.count("tokens.id_token") == 0);

  const auto no_tokens = fields_of(parse_auth_json(json{{"auth_mode", "chatgpt"}}.dump()));
  CHECK(no_tokens.count("tokens.access_token") == 1);
  CHECK(no_tokens.count("tokens.refresh_token") == 1);
  CHECK(no_tokens.count("tokens.id_token") == 1);
}

TEST_CASE("an id_token that is not a JWT is rejected without echoing it", "[unit][domain][admin]") {
  auto file = chatgpt_file();
  file["tokens"]["id_token"] = "opaque-secret-value";
  const auto fields = fields_of(parse_auth_json(file.dump()));
  REQUIRE(fields.count("tokens.id_token") == 1);
  CHECK(fields.at("tokens.id_token").find("opaque-secret-value") == std::string::npos);
}

TEST_CASE("invalid JSON, non-objects and oversized files are rejected", "[unit][domain][admin]") {
  CHECK(fields_of(parse_auth_json("{not json")).count("auth_json") == 1);
  CHECK(fields_of(parse_auth_json("[1, 2]")).count("auth_json") == 1);
  CHECK(fields_of(parse_auth_json(std::string(max_auth_json_bytes + 1, ' '))).count("auth_json")
        == 1);
}

TEST_CASE("an opaque access token is accepted without an expiry", "[unit][domain][admin]") {
  auto file = chatgpt_file();
  file["tokens"]["access_token"] = "opaque-access";
  const auto parsed = parse_auth_json(file.dump());
  REQUIRE(parsed);
  CHECK_FALSE(parsed->access_token_expires_at);
}

TEST_CASE("JWT claims decode without checking the signature", "[unit][domain][admin]") {
  const auto claims = decode_jwt_claims(make_jwt({{"sub", "x"}}));
  REQUIRE(claims);
  CHECK((*claims)["sub"] == "x");
  CHECK_FALSE(decode_jwt_claims("only.two"));
  CHECK_FALSE(decode_jwt_claims("a.b.c.d"));
  CHECK_FALSE(decode_jwt_claims(".e30.sig"));
  CHECK_FALSE(decode_jwt_claims("e30.bm90IGpzb24.sig"));
}

TEST_CASE("a bundle splits into one item per array element or a single object",
          "[unit][domain][admin]") {
  const auto items = split_auth_json_bundle(json::array({chatgpt_file(), {{"x", 1}}}).dump());
  REQUIRE(items);
  REQUIRE(items->size() == 2);
  CHECK(items->at(0).first == "[0]");
  CHECK(parse_auth_json(items->at(0).second));
  CHECK(items->at(1).first == "[1]");

  const auto single = split_auth_json_bundle(chatgpt_file().dump(), "work.json");
  REQUIRE(single);
  REQUIRE(single->size() == 1);
  CHECK(single->front().first == "work.json");

  CHECK_FALSE(split_auth_json_bundle("[]"));
  CHECK_FALSE(split_auth_json_bundle("nope"));
  CHECK_FALSE(split_auth_json_bundle("42"));
}

TEST_CASE("an auth.json nested deeper than the JSON limit is refused before any walk",
          "[unit][domain][admin]") {
  const auto deep = std::string(20000, '[') + std::string(20000, ']');
  auto parsed = parse_auth_json(deep);
  REQUIRE_FALSE(parsed);
  CHECK(field_errors_of(parsed.error()).count("auth_json") == 1);
  auto bundle = split_auth_json_bundle(deep, "upload");
  REQUIRE_FALSE(bundle);
  CHECK(field_errors_of(bundle.error()).count("auth_json") == 1);
}
