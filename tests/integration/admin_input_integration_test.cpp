// Issue #13, item 6: admin input is never coerced. Each finding is replayed against a real
// gateway process: the exact status, the field named in `fields`, and the stored value unchanged.

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "tests/support/admin_client.hpp"
#include "tests/support/gateway_process.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::backend;

namespace {

constexpr auto owner_email = "owner@example.com";
constexpr auto owner_password = "correct horse battery staple";

/// Names smuggling every kind of control character: NUL, an ANSI colour escape, DEL, a C1 CSI
/// (U+009B) and a C1 NEL (U+0085).
const std::vector<std::string> hostile_names = {std::string{"Team\0A", 6}, "\x1b[31mTeam A\x1b[0m",
                                                "Team\x7f",
                                                "Team \xc2\x9b"
                                                "2J",
                                                "Team\xc2\x85"};

struct input_fixture {
  explicit input_fixture(backend kind)
      : database(kind),
        data(std::filesystem::temp_directory_path() / ("cxp_input_" + to_hex(random_bytes(6)))),
        gateway(test::gateway_env(database.url(), data.string())),
        owner(gateway.port()) {
    auto booted = owner.bootstrap(owner_email, owner_password);
    CAPTURE(booted.body);
    REQUIRE(booted.status == 201);
    REQUIRE(owner.login(owner_email, owner_password).status == 200);
  }
  ~input_fixture() {
    std::error_code ignored;
    std::filesystem::remove_all(data, ignored);
  }

  /// The JSON body of a GET that must succeed.
  json fetch(const std::string& path) {
    auto result = owner.get(path);
    REQUIRE(result.status == 200);
    return json::parse(result.body);
  }

  test::test_database database;
  std::filesystem::path data;
  test::gateway_process gateway;
  test::admin_client owner;
};

/// Checks `result` is exactly 422 validation_failed with `field` among its `fields`.
void check_refused(const test::http_result& result, const std::string& field) {
  CAPTURE(result.body);
  CHECK(result.status == 422);
  auto body = json::parse(result.body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["error"]["code"] == "validation_failed");
  REQUIRE(body["error"]["fields"].is_object());
  CHECK(body["error"]["fields"].contains(field));
}

} // namespace

TEST_CASE("a wrong-typed or misspelt upstream label is 422 and the label stays",
          "[integration][admin][admin_input]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  input_fixture fx{kind};
  auto imported = fx.owner.send(
    "POST", "/admin/api/upstreams/import",
    {{"auth_json", test::make_auth_json("acct-in", "in@example.com", "i1")}, {"label", "primary"}});
  REQUIRE(imported.status == 201);
  const std::string id = json::parse(imported.body)["account"]["id"];
  const auto path = "/admin/api/upstreams/" + id;

  for (const auto& bad : {json(5), json(true), json::array({"x"}), json::object()}) {
    CAPTURE(bad.dump());
    check_refused(fx.owner.send("PATCH", path, {{"label", bad}}), "label");
  }
  check_refused(fx.owner.send("PATCH", path, {{"lable", "renamed"}}), "label");
  check_refused(fx.owner.send("PATCH", path, json::object()), "label");
  for (const auto& name : hostile_names) {
    check_refused(fx.owner.send("PATCH", path, {{"label", name}}), "label");
  }
  CHECK(fx.fetch(path)["label"] == "primary");

  // null still means "clear", as documented.
  REQUIRE(fx.owner.send("PATCH", path, {{"label", nullptr}}).status == 200);
  CHECK(fx.fetch(path)["label"].is_null());

  // Importing with a hostile or wrong-typed label creates nothing.
  for (const auto& label : {json(hostile_names[1]), json(7)}) {
    check_refused(
      fx.owner.send(
        "POST", "/admin/api/upstreams/import",
        {{"auth_json", test::make_auth_json("acct-x", "x@example.com", "x")}, {"label", label}}),
      "label");
  }
  check_refused(fx.owner.send("POST", "/admin/api/upstreams/import",
                              {{"auth_json", test::make_auth_json("acct-y", "y@example.com", "y")},
                               {"pool_ids", nullptr}}),
                "pool_ids");
  CHECK(fx.fetch("/admin/api/upstreams")["items"].size() == 1);
}

