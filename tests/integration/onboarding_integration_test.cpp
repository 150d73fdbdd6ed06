// Adding upstream accounts by sign-in against the fake OAuth issuer (tests/fake_upstream/
// fake_oauth.*): browser PKCE paste-back, device code, relink and hosted invites, through a real
// gateway process, its admin API and CLI. Each test ends by grepping the gateway's log and the
// whole database for the secrets the fake minted in it.
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "tests/integration/onboarding_rig.hpp"

using namespace onboarding_test;
using nlohmann::json;
using namespace cxp;

TEST_CASE("browser sign-in: paste-back adds an account once; every refusal has its code",
          "[integration][onboarding]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  onboarding_rig rig{kind};
  const auto pool = rig.fixture.pool_id();

  auto missing = rig.owner.send("POST", "/admin/api/upstreams/oauth/browser", json::object());
  CHECK(missing.status == 422);
  CHECK(json::parse(missing.body)["error"]["fields"].contains("pool_id"));

  auto started = rig.start_browser({{"pool_id", pool}});
  const auto url = started["authorize_url"].get<std::string>();
  CHECK(url.rfind(rig.issuer()
                    + "/oauth/authorize?response_type=code&client_id=app_EMoamEEZ73f0CkXaXp7hrann",
                  0)
        == 0);
  CHECK(url.find("redirect_uri=http%3A%2F%2Flocalhost%3A1455%2Fauth%2Fcallback")
        != std::string::npos);
  CHECK(url.find("code_challenge_method=S256") != std::string::npos);
  CHECK(url.find("originator=codex_cli_rs") != std::string::npos);
  CHECK(started["flow"]["status"] == "pending");

  // Lenient about the form: quotes, spaces and no scheme.
  auto callback = rig.sign_in(url);
  REQUIRE(callback.rfind("http://localhost:1455/auth/callback?code=ac_", 0) == 0);
  auto done = rig.paste("  \"" + callback.substr(std::string{"http://"}.size()) + "\"  ");
  REQUIRE(done.status == 200);
  auto flow = json::parse(done.body)["flow"];
  CHECK(flow["status"] == "completed");
  const auto account_id = flow["account_id"].get<std::string>();
  auto account = rig.account(account_id);
  CHECK(account["chatgpt_account_id"] == "acct-oauth");
  CHECK(account["email"] == "owner@example.com");
  CHECK(account["onboarding_method"] == "browser_oauth");
  CHECK(account["status"] == "active");
  CHECK(account["pool_ids"] == json::array({pool}));

  // State replay: the same URL again is refused, and no second exchange happened.
  const auto exchanges = rig.fake_state()["exchanges"].get<int>();
  auto replay = rig.paste(callback);
  CHECK(replay.status == 409);
  CHECK(error_code(replay) == "flow_not_pending");
  CHECK(rig.fake_state()["exchanges"] == exchanges);

  // Strict about the content.
  for (const auto& [pasted, code] : std::vector<std::pair<std::string, std::string>>{
         {"not a callback", "invalid_callback_url"},
         {"https://example.com/something", "invalid_callback_origin"},
         {"http://evil.example:1455/auth/callback?code=a&state=b", "invalid_callback_origin"},
         {"http://localhost:9999/auth/callback?code=a&state=b", "invalid_callback_origin"},
         {"http://localhost:1455/other?code=a&state=b", "invalid_callback_origin"},
         {"?code=a&code=b&state=c", "duplicate_callback_param"},
         {"code=a", "missing_state"},
         {"?state=abc", "missing_callback_result"},
         {"?code=a&state=bad%20state", "invalid_state"},
         {"?code=a&state=unknownstate", "invalid_state"}}) {
    auto refused = rig.paste(pasted);
    CHECK(refused.status == 400);
    CHECK(error_code(refused) == code);
  }

  // A newer flow supersedes the older one; the older one's URL is stale.
  auto first = rig.start_browser({{"pool_id", pool}});
  auto second = rig.start_browser({{"pool_id", pool}});
  auto stale = rig.paste(rig.sign_in(first["authorize_url"]));
  CHECK(stale.status == 409);
  CHECK(error_code(stale) == "stale_flow");
  auto again = rig.paste(rig.sign_in(second["authorize_url"]));
  REQUIRE(again.status == 200);
  CHECK(json::parse(again.body)["flow"]["account_id"] == account_id); // updated, not duplicated

  // Expiry: a flow past its ten minutes is refused and marked expired.
  auto old = rig.start_browser({{"pool_id", pool}});
  rig.sql("UPDATE upstream_onboarding_flows SET expires_at = '2000-01-01T00:00:00.000000Z' "
          "WHERE id = '"
          + old["flow"]["id"].get<std::string>() + "'");
  auto expired = rig.paste(rig.sign_in(old["authorize_url"]));
  CHECK(expired.status == 400);
  CHECK(error_code(expired) == "expired_flow");
  CHECK(rig.flow(old["flow"]["id"])["status"] == "expired");

  // The issuer refuses: provider_denied, and each failed exchange is token_exchange_failed.
  rig.configure({{"authorize_entitlement_error", true}});
  auto denied = rig.paste(rig.sign_in(rig.start_browser({{"pool_id", pool}})["authorize_url"]));
  CHECK(denied.status == 400);
  CHECK(error_code(denied) == "provider_denied");
  rig.configure({{"authorize_entitlement_error", false}});
  for (const auto& knob :
       std::vector<json>{{{"token_failure", "invalid_grant"}},
                         {{"token_failure", "token_exchange_user_error"}},
                         {{"token_failure", "non_json_502"}},
                         {{"token_failure", "status_500"}},
                         {{"token_failure", ""}, {"omit_refresh_token", true}},
                         {{"omit_refresh_token", false}, {"omit_id_token", true}}}) {
    rig.configure(knob);
    auto failed = rig.paste(rig.sign_in(rig.start_browser({{"pool_id", pool}})["authorize_url"]));
    CHECK(failed.status == 502);
    CHECK(error_code(failed) == "token_exchange_failed");
  }
  rig.configure({{"omit_id_token", false}, {"identity", {{"omit_account_id", true}}}});
  auto anonymous = rig.paste(rig.sign_in(rig.start_browser({{"pool_id", pool}})["authorize_url"]));
  CHECK(anonymous.status == 400);
  CHECK(error_code(anonymous) == "codex_account_identity_missing");
  rig.configure({{"identity", {{"omit_account_id", false}}}});

  // Two pastes racing: exactly one exchange, one success and one flow_not_pending.
  auto raced = rig.sign_in(rig.start_browser({{"pool_id", pool}})["authorize_url"]);
  const auto before = rig.fake_state()["exchanges"].get<int>();
  test::admin_client second_tab = rig.owner;
  std::atomic<int> statuses[2] = {0, 0};
  std::thread other{[&] {
    statuses[1] =
      second_tab
        .send("POST", "/admin/api/upstreams/oauth/browser/complete", json{{"callback_url", raced}})
        .status;
  }};
  statuses[0] = rig.paste(raced).status;
  other.join();
  CHECK(statuses[0] + statuses[1] == 200 + 409);
  CHECK(rig.fake_state()["exchanges"].get<int>() == before + 1);

  // Audited: starts, completions and failures.
  auto audit = json::parse(rig.owner.get("/admin/api/audit-logs?limit=200").body)["items"];
  int starts = 0;
  int completions = 0;
  int failures = 0;
  for (const auto& event : audit) {
    const auto action = event["action"].get<std::string>();
    starts += action == "upstream_onboarding.start";
    completions += action == "upstream_onboarding.complete" && event["outcome"] == "success";
    failures += (action == "upstream_onboarding.fail" || action == "upstream_onboarding.complete")
                && event["outcome"] == "failure";
  }
  CHECK(starts == 13);
  CHECK(completions == 3);
  CHECK(failures >= 20);
  rig.check_no_secret_leaked();
}

