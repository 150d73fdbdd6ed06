#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "common/encoding.hpp"
#include "domain/keys/api_key_service.hpp"
#include "tests/support/admin_client.hpp"
#include "tests/support/gateway_process.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::backend;

namespace {

constexpr auto owner_email = "owner@example.com";
constexpr auto owner_password = "correct horse battery staple";
constexpr auto admin_email = "admin@example.com";
constexpr auto admin_password = "another long passphrase";

/// A gateway on a fresh database with a bootstrapped, logged-in owner.
struct admin_fixture {
  explicit admin_fixture(backend kind)
      : database(kind),
        data(std::filesystem::temp_directory_path() / ("cxp_admin_" + to_hex(random_bytes(6)))),
        gateway(test::gateway_env(database.url(), data.string())),
        owner(gateway.port()) {
    REQUIRE(owner.bootstrap(owner_email, owner_password).status == 201);
    REQUIRE(owner.login(owner_email, owner_password).status == 200);
  }
  ~admin_fixture() {
    std::error_code ignored;
    std::filesystem::remove_all(data, ignored);
  }

  std::string create_pool(const std::string& name) {
    auto created = owner.send("POST", "/admin/api/pools", {{"name", name}});
    REQUIRE(created.status == 201);
    return json::parse(created.body)["id"];
  }

  /// An instance_admin assigned to `pool_id`, logged in and past the forced password change.
  test::admin_client make_admin(const std::string& pool_id) {
    auto created = owner.send("POST", "/admin/api/operators",
                              {{"email", admin_email},
                               {"display_name", "Admin"},
                               {"role", "instance_admin"},
                               {"temporary_password", "temporary password 1"},
                               {"pool_ids", {pool_id}}});
    REQUIRE(created.status == 201);
    test::admin_client admin{gateway.port()};
    REQUIRE(admin.login(admin_email, "temporary password 1").status == 200);
    CHECK(admin.get("/admin/api/pools").status == 403);
    REQUIRE(
      admin
        .send("POST", "/admin/api/session/password",
              {{"current_password", "temporary password 1"}, {"new_password", admin_password}})
        .status
      == 200);
    return admin;
  }

  test::test_database database;
  std::filesystem::path data;
  test::gateway_process gateway;
  test::admin_client owner;
};

std::string error_code(const test::http_result& result) {
  auto body = json::parse(result.body, nullptr, false);
  return body.is_discarded() ? "" : body["error"].value("code", "");
}

/// Every text column of every table, for the privacy checks.
std::string dump_database(persistence::database& db) {
  auto dumped = db.run([](soci::session& sql) {
    std::string out;
    static const std::vector<std::string> tables{"operators",
                                                 "operator_sessions",
                                                 "recovery_codes",
                                                 "invites",
                                                 "pools",
                                                 "operator_pool_assignments",
                                                 "upstream_accounts",
                                                 "pool_accounts",
                                                 "api_keys",
                                                 "instance_settings",
                                                 "audit_events",
                                                 "request_logs",
                                                 "account_quota_windows",
                                                 "jobs",
                                                 "cluster_nodes",
                                                 "bootstrap_state",
                                                 "account_leases",
                                                 "account_refresh_claims",
                                                 "oauth_refresh_gates",
                                                 "account_health",
                                                 "account_circuits",
                                                 "http_session_pins"};
    for (const auto& table : tables) {
      soci::rowset<soci::row> rows = sql.prepare << std::string{"SELECT * FROM "} + table;
      for (const auto& row : rows) {
        for (size_t i = 0; i < row.size(); ++i) {
          if (row.get_indicator(i) != soci::i_null
              && row.get_properties(i).get_data_type() == soci::dt_string) {
            out += row.get<std::string>(i) + "\n";
          }
        }
      }
    }
    return out;
  });
  REQUIRE(dumped);
  return *dumped;
}

} // namespace

