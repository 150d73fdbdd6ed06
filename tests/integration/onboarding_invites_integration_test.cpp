// Hosted invites for upstream accounts against the fake OAuth issuer: the page and its API with
// no pooler login, the email check, an existing account attached rather than duplicated, and
// expired, revoked and reissued links.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/onboarding_rig.hpp"

using namespace onboarding_test;
using nlohmann::json;
using namespace cxp;

namespace {

test::http_result invite_api(onboarding_rig& rig, const std::string& method,
                             const std::string& token, bool json_body = true) {
  std::map<std::string, std::string> headers{
    {"content-type", json_body ? "application/json" : "text/plain"}};
  return test::http_request(rig.gateway.port(), method,
                            "/onboarding/api/invites/" + token
                              + (method == "POST" ? "/device" : ""),
                            method == "POST" ? "{}" : "", headers);
}

json create_invite(onboarding_rig& rig, const std::string& email) {
  auto created = rig.owner.send("POST", "/admin/api/upstream-invites",
                                {{"pool_id", rig.fixture.pool_id()}, {"email", email}});
  REQUIRE(created.status == 201);
  return json::parse(created.body);
}

} // namespace

TEST_CASE("hosted invite: the invitee signs in with a device code; the email must match",
          "[integration][onboarding][invites]") {
  onboarding_rig rig{GENERATE(test::backend::sqlite, test::backend::postgres)};
  rig.configure({{"interval_s", 1}});
  auto created = create_invite(rig, "ACCT-1@example.com");
  const auto token = created["token"].get<std::string>();
  CHECK(created["path"] == "/onboarding/invites/" + token);
  CHECK(created["invite"]["email"] == "acct-1@example.com");
  CHECK(created["invite"]["status"] == "active");
  CHECK_FALSE(created["invite"].contains("token"));

  // The page: strict CSP, no inline script, the token kept out of referrers and caches.
  auto page = test::http_get(rig.gateway.port(), created["path"]);
  REQUIRE(page.status == 200);
  const auto csp = page.headers["content-security-policy"];
  CHECK(csp.find("script-src 'self'") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(page.headers["referrer-policy"] == "no-referrer");
  CHECK(page.headers["cache-control"] == "no-store");
  CHECK(page.body.find("<script src=\"/onboarding/assets/invite.js\"") != std::string::npos);
  CHECK(page.body.find("<script>") == std::string::npos);
  CHECK(test::http_get(rig.gateway.port(), "/onboarding/assets/invite.js").status == 200);

  auto state = json::parse(invite_api(rig, "GET", token).body);
  CHECK(state["email"] == "acct-1@example.com");
  CHECK(state["flow"].is_null());
  CHECK(invite_api(rig, "POST", token, false).status == 415);

  // Re-opening while a code is pending shows the same code.
  auto first = json::parse(invite_api(rig, "POST", token).body)["flow"];
  REQUIRE(first["status"] == "pending");
  CHECK(json::parse(invite_api(rig, "POST", token).body)["flow"]["user_code"]
        == first["user_code"]);

  // Someone else's ChatGPT account: invite_email_mismatch; the invite stays usable.
  REQUIRE(rig
            .fake("POST", "/__control/oauth/approve",
                  {{"user_code", first["user_code"]},
                   {"identity", {{"account_id", "acct-9"}, {"email", "someone@else.example"}}}})
            .status
          == 200);
  auto mismatch = rig.settled(first["id"]);
  CHECK(mismatch["error"]["code"] == "invite_email_mismatch");
  CHECK(json::parse(invite_api(rig, "GET", token).body)["flow"]["error"]["code"]
        == "invite_email_mismatch");

  // The invited (already pooled) account: attached, not duplicated.
  const auto before = rig.account_count();
  auto second = json::parse(invite_api(rig, "POST", token).body)["flow"];
  CHECK(second["id"] != first["id"]);
  REQUIRE(
    rig
      .fake(
        "POST", "/__control/oauth/approve",
        {{"user_code", second["user_code"]},
         {"identity",
          {{"account_id", "acct-1"}, {"user_id", "user-acct-1"}, {"email", "Acct-1@Example.com"}}}})
      .status
    == 200);
  auto done = rig.settled(second["id"]);
  REQUIRE(done["status"] == "completed");
  CHECK(done["account_id"] == rig.fixture.account_ids().at("acct-1"));
  CHECK(rig.account_count() == before);
  auto accepted = json::parse(invite_api(rig, "GET", token).body);
  CHECK(accepted["status"] == "accepted");
  CHECK(invite_api(rig, "POST", token).status == 409);

  // Unknown, revoked, reissued and expired links.
  CHECK(error_code(invite_api(rig, "GET", "no-such-token")) == "invite_invalid");
  auto revoked = create_invite(rig, "revoked@example.com");
  REQUIRE(rig.owner
            .send("POST", "/admin/api/upstream-invites/"
                            + revoked["invite"]["id"].get<std::string>() + "/revoke")
            .status
          == 200);
  auto gone = invite_api(rig, "GET", revoked["token"]);
  CHECK(gone.status == 410);
  CHECK(error_code(gone) == "invite_revoked");

  auto reissued_from = create_invite(rig, "new@example.com");
  auto reissued =
    rig.owner.send("POST", "/admin/api/upstream-invites/"
                             + reissued_from["invite"]["id"].get<std::string>() + "/reissue");
  REQUIRE(reissued.status == 201);
  const auto new_token = json::parse(reissued.body)["token"].get<std::string>();
  CHECK(error_code(invite_api(rig, "GET", reissued_from["token"])) == "invite_revoked");
  CHECK(invite_api(rig, "GET", new_token).status == 200);
  // One active invite per pool and email.
  auto duplicate =
    rig.owner.send("POST", "/admin/api/upstream-invites",
                   {{"pool_id", rig.fixture.pool_id()}, {"email", "new@example.com"}});
  CHECK(duplicate.status == 409);

  rig.sql("UPDATE upstream_invites SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE email = "
          "'new@example.com'");
  auto expired = invite_api(rig, "GET", new_token);
  CHECK(expired.status == 410);
  CHECK(error_code(expired) == "invite_expired");

  auto bad_email = rig.owner.send("POST", "/admin/api/upstream-invites",
                                  {{"pool_id", rig.fixture.pool_id()}, {"email", "not an email"}});
  CHECK(bad_email.status == 422);

  // The CLI makes one too, printing the link once.
  auto cli = test::run_gateway_command(rig.fixture.env(),
                                       {"admin", "upstream-invite", "create", "--pool",
                                        rig.fixture.pool_id(), "--email", "cli@example.com"});
  REQUIRE(cli.exit_code == 0);
  CHECK(json::parse(cli.out)["path"].get<std::string>().rfind("/onboarding/invites/", 0) == 0);

  auto listed = json::parse(
    rig.owner.get("/admin/api/upstream-invites?pool_id=" + rig.fixture.pool_id()).body)["items"];
  CHECK(listed.size() == 5);
  const auto dump = rig.fixture.dump_database();
  for (const auto& raw : {token, new_token}) {
    CHECK(dump.find(raw) == std::string::npos);
    CHECK(rig.gateway.output().find(raw) == std::string::npos);
  }
  rig.check_no_secret_leaked();
}
