// The pure wire side of the sign-in flows (shared/docs/codex-oauth-onboarding.md §1-2): the
// pasted callback, PKCE, the issuer's answers and the device poll's classification.
#include "domain/onboarding/oauth_protocol.hpp"

#include <catch2/catch.hpp>

#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "domain/onboarding/oauth_callback.hpp"

using namespace cxp;
using namespace cxp::domain::oauth;

namespace {

errc error_of(std::string_view pasted) {
  auto parsed = parse_callback(pasted);
  REQUIRE_FALSE(parsed);
  return to_errc(parsed.error());
}

/// A JWT whose payload is `claims` (the signature is not checked: the token comes straight from
/// the issuer over TLS).
std::string jwt(const nlohmann::json& claims) {
  return to_base64url(R"({"alg":"none"})") + "." + to_base64url(claims.dump()) + ".sig";
}

} // namespace

TEST_CASE("a pasted callback is read in every form an operator pastes", "[onboarding][oauth]") {
  const std::string query = "code=ac_123&scope=openid&state=st.ate_-1";
  for (const std::string& pasted :
       {"http://localhost:1455/auth/callback?" + query,
        "  \"http://localhost:1455/auth/callback?" + query + "\"\n",
        "<http://127.0.0.1:1457/auth/callback?" + query + ">",
        "HTTP://LOCALHOST:1455/auth/callback?" + query, "localhost:1455/auth/callback?" + query,
        "127.0.0.1:1455/auth/callback?" + query, "?" + query, query,
        "http://localhost:1455/auth/callback#" + query}) {
    INFO(pasted);
    auto parsed = parse_callback(pasted);
    REQUIRE(parsed);
    CHECK(parsed->code.expose() == "ac_123");
    CHECK(parsed->state.expose() == "st.ate_-1");
    CHECK(parsed->error.empty());
  }
  auto encoded = parse_callback("?code=a%2Fb%3D&state=s1");
  REQUIRE(encoded);
  CHECK(encoded->code.expose() == "a/b=");
}

TEST_CASE("a pasted callback from anywhere but the loopback callback is refused",
          "[onboarding][oauth]") {
  const std::string query = "?code=c&state=s";
  CHECK(error_of("https://localhost:1455/auth/callback" + query) == errc::invalid_callback_origin);
  CHECK(error_of("http://evil.example:1455/auth/callback" + query)
        == errc::invalid_callback_origin);
  CHECK(error_of("http://localhost:8080/auth/callback" + query) == errc::invalid_callback_origin);
  CHECK(error_of("http://localhost/auth/callback" + query) == errc::invalid_callback_origin);
  CHECK(error_of("http://user@localhost:1455/auth/callback" + query)
        == errc::invalid_callback_origin);
  CHECK(error_of("http://localhost:1455/other" + query) == errc::invalid_callback_origin);
  CHECK(error_of("http://localhost:1455.evil.example/auth/callback" + query)
        == errc::invalid_callback_origin);
}

TEST_CASE("a pasted callback with a bad shape gets the precise code", "[onboarding][oauth]") {
  CHECK(error_of("") == errc::invalid_callback_url);
  CHECK(error_of("   ") == errc::invalid_callback_url);
  CHECK(error_of("just some words") == errc::invalid_callback_url);
  CHECK(error_of("not/a/callback") == errc::invalid_callback_url);
  CHECK(error_of("?code=a\x01&state=s") == errc::invalid_callback_url);
  CHECK(error_of("?code=%zz&state=s") == errc::invalid_callback_url);
  CHECK(error_of("?code=a%2&state=s") == errc::invalid_callback_url);
  CHECK(error_of(std::string(8193, 'a')) == errc::invalid_callback_url);
  CHECK(error_of("http://localhost:1455/auth/callback?code=c&state=s#code=d&state=s")
        == errc::invalid_callback_url);
  CHECK(error_of("?code=c&code=d&state=s") == errc::duplicate_callback_param);
  CHECK(error_of("?code=c&state=s&state=t") == errc::duplicate_callback_param);
  CHECK(error_of("?code=c") == errc::missing_state);
  CHECK(error_of("?code=c&state=") == errc::missing_state);
  CHECK(error_of("?code=c&state=a%20b") == errc::invalid_state);
  CHECK(error_of("?code=c&state=" + std::string(129, 's')) == errc::invalid_state);
  CHECK(error_of("?scope=openid&state=s") == errc::missing_callback_result);
  CHECK(error_of("?code=c&error=access_denied&state=s") == errc::invalid_callback_url);
}