TEST_CASE("bootstrap creates the first owner once and needs a CSRF token",
          "[integration][admin_api]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  test::test_database database{kind};
  const auto data =
    std::filesystem::temp_directory_path() / ("cxp_admin_" + to_hex(random_bytes(6)));
  test::gateway_process gateway{test::gateway_env(database.url(), data.string())};
  test::admin_client client{gateway.port()};

  auto status = client.fetch_anonymous_csrf();
  CHECK(json::parse(status.body)["bootstrap"] == "pending");
  auto no_csrf = client.send(
    "POST", "/bootstrap",
    {{"email", owner_email}, {"password", owner_password}, {"display_name", "O"}}, false);
  CHECK(no_csrf.status == 403);
  CHECK(error_code(no_csrf) == "csrf_token_invalid");
  auto weak = client.send("POST", "/bootstrap",
                          {{"email", owner_email}, {"password", "short"}, {"display_name", "O"}});
  CHECK(weak.status == 422);
  CHECK(json::parse(weak.body)["error"]["fields"].contains("password"));

  CHECK(client.bootstrap(owner_email, owner_password).status == 201);
  CHECK(json::parse(client.get("/bootstrap/status").body)["bootstrap"] == "completed");
  auto again = client.bootstrap("second@example.com", owner_password);
  CHECK(again.status == 409);
  CHECK(error_code(again) == "conflict");
  std::filesystem::remove_all(data);
}

TEST_CASE("login sets a session cookie that /session and logout honour",
          "[integration][admin_api]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  admin_fixture fx{kind};
  auto session = fx.owner.get("/session");
  REQUIRE(session.status == 200);
  auto body = json::parse(session.body);
  CHECK(body["authenticated"] == true);
  CHECK(body["user"]["email"] == owner_email);

  test::admin_client stranger{fx.gateway.port()};
  auto anonymous = stranger.get("/session");
  CHECK(anonymous.status == 401);
  CHECK(error_code(anonymous) == "unauthenticated");
  CHECK(stranger.login(owner_email, "wrong password!!").status == 401);

  CHECK(fx.owner.send("DELETE", "/admin/api/session").status == 200);
  CHECK(fx.owner.get("/session").status == 401);
}

