#include "domain/accounts/token_refresh.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace cxp;
using namespace cxp::domain;
using json = nlohmann::json;

namespace {

const time_point now{std::chrono::seconds{1'800'000'000}};

std::string jwt_with_exp(int64_t exp) {
  // header {"alg":"none"}, payload {"exp":exp}
  auto b64 = [](const std::string& text) {
    static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    int bits = 0;
    int value = 0;
    for (unsigned char c : text) {
      value = (value << 8) | c;
      bits += 8;
      while (bits >= 6) {
        out.push_back(table[(value >> (bits - 6)) & 0x3f]);
        bits -= 6;
      }
    }
    if (bits > 0) {
      out.push_back(table[(value << (6 - bits)) & 0x3f]);
    }
    return out;
  };
  return b64(R"({"alg":"none"})") + "." + b64(json{{"exp", exp}}.dump()) + ".sig";
}

} // namespace

TEST_CASE("a refresh body is the Codex CLI's JSON", "[unit][account]") {
  auto body = json::parse(make_refresh_body(secret<std::string>{"rt-1"}));
  CHECK(body
        == json{{"client_id", "app_EMoamEEZ73f0CkXaXp7hrann"},
                {"grant_type", "refresh_token"},
                {"refresh_token", "rt-1"}});
}

TEST_CASE("a successful refresh yields the new tokens and expiry", "[unit][account]") {
  auto outcome = classify_refresh_response(
    200, json{{"access_token", "at-2"}, {"refresh_token", "rt-2"}, {"expires_in", 3600}}.dump(),
    now);
  REQUIRE(outcome.outcome == refresh_outcome::kind::refreshed);
  CHECK(outcome.access_token.expose() == "at-2");
  REQUIRE(outcome.refresh_token);
  CHECK(outcome.refresh_token->expose() == "rt-2");
  CHECK(outcome.access_token_expires_at == now + std::chrono::seconds{3600});

  auto kept =
    classify_refresh_response(200, json{{"access_token", jwt_with_exp(1'900'000'000)}}.dump(), now);
  REQUIRE(kept.outcome == refresh_outcome::kind::refreshed);
  CHECK_FALSE(kept.refresh_token);
  CHECK(kept.access_token_expires_at == time_point{std::chrono::seconds{1'900'000'000}});
}

TEST_CASE("refresh-token errors need a new sign-in; others are transient", "[unit][account]") {
  const auto reused = json{{"error",
                            {{"message", "already used"},
                             {"type", "invalid_request_error"},
                             {"code", "refresh_token_reused"}}}}
                        .dump();
  auto outcome = classify_refresh_response(401, reused, now);
  CHECK(outcome.outcome == refresh_outcome::kind::revoked);
  CHECK(outcome.error_code == "refresh_token_reused");

  auto grant = classify_refresh_response(400, R"({"error":"invalid_grant"})", now);
  CHECK(grant.outcome == refresh_outcome::kind::revoked);
  CHECK(grant.error_code == "invalid_grant");

  auto any_401 = classify_refresh_response(401, "nope", now);
  CHECK(any_401.outcome == refresh_outcome::kind::revoked);
  CHECK(any_401.error_code == "http_401");

  auto unavailable = classify_refresh_response(503, R"({"error":"invalid_grant"})", now);
  CHECK(unavailable.outcome == refresh_outcome::kind::transient);
  CHECK(unavailable.error_code == "http_503");

  auto other_400 = classify_refresh_response(400, R"({"error":{"code":"secret sk-leak"}})", now);
  CHECK(other_400.outcome == refresh_outcome::kind::transient);
  CHECK(other_400.error_code == "http_400");

  auto broken = classify_refresh_response(200, R"({"token":"x"})", now);
  CHECK(broken.outcome == refresh_outcome::kind::transient);
  CHECK(broken.error_code == "invalid_response");
}

TEST_CASE("jwt_expiry reads exp and ignores non-JWTs", "[unit][account]") {
  CHECK(jwt_expiry(jwt_with_exp(1'850'000'000)) == time_point{std::chrono::seconds{1'850'000'000}});
  CHECK_FALSE(jwt_expiry("opaque-token"));
}