TEST_CASE("a callback carrying the issuer's error parses, its text cleaned",
          "[onboarding][oauth]") {
  auto denied = parse_callback("?error=access_denied&error_description=User+said+no&state=s");
  REQUIRE(denied);
  CHECK(denied->error == "access_denied");
  CHECK(denied->error_description == "User said no");
  CHECK(denied->code.expose().empty());

  auto odd = parse_callback("?error=%3Cscript%3E&error_description=" + std::string(300, 'x')
                            + "%0A&state=s");
  REQUIRE(odd);
  CHECK(odd->error == "invalid_error");
  CHECK(odd->error_description == std::string(200, 'x'));
  auto control = parse_callback("?error=e&error_description=a%0Ab%7Fc&state=s");
  REQUIRE(control);
  CHECK(control->error_description == "abc");
}

TEST_CASE("PKCE: the S256 challenge, fresh pairs and the CLI's authorize URL",
          "[onboarding][oauth]") {
  // Expected value from Python: urlsafe_b64encode(sha256(verifier).digest()).rstrip("=").
  CHECK(challenge_of("dBjftJeZ4CVP-mJ92K9vYTy8y2qe6nfT8Z5fX6dTvWk")
        == "v4dvqQ4XyqZXwA8V0dqCqYmfSDwyKg70sTfq2yVEEQw");
  auto one = make_pkce();
  auto two = make_pkce();
  CHECK(one.verifier.expose().size() == 86); // 64 bytes, base64url without padding
  CHECK(one.state.expose().size() == 43);    // 32 bytes
  CHECK(one.challenge == challenge_of(one.verifier.expose()));
  CHECK(one.verifier.expose() != two.verifier.expose());
  CHECK(one.state.expose() != two.state.expose());

  const auto url = authorize_url("https://issuer.example", one.challenge, one.state.expose());
  CHECK(url.starts_with("https://issuer.example/oauth/authorize?response_type=code&client_id="
                        "app_EMoamEEZ73f0CkXaXp7hrann&redirect_uri=http%3A%2F%2Flocalhost%3A1455%"
                        "2Fauth%2Fcallback&scope=openid"));
  CHECK(url.find("&code_challenge=" + one.challenge + "&code_challenge_method=S256")
        != std::string::npos);
  CHECK(url.find("&state=" + one.state.expose()) != std::string::npos);
  CHECK(url.find("&originator=codex_cli_rs") != std::string::npos);
  CHECK(url.find("&prompt=login") != std::string::npos);
  CHECK(code_exchange_body("c/1", browser_redirect_uri, "v")
        == "grant_type=authorization_code&code=c%2F1&redirect_uri=http%3A%2F%2Flocalhost%3A1455%"
           "2Fauth%2Fcallback&client_id=app_EMoamEEZ73f0CkXaXp7hrann&code_verifier=v");
}

TEST_CASE("the token answer yields the tokens and the id_token's claims", "[onboarding][oauth]") {
  const auto id_token = jwt({{"email", "who@example.com"},
                             {"https://api.openai.com/auth",
                              {{"chatgpt_account_id", "acct-9"},
                               {"chatgpt_user_id", "user-9"},
                               {"chatgpt_plan_type", "pro"}}}});
  nlohmann::json body{{"id_token", id_token}, {"access_token", "at"}, {"refresh_token", "rt"}};
  auto account = parse_token_answer(body.dump());
  REQUIRE(account);
  CHECK(account->chatgpt_account_id == "acct-9");
  CHECK(account->chatgpt_user_id == "user-9");
  CHECK(account->plan_type == "pro");
  CHECK(account->email == "who@example.com");
  CHECK(account->refresh_token.expose() == "rt");

  auto profile_email = parse_token_answer(nlohmann::json{
    {"id_token", jwt({{"https://api.openai.com/profile", {{"email", "p@example.com"}}}})},
    {"access_token", "at"},
    {"refresh_token", "rt"}}.dump());
  REQUIRE(profile_email);
  CHECK(profile_email->email == "p@example.com");
  CHECK(profile_email->chatgpt_account_id.empty());

  body.erase("refresh_token");
  CHECK(to_errc(parse_token_answer(body.dump()).error()) == errc::token_exchange_failed);
  CHECK(
    to_errc(parse_token_answer(R"({"id_token":"not-a-jwt","access_token":"a","refresh_token":"r"})")
              .error())
    == errc::token_exchange_failed);
  CHECK(to_errc(parse_token_answer("<html>").error()) == errc::token_exchange_failed);
}