TEST_CASE(
  "every admin endpoint answers success, validation failure, wrong role, no session and no CSRF",
  "[integration][admin_api]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  admin_fixture fx{kind};
  const auto pool_id = fx.create_pool("Team");
  const auto other_pool = fx.create_pool("Other");
  auto admin = fx.make_admin(pool_id);

  struct endpoint {
    std::string method, path;
    json valid, invalid;
    int success;
    bool admin_forbidden; ///< false where an instance_admin may act within its pool
  };
  const std::vector<endpoint> endpoints = {
    {"POST", "/admin/api/pools", {{"name", "Fresh"}}, {{"ring_size", 0}}, 201, true},
    {"PATCH",
     "/admin/api/pools/" + other_pool,
     {{"ring_size", 5}},
     {{"routing_strategy", "random"}},
     200,
     true},
    {"POST",
     "/admin/api/upstreams/import",
     {{"auth_json", test::make_auth_json("acct-1", "a@example.com", "x1")}},
     {{"auth_json", {{"OPENAI_API_KEY", "sk-plain"}}}},
     201,
     true},
    {"POST",
     "/admin/api/api-keys",
     {{"pool_id", other_pool}, {"display_name", "ci"}},
     {{"pool_id", other_pool}, {"display_name", ""}},
     201,
     true},
    {"POST",
     "/admin/api/operators",
     {{"email", "third@example.com"},
      {"display_name", "T"},
      {"role", "instance_admin"},
      {"temporary_password", "temporary password 3"}},
     {{"email", "not-an-email"},
      {"display_name", "T"},
      {"role", "instance_admin"},
      {"temporary_password", "x"}},
     201,
     true},
    {"POST",
     "/admin/api/invites",
     {{"email", "invitee@example.com"}, {"role", "instance_owner"}},
     {{"email", "invitee2@example.com"}, {"role", "emperor"}},
     201,
     true},
    {"PATCH",
     "/admin/api/settings",
     {{"gateway.circuit_open_seconds", 90}},
     {{"gateway.circuit_open_seconds", -4}},
     200,
     true},
    {"PATCH",
     "/admin/api/settings",
     {{"gateway.bulkheads", {{"proxy_http", {{"max_concurrency", 8}}}}}},
     {{"gateway.bulkheads", {{"proxy_http", {{"burst", 1}}}}}},
     200,
     true},
  };
  for (const auto& e : endpoints) {
    CAPTURE(e.method, e.path);
    test::admin_client anonymous{fx.gateway.port()};
    auto unauthenticated = anonymous.send(e.method, e.path, e.valid);
    CHECK(unauthenticated.status == 401);
    CHECK(error_code(unauthenticated) == "unauthenticated");

    auto no_csrf = fx.owner.send(e.method, e.path, e.valid, false);
    CHECK(no_csrf.status == 403);
    CHECK(error_code(no_csrf) == "csrf_token_invalid");

    auto wrong_role = admin.send(e.method, e.path, e.valid);
    CAPTURE(wrong_role.status, wrong_role.body);
    CHECK((wrong_role.status == 403 || wrong_role.status == 404));

    auto invalid = fx.owner.send(e.method, e.path, e.invalid);
    CHECK(invalid.status == 422);
    CHECK(error_code(invalid) == "validation_failed");
    CHECK(json::parse(invalid.body)["error"]["fields"].is_object());

    auto ok = fx.owner.send(e.method, e.path, e.valid);
    CHECK(ok.status == e.success);
  }

  // Bodiless actions on existing resources: success for the owner, refused for the pool admin
  // (these resources live in a pool it does not manage), no session and no CSRF.
  const auto key_id = json::parse(fx.owner
                                    .send("POST", "/admin/api/api-keys",
                                          {{"pool_id", other_pool}, {"display_name", "actions"}})
                                    .body)["id"]
                        .get<std::string>();
  auto imported =
    fx.owner.send("POST", "/admin/api/upstreams/import",
                  {{"auth_json", test::make_auth_json("acct-2", "b@example.com", "x2")},
                   {"pool_ids", {other_pool}}});
  REQUIRE(imported.status == 201);
  const std::string account_id = json::parse(imported.body)["account"]["id"];
  const std::string invite_id =
    json::parse(fx.owner
                  .send("POST", "/admin/api/invites",
                        {{"email", "later@example.com"}, {"role", "instance_owner"}})
                  .body)["id"];
  const std::string operator_id =
    json::parse(fx.owner.get("/admin/api/operators").body)["items"][0]["id"];
  struct action {
    std::string method, path;
    json body;
  };
  const std::vector<action> actions_list = {
    {"POST", "/admin/api/pools/" + other_pool + "/disable", nullptr},
    {"POST", "/admin/api/pools/" + other_pool + "/enable", nullptr},
    {"PATCH", "/admin/api/api-keys/" + key_id, {{"display_name", "renamed"}}},
    {"POST", "/admin/api/api-keys/" + key_id + "/pause", nullptr},
    {"POST", "/admin/api/api-keys/" + key_id + "/resume", nullptr},
    {"POST", "/admin/api/api-keys/" + key_id + "/rotate", nullptr},
    {"PATCH", "/admin/api/upstreams/" + account_id, {{"label", "primary"}}},
    {"POST", "/admin/api/upstreams/" + account_id + "/pause", nullptr},
    {"POST", "/admin/api/upstreams/" + account_id + "/resume", nullptr},
    {"PUT", "/admin/api/upstreams/" + account_id + "/pools/" + pool_id, nullptr},
    {"DELETE", "/admin/api/upstreams/" + account_id + "/pools/" + pool_id, nullptr},
    {"PATCH", "/admin/api/operators/" + operator_id, {{"display_name", "The Owner"}}},
    {"POST", "/admin/api/invites/" + invite_id + "/revoke", nullptr},
    {"POST", "/admin/api/api-keys/" + key_id + "/revoke", nullptr},
    {"DELETE", "/admin/api/upstreams/" + account_id, nullptr},
  };
  for (const auto& a : actions_list) {
    CAPTURE(a.method, a.path);
    test::admin_client anonymous{fx.gateway.port()};
    CHECK(anonymous.send(a.method, a.path, a.body).status == 401);
    CHECK(error_code(fx.owner.send(a.method, a.path, a.body, false)) == "csrf_token_invalid");
    auto refused = admin.send(a.method, a.path, a.body);
    CAPTURE(refused.body);
    CHECK((refused.status == 403 || refused.status == 404));
    auto done = fx.owner.send(a.method, a.path, a.body);
    CAPTURE(done.body);
    CHECK(done.status == 200);
  }
  CHECK(fx.owner.send("PATCH", "/admin/api/api-keys/" + key_id, {{"display_name", "again"}}).status
        == 409);
  CHECK(fx.owner.send("POST", "/admin/api/api-keys/" + key_id + "/rotate").status == 409);
  CHECK(fx.owner.get("/admin/api/upstreams/" + account_id).status == 404);

  for (const auto* path :
       {"/admin/api/pools", "/admin/api/upstreams", "/admin/api/api-keys", "/admin/api/operators",
        "/admin/api/invites", "/admin/api/settings", "/admin/api/audit-logs"}) {
    CAPTURE(path);
    CHECK(fx.owner.get(path).status == 200);
    test::admin_client anonymous{fx.gateway.port()};
    CHECK(anonymous.get(path).status == 401);
  }
  for (const auto* owner_only :
       {"/admin/api/operators", "/admin/api/invites", "/admin/api/settings"}) {
    CAPTURE(owner_only);
    CHECK(admin.get(owner_only).status == 403);
  }
  auto visible = json::parse(admin.get("/admin/api/pools").body)["items"];
  REQUIRE(visible.size() == 1);
  CHECK(visible[0]["id"] == pool_id);
  CHECK(admin.get("/admin/api/pools/" + other_pool).status == 404);
  CHECK(admin.send("POST", "/admin/api/api-keys", {{"pool_id", pool_id}, {"display_name", "mine"}})
          .status
        == 201);

  auto audit = json::parse(fx.owner.get("/admin/api/audit-logs?limit=200").body)["items"];
  std::set<std::string> actions;
  for (const auto& event : audit) {
    actions.insert(event["action"].get<std::string>());
  }
  for (const auto* expected :
       {"operator.bootstrap", "auth.login", "pool.create", "pool.update", "upstream_account.import",
        "api_key.create", "instance_settings.update"}) {
    CAPTURE(expected);
    CHECK(actions.count(expected) == 1);
  }
}