TEST_CASE("wrong-typed operator display_name role and status are 422 and change nothing",
          "[integration][admin][admin_input]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  input_fixture fx{kind};
  auto created = fx.owner.send("POST", "/admin/api/operators",
                               {{"email", "ops@example.com"},
                                {"display_name", "Ops"},
                                {"role", "instance_admin"},
                                {"temporary_password", "temporary password 1"}});
  REQUIRE(created.status == 201);
  const std::string id = json::parse(created.body)["id"];
  const auto path = "/admin/api/operators/" + id;
  const auto before = fx.fetch(path);

  for (const auto* field : {"display_name", "role", "status"}) {
    for (const auto& bad : {json(5), json(nullptr), json(false), json::array()}) {
      CAPTURE(field, bad.dump());
      check_refused(fx.owner.send("PATCH", path, {{field, bad}}), field);
    }
  }
  check_refused(fx.owner.send("PATCH", path, {{"pool_ids", "not-a-list"}}), "pool_ids");
  check_refused(fx.owner.send("PATCH", path, {{"pool_ids", nullptr}}), "pool_ids");
  check_refused(fx.owner.send("PATCH", path, {{"dispaly_name", "Typo"}}), "dispaly_name");
  for (const auto& name : hostile_names) {
    check_refused(fx.owner.send("PATCH", path, {{"display_name", name}}), "display_name");
  }
  CHECK(fx.fetch(path) == before);

  // Creating an operator: wrong types and hostile names or emails create nobody.
  const json valid = {{"email", "new@example.com"},
                      {"display_name", "New"},
                      {"role", "instance_admin"},
                      {"temporary_password", "temporary password 2"}};
  for (const auto& [field, bad] :
       std::vector<std::pair<std::string, json>>{{"email", 5},
                                                 {"display_name", nullptr},
                                                 {"role", json::array()},
                                                 {"temporary_password", 123456789012345},
                                                 {"pool_ids", "p"},
                                                 {"display_name", hostile_names[1]},
                                                 {"display_name", hostile_names[0]},
                                                 {"email", "new\x1b[2J@example.com"},
                                                 {"email", "new@example.com\xc2\x9b"}}) {
    auto body = valid;
    body[field] = bad;
    CAPTURE(body.dump());
    check_refused(fx.owner.send("POST", "/admin/api/operators", body), field);
  }
  CHECK(fx.fetch("/admin/api/operators")["items"].size() == 2);
}

TEST_CASE("a wrong ttl_hours on an invite is 422 instead of 72 hours",
          "[integration][admin][admin_input]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  input_fixture fx{kind};
  for (const auto& bad : {json("24"), json(1.5), json(nullptr), json(true), json(0), json(721),
                          json(4294967297LL), json(-1)}) {
    CAPTURE(bad.dump());
    check_refused(
      fx.owner.send(
        "POST", "/admin/api/invites",
        {{"email", "invitee@example.com"}, {"role", "instance_owner"}, {"ttl_hours", bad}}),
      "ttl_hours");
  }
  for (const auto& [field, bad] :
       std::vector<std::pair<std::string, json>>{{"email", json(5)},
                                                 {"role", json(nullptr)},
                                                 {"pool_ids", json(nullptr)},
                                                 {"email", "\x1b[31minvitee@example.com"}}) {
    json body = {{"email", "invitee@example.com"}, {"role", "instance_owner"}};
    body[field] = bad;
    CAPTURE(body.dump());
    check_refused(fx.owner.send("POST", "/admin/api/invites", body), field);
  }
  CHECK(fx.fetch("/admin/api/invites")["items"].empty());

  auto made =
    fx.owner.send("POST", "/admin/api/invites",
                  {{"email", "invitee@example.com"}, {"role", "instance_owner"}, {"ttl_hours", 2}});
  REQUIRE(made.status == 201);
  const auto invite = json::parse(made.body);
  const auto created_at = parse_iso8601(invite["created_at"].get<std::string>());
  const auto expires_at = parse_iso8601(invite["expires_at"].get<std::string>());
  REQUIRE(created_at);
  REQUIRE(expires_at);
  CHECK(*expires_at - *created_at == std::chrono::hours{2});
}

TEST_CASE("pool and key names refuse control characters naming the field",
          "[integration][admin][admin_input]") {
  input_fixture fx{backend::sqlite};
  auto pool = fx.owner.send("POST", "/admin/api/pools", {{"name", "Plain"}});
  REQUIRE(pool.status == 201);
  const std::string pool_id = json::parse(pool.body)["id"];
  auto key =
    fx.owner.send("POST", "/admin/api/api-keys", {{"pool_id", pool_id}, {"display_name", "ci"}});
  REQUIRE(key.status == 201);
  const std::string key_id = json::parse(key.body)["id"];
  for (const auto& name : hostile_names) {
    CAPTURE(name);
    check_refused(fx.owner.send("POST", "/admin/api/pools", {{"name", name}}), "name");
    check_refused(fx.owner.send("PATCH", "/admin/api/pools/" + pool_id, {{"name", name}}), "name");
    check_refused(
      fx.owner.send("POST", "/admin/api/api-keys", {{"pool_id", pool_id}, {"display_name", name}}),
      "display_name");
    check_refused(fx.owner.send("PATCH", "/admin/api/api-keys/" + key_id, {{"display_name", name}}),
                  "display_name");
  }
  CHECK(fx.fetch("/admin/api/pools")["items"].size() == 1);
  CHECK(fx.fetch("/admin/api/pools/" + pool_id)["name"] == "Plain");
  CHECK(fx.fetch("/admin/api/api-keys")["items"].size() == 1);
  CHECK(fx.fetch("/admin/api/api-keys/" + key_id)["display_name"] == "ci");
}