TEST_CASE("device code: polls in the background with slow_down back-off, then the account serves",
          "[integration][onboarding][device]") {
  onboarding_rig rig{GENERATE(test::backend::sqlite, test::backend::postgres)};
  const auto pool = rig.fixture.pool_id();

  // The issuer refuses a user code: each answer has its code.
  for (const auto& [knob, status, code] : std::vector<std::tuple<std::string, int, std::string>>{
         {"disabled_404", 503, "codex_auth_unavailable"},
         {"status_500", 502, "codex_auth_transient"},
         {"malformed", 502, "codex_auth_transient"},
         {"missing_fields", 502, "codex_auth_transient"}}) {
    rig.configure({{"usercode_failure", knob}});
    auto refused = rig.owner.send("POST", "/admin/api/upstreams/oauth/device", {{"pool_id", pool}});
    CHECK(refused.status == status);
    CHECK(error_code(refused) == code);
  }

  // Pending (403), 404, slow_down, RFC pending, then approval. `interval` as a number.
  rig.configure(
    {{"usercode_failure", ""},
     {"interval_s", 1},
     {"interval_style", "number"},
     {"device_script", {"pending", "not_found", "slow_down", "authorization_pending"}}});
  auto started = rig.start_device({{"pool_id", pool}})["flow"];
  CHECK(started["status"] == "pending");
  CHECK(started["verification_url"] == rig.issuer() + "/codex/device");
  CHECK(started["interval_s"] == 1);
  CHECK(
    started["instructions"].get<std::string>().find("Enable device code authorization for Codex")
    != std::string::npos);
  const auto user_code = started["user_code"].get<std::string>();
  REQUIRE(rig.fake("POST", "/__control/oauth/approve", {{"user_code", user_code}}).status == 200);
  auto done = rig.settled(started["id"]);
  REQUIRE(done["status"] == "completed");
  CHECK(done["user_code"].is_null()); // shown only while pending
  auto account = rig.account(done["account_id"]);
  CHECK(account["onboarding_method"] == "device_code");
  CHECK(account["chatgpt_account_id"] == "acct-oauth");

  // The fake saw no poll sooner than the interval, and the one after slow_down waited 1 + 5 s.
  json device;
  const auto fake = rig.fake_state();
  for (const auto& candidate : fake["devices"]) {
    if (candidate["user_code"] == user_code) {
      device = candidate;
    }
  }
  const auto polls = device["polls"];
  REQUIRE(polls.size() >= 5);
  CHECK(polls[3].get<double>() - polls[2].get<double>() >= 5.5);

  // With the imported account paused, the new one serves the pool's turns.
  REQUIRE(
    rig.owner
      .send("POST", "/admin/api/upstreams/" + rig.fixture.account_ids().at("acct-1") + "/pause")
      .status
    == 200);
  REQUIRE(test::eventually(
    [&] {
      auto turn = rig.fixture.turn_via(rig.gateway.port());
      return turn.status == 200 && rig.fixture.upstream().counters("acct-oauth").turns_served > 0;
    },
    std::chrono::seconds{20}, std::chrono::milliseconds{300}));

  // Denial, the issuer's expiry, and our own 15-minute deadline; `interval` as a string under
  // the `usercode` key.
  rig.configure({{"interval_style", "usercode_key"}, {"device_script", json::array()}});
  auto denied = rig.start_device({{"pool_id", pool}})["flow"];
  REQUIRE(rig.fake("POST", "/__control/oauth/deny", {{"user_code", denied["user_code"]}}).status
          == 200);
  auto refused = rig.settled(denied["id"]);
  CHECK(refused["status"] == "failed");
  CHECK(refused["error"]["code"] == "codex_device_code_denied");

  rig.configure({{"device_script", {"expired"}}});
  auto expired = rig.settled(rig.start_device({{"pool_id", pool}})["flow"]["id"]);
  CHECK(expired["error"]["code"] == "codex_device_code_expired");

  rig.configure({{"device_script", json::array()}});
  auto waiting = rig.start_device({{"pool_id", pool}})["flow"];
  rig.sql("UPDATE upstream_onboarding_flows SET expires_at = '2000-01-01T00:00:00.000000Z' "
          "WHERE id = '"
          + waiting["id"].get<std::string>() + "'");
  auto timed_out = rig.settled(waiting["id"]);
  CHECK(timed_out["error"]["code"] == "codex_device_code_timeout");
  CHECK(timed_out["error"]["message"].get<std::string>().find("device code authorization")
        != std::string::npos);
  rig.check_no_secret_leaked();
}