TEST_CASE("failed logins are throttled without checking the password", "[integration][admin_api]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  admin_fixture fx{kind};
  test::admin_client attacker{fx.gateway.port()};
  int unauthorized = 0;
  int limited_at = -1;
  for (int attempt = 0; attempt < 10 && limited_at < 0; ++attempt) {
    auto result = attacker.login(owner_email, "wrong password " + std::to_string(attempt));
    if (result.status == 429) {
      limited_at = attempt;
    } else {
      CHECK(result.status == 401);
      ++unauthorized;
    }
  }
  REQUIRE(limited_at > 0);
  auto correct = attacker.login(owner_email, owner_password);
  CHECK(correct.status == 429);
  CHECK(error_code(correct) == "rate_limited");
}

TEST_CASE("no raw key, token, password or TOTP secret is stored in any table",
          "[integration][admin_api][privacy]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  admin_fixture fx{kind};
  const auto pool_id = fx.create_pool("Private");
  const auto auth = test::make_auth_json("acct-secret", "secret@example.com", "zz9");
  REQUIRE(
    fx.owner
      .send("POST", "/admin/api/upstreams/import", {{"auth_json", auth}, {"pool_ids", {pool_id}}})
      .status
    == 201);
  auto key =
    fx.owner.send("POST", "/admin/api/api-keys", {{"pool_id", pool_id}, {"display_name", "k"}});
  REQUIRE(key.status == 201);
  const std::string raw_key = json::parse(key.body)["key"];
  REQUIRE(raw_key.rfind("sk-cxp-", 0) == 0);
  auto rotated = fx.owner.send(
    "POST", "/admin/api/api-keys/" + json::parse(key.body)["id"].get<std::string>() + "/rotate");
  REQUIRE(rotated.status == 200);
  const std::string rotated_key = json::parse(rotated.body)["key"];
  auto totp = fx.owner.send("POST", "/admin/api/session/totp");
  REQUIRE(totp.status == 200);
  const std::string totp_secret = json::parse(totp.body)["secret"];
  auto invite = fx.owner.send("POST", "/admin/api/invites",
                              {{"email", "new@example.com"}, {"role", "instance_owner"}});
  REQUIRE(invite.status == 201);
  const std::string invite_token = json::parse(invite.body)["token"];
  CHECK(json::parse(invite.body)["accept_url"]
        == "http://localhost:4000/invite#token=" + invite_token);
  REQUIRE(
    fx.owner
      .send("PATCH", "/admin/api/settings", {{"metrics.bearer_token", "metrics-bearer-value"}})
      .status
    == 200);

  const auto dump = dump_database(fx.database.db());
  // The secret part follows "sk-cxp-<12 hex>-"; it is base64url, so it may hold '-' itself.
  const auto secret_offset = domain::api_key_scheme.size() + 12 + 1;
  REQUIRE(dump.find("acct-secret") != std::string::npos); // the dump does see the tables
  for (const auto& secret :
       {raw_key, raw_key.substr(secret_offset), rotated_key, std::string{owner_password},
        auth["tokens"]["access_token"].get<std::string>(),
        auth["tokens"]["refresh_token"].get<std::string>(),
        auth["tokens"]["id_token"].get<std::string>(), totp_secret, invite_token,
        std::string{"metrics-bearer-value"}, fx.owner.csrf()}) {
    CHECK(dump.find(secret) == std::string::npos);
  }
  CHECK(dump.find("rt-secret-zz9") == std::string::npos);

  auto listed = fx.owner.get("/admin/api/upstreams");
  CHECK(listed.body.find("rt-secret-zz9") == std::string::npos);
  auto settings = fx.owner.get("/admin/api/settings");
  CHECK(settings.body.find("metrics-bearer-value") == std::string::npos);
  CHECK(fx.gateway.output().find("rt-secret-zz9") == std::string::npos);
  CHECK(fx.gateway.output().find(raw_key) == std::string::npos);
}

