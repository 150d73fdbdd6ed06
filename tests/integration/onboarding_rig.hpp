#pragma once

// The rig of the onboarding integration tests: a pooler whose OAuth issuer is the fake.
#include <chrono>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "tests/support/admin_client.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/gateway_process.hpp"
#include "tests/support/pooler_fixture.hpp"

namespace onboarding_test {

using nlohmann::json;
using namespace cxp;

inline constexpr auto owner_email = "owner@onboarding.example";
inline constexpr auto owner_password = "correct horse battery staple";

/// A pooler with one imported account (acct-1) whose OAuth issuer is the fake, and a signed-in
/// owner.
struct onboarding_rig {
  explicit onboarding_rig(test::backend kind = test::backend::postgres)
      : fixture(make_options(kind)),
        gateway(env_with_issuer(fixture)),
        owner(gateway.port()) {
    REQUIRE(owner.bootstrap(owner_email, owner_password).status == 201);
    REQUIRE(owner.login(owner_email, owner_password).status == 200);
    REQUIRE(fake("POST", "/__control/oauth/reset").status == 200);
  }

  static test::pooler_fixture::options make_options(test::backend kind) {
    test::pooler_fixture::options opts;
    opts.database = kind;
    opts.accounts = 1;
    opts.start_gateway = false;
    return opts;
  }

  static test::env_vars env_with_issuer(test::pooler_fixture& f) {
    auto env = f.env();
    env["CODEX_POOLER_OAUTH_ISSUER_URL"] =
      "http://127.0.0.1:" + std::to_string(f.upstream().port());
    return env;
  }

  std::string issuer() { return "http://127.0.0.1:" + std::to_string(fixture.upstream().port()); }

  test::http_result fake(const std::string& method, const std::string& target,
                         const json& body = json::object()) {
    return test::http_request(fixture.upstream().port(), method, target, body.dump(),
                              {{"content-type", "application/json"}});
  }

  void configure(const json& knobs) {
    REQUIRE(fake("POST", "/__control/oauth/config", knobs).status == 200);
  }

  json fake_state() { return json::parse(fake("GET", "/__control/oauth/state").body); }

  /// Starts a browser flow (201 expected) and answers its JSON.
  json start_browser(const json& body) {
    auto started = owner.send("POST", "/admin/api/upstreams/oauth/browser", body);
    REQUIRE(started.status == 201);
    return json::parse(started.body);
  }

  /// Follows the authorize URL on the fake the way a browser would: the Location it redirects to
  /// is the callback URL the operator pastes back.
  std::string sign_in(const std::string& authorize_url) {
    REQUIRE(authorize_url.rfind(issuer(), 0) == 0);
    auto answer = test::http_get(fixture.upstream().port(), authorize_url.substr(issuer().size()));
    REQUIRE(answer.status == 302);
    return answer.headers.at("location");
  }

  test::http_result paste(const std::string& callback_url) {
    return owner.send("POST", "/admin/api/upstreams/oauth/browser/complete",
                      json{{"callback_url", callback_url}});
  }

  json start_device(const json& body, int status = 201) {
    auto started = owner.send("POST", "/admin/api/upstreams/oauth/device", body);
    REQUIRE(started.status == status);
    return json::parse(started.body);
  }

  json flow(const std::string& id) {
    return json::parse(owner.get("/admin/api/upstreams/oauth/flows/" + id).body)["flow"];
  }

  /// Waits until a device flow leaves pending/exchanging, and answers it.
  json settled(const std::string& id, std::chrono::seconds limit = std::chrono::seconds{45}) {
    json last;
    REQUIRE(test::eventually(
      [&] {
        last = flow(id);
        return last["status"] != "pending" && last["status"] != "exchanging";
      },
      limit, std::chrono::milliseconds{200}));
    return last;
  }

  void sql(const std::string& statement) {
    REQUIRE(fixture.database().db().run([&](soci::session& s) { s << statement; }));
  }

  json account(const std::string& id) {
    return json::parse(owner.get("/admin/api/upstreams/" + id).body);
  }

  size_t account_count() {
    return json::parse(owner.get("/admin/api/upstreams?limit=200").body)["items"].size();
  }

  /// None of the fake's secrets (each carries its per-test tag), nor a device user code, is in
  /// the gateway's log or anywhere in the database.
  void check_no_secret_leaked() {
    auto state = fake_state();
    const auto tag = state["secret_tag"].get<std::string>();
    const auto log = gateway.output();
    const auto dump = fixture.dump_database();
    CHECK(log.find(tag) == std::string::npos);
    CHECK(dump.find(tag) == std::string::npos);
    for (const auto& secret : state["secrets"]) {
      const auto text = secret.get<std::string>();
      CHECK(log.find(text) == std::string::npos);
      CHECK(dump.find(text) == std::string::npos);
    }
  }

  test::pooler_fixture fixture;
  test::gateway_process gateway;
  test::admin_client owner;
};

inline std::string error_code(const test::http_result& answer) {
  auto body = json::parse(answer.body, nullptr, false);
  return body.is_object() && body.contains("error") ? body["error"].value("code", "") : "";
}

} // namespace onboarding_test