TEST_CASE("error codes are read from the issuer's three error shapes", "[onboarding][oauth]") {
  CHECK(error_code_of(R"({"error":"invalid_grant","error_description":"x"})") == "invalid_grant");
  CHECK(error_code_of(R"({"error":{"code":"token_exchange_user_error","message":"m"}})")
        == "token_exchange_user_error");
  CHECK(error_code_of(R"({"code":"deviceauth_expired"})") == "deviceauth_expired");
  CHECK(error_code_of("Bad Gateway").empty());
  CHECK(error_code_of(R"({"error":")" + std::string(5000, 'x') + R"("})").empty());
}

TEST_CASE("the user-code answer: interval spellings, the usercode key, missing fields",
          "[onboarding][oauth]") {
  auto text = parse_device_code(
    R"({"device_auth_id":"d1","user_code":"ABCD-EFGH","interval":"7","expires_at":"2026-12-05T13:00:00Z"})");
  REQUIRE(text);
  CHECK(text->device_auth_id.expose() == "d1");
  CHECK(text->user_code.expose() == "ABCD-EFGH");
  CHECK(text->interval == std::chrono::seconds{7});
  CHECK(text->expires_at.has_value());

  auto number = parse_device_code(R"({"device_auth_id":"d1","usercode":"WXYZ-1234","interval":3})");
  REQUIRE(number);
  CHECK(number->user_code.expose() == "WXYZ-1234");
  CHECK(number->interval == std::chrono::seconds{3});

  auto defaults = parse_device_code(R"({"device_auth_id":"d","user_code":"c","interval":"0"})");
  REQUIRE(defaults);
  CHECK(defaults->interval == default_poll_interval);
  CHECK(parse_device_code(R"({"device_auth_id":"d","user_code":"c","interval":3600})")->interval
        == max_poll_interval);

  CHECK(to_errc(parse_device_code(R"({"user_code":"c"})").error()) == errc::codex_auth_transient);
  CHECK(to_errc(parse_device_code(R"({"device_auth_id":"d"})").error())
        == errc::codex_auth_transient);
  CHECK(to_errc(parse_device_code(R"({"device_auth_id":)").error()) == errc::codex_auth_transient);
}

TEST_CASE("a device poll's answer is classified as the CLI does", "[onboarding][oauth]") {
  using enum poll_outcome;
  CHECK(classify_poll(403, "").outcome == pending);
  CHECK(classify_poll(404, R"({"detail":"Not Found"})").outcome == pending);
  CHECK(classify_poll(400, R"({"error":"authorization_pending"})").outcome == pending);
  CHECK(classify_poll(400, R"({"error":{"code":"deviceauth_authorization_pending"}})").outcome
        == pending);
  CHECK(classify_poll(400, R"({"error":"slow_down"})").outcome == slow_down);
  CHECK(classify_poll(400, R"({"error":"expired_token"})").outcome == expired);
  CHECK(classify_poll(410, R"({"code":"deviceauth_expired"})").outcome == expired);
  CHECK(classify_poll(400, R"({"error":"access_denied"})").outcome == denied);
  // A 403 that names a terminal error is that error, not pending.
  CHECK(classify_poll(403, R"({"error":"access_denied"})").outcome == denied);
  CHECK(classify_poll(500, "oops").outcome == failed);
  CHECK(classify_poll(400, R"({"error":"invalid_request"})").outcome == failed);

  auto approval =
    classify_poll(200, R"({"authorization_code":"ac","code_challenge":"x","code_verifier":"cv"})");
  CHECK(approval.outcome == approved);
  CHECK(approval.authorization_code.expose() == "ac");
  CHECK(approval.code_verifier.expose() == "cv");
  CHECK(classify_poll(200, R"({"authorization_code":"ac"})").outcome == failed);
  CHECK(classify_poll(200, "not json").outcome == failed);
}

TEST_CASE("the device flow's URLs derive from the issuer", "[onboarding][oauth]") {
  CHECK(device_redirect_uri("https://auth.openai.com")
        == "https://auth.openai.com/deviceauth/callback");
  CHECK(verification_url("http://127.0.0.1:9") == "http://127.0.0.1:9/codex/device");
  CHECK(nlohmann::json::parse(device_poll_body("d", "c"))
        == nlohmann::json{{"device_auth_id", "d"}, {"user_code", "c"}});
  CHECK(nlohmann::json::parse(usercode_body())["client_id"] == client_id);
}