TEST_CASE("the admin CLI provisions a pool, accounts and a key", "[integration][admin_api][cli]") {
  test::test_database database{backend::postgres};
  const auto dir = std::filesystem::temp_directory_path() / ("cxp_cli_" + to_hex(random_bytes(6)));
  std::filesystem::create_directories(dir / "auth");
  for (int i = 0; i < 3; ++i) {
    std::ofstream{dir / "auth" / ("acct" + std::to_string(i) + ".json")}
      << test::make_auth_json("acct-cli-" + std::to_string(i),
                              "cli" + std::to_string(i) + "@example.com", "c" + std::to_string(i))
           .dump();
  }
  std::ofstream{dir / "auth" / "broken.json"} << R"({"OPENAI_API_KEY":"sk-only"})";
  auto env = test::gateway_env(database.url(), (dir / "data").string());

  auto pool = test::run_gateway_command(env, {"admin", "pool", "create", "--name", "CLI Pool"});
  REQUIRE(pool.exit_code == 0);
  const std::string pool_id = json::parse(pool.out)["id"];
  auto imported = test::run_gateway_command(
    env, {"admin", "account", "import", "--dir", (dir / "auth").string(), "--pool", pool_id});
  CHECK(imported.exit_code == 1); // one file is API-key-only
  auto results = json::parse(imported.out);
  REQUIRE(results.size() == 4);
  int ok = 0;
  for (const auto& result : results) {
    ok += result["account"].is_null() ? 0 : 1;
  }
  CHECK(ok == 3);
  CHECK(imported.err.find("imported 4/4") != std::string::npos);
  auto key = test::run_gateway_command(
    env, {"admin", "key", "create", "--pool", pool_id, "--name", "script"});
  REQUIRE(key.exit_code == 0);
  CHECK(json::parse(key.out)["key"].get<std::string>().rfind("sk-cxp-", 0) == 0);
  auto bad = test::run_gateway_command(env, {"admin", "pool", "create"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("validation_failed") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a configured metrics bearer token guards /metrics",
          "[integration][admin_api][metrics]") {
  admin_fixture fx{backend::sqlite};
  CHECK(test::http_get(fx.gateway.port(), "/metrics").status == 200);
  REQUIRE(
    fx.owner.send("PATCH", "/admin/api/settings", {{"metrics.bearer_token", "scrape-me-please"}})
      .status
    == 200);
  int status = 200;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  while (status == 200 && std::chrono::steady_clock::now() < give_up) {
    status = test::http_get(fx.gateway.port(), "/metrics").status;
  }
  CHECK(status == 401);
  CHECK(test::http_get(fx.gateway.port(), "/metrics", {{"authorization", "Bearer wrong"}}).status
        == 401);
  auto scraped =
    test::http_get(fx.gateway.port(), "/metrics", {{"authorization", "Bearer scrape-me-please"}});
  CHECK(scraped.status == 200);
  CHECK(scraped.body.find("codex_pooler_http_requests_total") != std::string::npos);
  REQUIRE(fx.owner.send("PATCH", "/admin/api/settings", {{"metrics.bearer_token", nullptr}}).status
          == 200);
}