TEST_CASE("wrong-typed fields on the auth routes are 422 naming the field",
          "[integration][admin][admin_input]") {
  input_fixture fx{backend::sqlite};
  test::admin_client anonymous{fx.gateway.port()};
  anonymous.fetch_anonymous_csrf();
  check_refused(anonymous.send("POST", "/admin/api/session",
                               {{"email", owner_email}, {"password", 12345678901234}}),
                "password");
  check_refused(anonymous.send("POST", "/admin/api/session",
                               {{"email", nullptr}, {"password", owner_password}}),
                "email");
  check_refused(anonymous.send("POST", "/admin/api/invites/accept",
                               {{"token", 5}, {"display_name", "X"}, {"password", "p"}}),
                "token");
  check_refused(fx.owner.send("POST", "/admin/api/session/password",
                              {{"current_password", owner_password}, {"new_password", true}}),
                "new_password");
  check_refused(fx.owner.send("POST", "/admin/api/session/totp/confirm", {{"code", 123456}}),
                "code");
  check_refused(fx.owner.send("DELETE", "/admin/api/session/totp", {{"password", 1}}), "password");
  // The password is unchanged: the owner still logs in with it.
  test::admin_client again{fx.gateway.port()};
  CHECK(again.login(owner_email, owner_password).status == 200);
}

TEST_CASE("the admin CLI escapes control characters stored before names were checked",
          "[integration][admin][admin_input][cli]") {
  test::test_database database{backend::sqlite};
  const auto dir = std::filesystem::temp_directory_path() / ("cxp_cli_" + to_hex(random_bytes(6)));
  auto env = test::gateway_env(database.url(), (dir / "data").string());

  auto refused =
    test::run_gateway_command(env, {"admin", "pool", "create", "--name", "\x1b[31mred"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("validation_failed") != std::string::npos);
  CHECK(refused.err.find('\x1b') == std::string::npos);
  auto ring = test::run_gateway_command(
    env, {"admin", "pool", "create", "--name", "Ring", "--ring-size", "5x"});
  CHECK(ring.exit_code == 1);
  CHECK(ring.err.find("ring_size") != std::string::npos);

  auto labelled = test::run_gateway_command(
    env, {"admin", "account", "import", "--file", (dir / "none.json").string(), "--label", "L"});
  CHECK(labelled.exit_code == 2);
  CHECK(labelled.err.find("--label") != std::string::npos);

  auto pool = test::run_gateway_command(env, {"admin", "pool", "create", "--name", "Plain"});
  REQUIRE(pool.exit_code == 0);
  // What an older build let through: written straight into the table.
  const std::string stored = "\x1b]0;owned\x07\x1b[2J \x7f \xc2\x9b"
                             "31m end";
  auto written = database.db().run([&](soci::session& sql) {
    sql << "UPDATE pools SET name = :name", soci::use(stored);
    return true;
  });
  REQUIRE(written);
  auto listed = test::run_gateway_command(env, {"admin", "pool", "list"});
  REQUIRE(listed.exit_code == 0);
  for (const auto* raw : {"\x1b", "\x07", "\x7f", "\xc2\x9b"}) {
    CHECK(listed.out.find(raw) == std::string::npos);
  }
  auto pools = json::parse(listed.out, nullptr, false);
  REQUIRE(pools.is_array());
  REQUIRE(pools.size() == 1);
  CHECK(pools[0]["name"] == stored); // escaped for the terminal, still the same JSON string
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

TEST_CASE("admin bodies and auth_json nested too deep are refused and the node serves on",
          "[integration][admin][admin_input]") {
  input_fixture fx{backend::sqlite};
  json deep = json::object();
  for (int i = 0; i < 200; ++i) {
    deep = json{{"a", deep}};
  }
  auto body = fx.owner.send("POST", "/admin/api/upstreams/import", {{"auth_json", deep}});
  CHECK(body.status == 400);
  CHECK(json::parse(body.body)["error"]["code"] == "invalid_request");

  const std::string brackets(60000, '[');
  check_refused(fx.owner.send("POST", "/admin/api/upstreams/import", {{"auth_json", brackets}}),
                "auth_json");
  auto bulk = fx.owner.send("POST", "/admin/api/upstreams/import", {{"items", {brackets}}});
  REQUIRE(bulk.status == 200);
  CHECK(json::parse(bulk.body)["results"][0]["account"].is_null());
  CHECK(fx.fetch("/admin/api/upstreams")["items"].empty());
}