TEST_CASE(
  "relink: a reauth_required account signs in again and serves; another identity is refused",
  "[integration][onboarding][relink]") {
  onboarding_rig rig{GENERATE(test::backend::sqlite, test::backend::postgres)};
  const auto id = rig.fixture.account_ids().at("acct-1");
  // The upstream kills the account's refresh token: the next turn leaves it reauth_required.
  rig.fixture.script("acct-1", [](test::account_script& s) {
    s.access_token_expired = true;
    s.refresh_revoked = true;
  });
  rig.fixture.turn_via(rig.gateway.port());
  REQUIRE(test::eventually([&] { return rig.account(id)["status"] == "reauth_required"; },
                           std::chrono::seconds{20}, std::chrono::milliseconds{200}));

  // Another ChatGPT account signs in: identity_mismatch, by either flow.
  rig.configure({{"interval_s", 1},
                 {"identity", {{"account_id", "acct-other"}, {"user_id", "user-acct-other"}}}});
  auto browser =
    rig.owner.send("POST", "/admin/api/upstreams/" + id + "/relink", {{"method", "browser"}});
  REQUIRE(browser.status == 201);
  auto mismatch = rig.paste(rig.sign_in(json::parse(browser.body)["authorize_url"]));
  CHECK(mismatch.status == 409);
  CHECK(error_code(mismatch) == "identity_mismatch");
  auto device = json::parse(
    rig.owner.send("POST", "/admin/api/upstreams/" + id + "/relink", {{"method", "device"}})
      .body)["flow"];
  CHECK(device["purpose"] == "relink");
  REQUIRE(rig.fake("POST", "/__control/oauth/approve", {{"user_code", device["user_code"]}}).status
          == 200);
  CHECK(rig.settled(device["id"])["error"]["code"] == "identity_mismatch");
  CHECK(rig.account(id)["status"] == "reauth_required");

  // The right account: the same row becomes active and serves again.
  rig.configure(
    {{"identity",
      {{"account_id", "acct-1"}, {"user_id", "user-acct-1"}, {"email", "acct-1@example.com"}}}});
  auto relinked = json::parse(
    rig.owner.send("POST", "/admin/api/upstreams/" + id + "/relink", {{"method", "device"}})
      .body)["flow"];
  REQUIRE(
    rig.fake("POST", "/__control/oauth/approve", {{"user_code", relinked["user_code"]}}).status
    == 200);
  auto done = rig.settled(relinked["id"]);
  REQUIRE(done["status"] == "completed");
  CHECK(done["account_id"] == id);
  CHECK(rig.account(id)["status"] == "active");
  CHECK(rig.account_count() == 1);
  const auto served = rig.fixture.upstream().counters("acct-1").turns_served;
  REQUIRE(test::eventually(
    [&] {
      auto turn = rig.fixture.turn_via(rig.gateway.port());
      return turn.status == 200 && rig.fixture.upstream().counters("acct-1").turns_served > served;
    },
    std::chrono::seconds{20}, std::chrono::milliseconds{300}));
  rig.check_no_secret_leaked();
}
