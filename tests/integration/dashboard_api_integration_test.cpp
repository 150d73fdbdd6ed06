// The admin API the dashboard added (stats, quota windows, system) and the dashboard's serving
// (the / redirect, pages under the CSP), against a real gateway on both database backends.
#include <filesystem>
#include <optional>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/encoding.hpp"
#include "persistence/request_logs/request_log_repository.hpp"
#include "persistence/routing/routing_repository.hpp"
#include "tests/support/admin_client.hpp"
#include "tests/support/gateway_process.hpp"
#include "tests/support/recent_day.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using json = nlohmann::json;

namespace {

constexpr auto owner_email = "owner@example.com";
constexpr auto owner_password = "correct horse battery staple";
const std::string day = test::recent_day();
const std::string period = "from=" + day + "T10:00:00Z&to=" + day + "T12:00:00Z";

/// A gateway on a fresh database of `kind`, not bootstrapped yet.
struct dashboard_fixture {
  explicit dashboard_fixture(test::backend kind)
      : database(kind),
        data(std::filesystem::temp_directory_path() / ("cxp_dash_" + to_hex(random_bytes(6)))),
        gateway(test::gateway_env(database.url(), data.string())),
        owner(gateway.port()) {}
  ~dashboard_fixture() {
    std::error_code ignored;
    std::filesystem::remove_all(data, ignored);
  }

  void log_in_owner() {
    REQUIRE(owner.bootstrap(owner_email, owner_password).status == 201);
    REQUIRE(owner.login(owner_email, owner_password).status == 200);
  }

  std::string create_pool(const std::string& name) {
    auto created = owner.send("POST", "/admin/api/pools", {{"name", name}});
    REQUIRE(created.status == 201);
    return json::parse(created.body)["id"];
  }

  /// An instance admin of `pool_id`, logged in with its own password.
  test::admin_client admin_of(const std::string& pool_id) {
    auto created = owner.send("POST", "/admin/api/operators",
                              {{"email", "admin@example.com"},
                               {"display_name", "Admin"},
                               {"role", "instance_admin"},
                               {"temporary_password", "temporary password 1"},
                               {"pool_ids", {pool_id}}});
    REQUIRE(created.status == 201);
    test::admin_client admin{gateway.port()};
    REQUIRE(admin.login("admin@example.com", "temporary password 1").status == 200);
    REQUIRE(admin
              .send("POST", "/admin/api/session/password",
                    {{"current_password", "temporary password 1"},
                     {"new_password", "another long passphrase"}})
              .status
            == 200);
    return admin;
  }

  /// A request log at `hour`:05 yesterday with 100 input tokens, `cached` of them cached.
  void log(const std::string& hour, const std::string& pool, const std::string& transport,
           int64_t cached, const std::string& outcome = "succeeded",
           std::optional<std::string> client = "codex_cli_rs/0.171.0") {
    persistence::request_log_row row;
    row.id = new_uuid();
    row.occurred_at = day + "T" + hour + ":05:00.000000Z";
    row.pool_id = pool;
    row.api_key_id = "key-of-" + pool;
    row.account_id = "account-1";
    row.route = "/backend-api/codex/responses";
    row.transport = transport;
    row.model = "gpt-5.5";
    row.status_code = outcome == "succeeded" ? 200 : 502;
    row.outcome = outcome;
    row.input_tokens = 100;
    row.cached_input_tokens = cached;
    row.output_tokens = 10;
    row.cost_micros = 250;
    row.pricing_status = "priced";
    row.client = std::move(client);
    REQUIRE(persistence::request_log_repository{database.db()}.insert_batch({row}));
  }

  test::test_database database;
  std::filesystem::path data;
  test::gateway_process gateway;
  test::admin_client owner;
};

const json* series_of(const json& report, const std::string& key) {
  for (const auto& series : report["series"]) {
    if (series["key"] == key) {
      return &series;
    }
  }
  return nullptr;
}

} // namespace

TEST_CASE("the stats API answers hourly series with the prompt-cache hit share",
          "[integration][dashboard]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  CAPTURE(kind == test::backend::sqlite ? "sqlite" : "postgres");
  dashboard_fixture f{kind};
  f.log_in_owner();
  const auto pool_a = f.create_pool("Pool A");
  const auto pool_b = f.create_pool("Pool B");
  f.log("10", pool_a, "http_sse", 50);
  f.log("10", pool_a, "http_sse", 30, "failed");
  f.log("11", pool_a, "websocket", 0);
  f.log("11", pool_b, "http_sse", 100, "succeeded", "openai-python/1.52.0");
  f.log("13", pool_b, "http_sse", 100); // after the period

  auto by_transport = f.owner.get("/admin/api/stats?group_by=transport&" + period);
  REQUIRE(by_transport.status == 200);
  auto report = json::parse(by_transport.body);
  CHECK(report["group_by"] == "transport");
  CHECK(report["from"] == day + "T10:00:00.000000Z");
  REQUIRE(report["series"].size() == 2);
  const auto* sse = series_of(report, "http_sse");
  REQUIRE(sse != nullptr);
  CHECK((*sse)["totals"]["requests"] == 3);
  CHECK((*sse)["totals"]["errors"] == 1);
  CHECK((*sse)["totals"]["cost_micros"] == 750);
  CHECK((*sse)["totals"]["cache_hit_share"].get<double>() == Approx(0.6));
  REQUIRE((*sse)["buckets"].size() == 2);
  CHECK((*sse)["buckets"][0]["bucket_start"] == day + "T10:00:00Z");
  CHECK((*sse)["buckets"][0]["requests"] == 2);
  CHECK((*sse)["buckets"][1]["bucket_start"] == day + "T11:00:00Z");
  const auto* ws = series_of(report, "websocket");
  REQUIRE(ws != nullptr);
  CHECK((*ws)["totals"]["cache_hit_share"].get<double>() == Approx(0.0));

  SECTION("one pool, grouped by key") {
    auto one = f.owner.get("/admin/api/stats?group_by=api_key&pool_id=" + pool_b + "&" + period);
    REQUIRE(one.status == 200);
    auto body = json::parse(one.body);
    REQUIRE(body["series"].size() == 1);
    CHECK(body["series"][0]["key"] == "key-of-" + pool_b);
    CHECK(body["series"][0]["totals"]["requests"] == 1);
  }
  SECTION("an instance admin counts its pools only and cannot name another") {
    auto admin = f.admin_of(pool_b);
    auto mine = admin.get("/admin/api/stats?group_by=pool&" + period);
    REQUIRE(mine.status == 200);
    auto body = json::parse(mine.body);
    REQUIRE(body["series"].size() == 1);
    CHECK(body["series"][0]["key"] == pool_b);
    CHECK(admin.get("/admin/api/stats?pool_id=" + pool_a).status == 404);
  }
  SECTION("grouped by client: family and version, with the hit share of each") {
    f.log("11", pool_a, "http_sse", 20, "succeeded", std::nullopt); // written before clients
    auto by_client = f.owner.get("/admin/api/stats?group_by=client&" + period);
    REQUIRE(by_client.status == 200);
    auto body = json::parse(by_client.body);
    CHECK(body["group_by"] == "client");
    REQUIRE(body["series"].size() == 3);
    const auto* codex = series_of(body, "codex_cli_rs/0.171.0");
    REQUIRE(codex != nullptr);
    CHECK((*codex)["family"] == "codex_cli_rs");
    CHECK((*codex)["version"] == "0.171.0");
    CHECK((*codex)["totals"]["requests"] == 3);
    CHECK((*codex)["totals"]["cache_hit_share"].get<double>() == Approx(80.0 / 300.0));
    const auto* sdk = series_of(body, "openai-python/1.52.0");
    REQUIRE(sdk != nullptr);
    CHECK((*sdk)["family"] == "openai-python");
    CHECK((*sdk)["totals"]["cache_hit_share"].get<double>() == Approx(1.0));
    CHECK(body["series"][0]["key"].is_null()); // sorted first: ''
    CHECK(body["series"][0]["family"].is_null());
  }
  SECTION("bad parameters are named") {
    auto bad = f.owner.get("/admin/api/stats?group_by=user_agent&from=yesterday");
    REQUIRE(bad.status == 422);
    auto fields = json::parse(bad.body)["error"]["fields"];
    CHECK(fields.contains("group_by"));
    CHECK(fields.contains("from"));
    auto long_period =
      f.owner.get("/admin/api/stats?from=2026-01-01T00:00:00Z&to=2026-09-01T00:00:00Z");
    CHECK(long_period.status == 422);
  }
}

TEST_CASE("quota windows are listed for the accounts the caller may see",
          "[integration][dashboard]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  dashboard_fixture f{kind};
  f.log_in_owner();
  const auto pool_a = f.create_pool("Pool A");
  const auto pool_b = f.create_pool("Pool B");
  auto imported = f.owner.send(
    "POST", "/admin/api/upstreams/import",
    {{"auth_json", test::make_auth_json("acct-q", "q@example.com", "q")}, {"pool_ids", {pool_a}}});
  REQUIRE(imported.status == 201);
  const std::string account_id = json::parse(imported.body)["account"]["id"];
  persistence::quota_window_row five_hours;
  five_hours.account_id = account_id;
  five_hours.window_kind = "primary";
  five_hours.window_minutes = 300;
  five_hours.used_percent = 42.5;
  five_hours.reset_at = "2026-09-01T15:00:00Z";
  five_hours.source = "usage_probe";
  five_hours.observed_at = "2026-09-01T10:00:00Z";
  auto week = five_hours;
  week.window_kind = "secondary";
  week.window_minutes = 10080;
  week.used_percent = 10;
  REQUIRE(persistence::routing_repository{f.database.db()}.save_quota_windows({five_hours, week}));

  auto listed = f.owner.get("/admin/api/quota-windows");
  REQUIRE(listed.status == 200);
  auto items = json::parse(listed.body)["items"];
  REQUIRE(items.size() == 2);
  for (const auto& item : items) {
    CHECK(item["account_id"] == account_id);
    CHECK(item["limit_id"] == "codex");
  }
  CHECK(
    json::parse(f.owner.get("/admin/api/quota-windows?pool_id=" + pool_b).body)["items"].empty());
  auto admin = f.admin_of(pool_b);
  auto scoped = admin.get("/admin/api/quota-windows");
  REQUIRE(scoped.status == 200);
  CHECK(json::parse(scoped.body)["items"].empty());
}

TEST_CASE("the dashboard is served under its CSP and / follows the bootstrap",
          "[integration][dashboard]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  dashboard_fixture f{kind};
  auto first = f.owner.get("/");
  CHECK(first.status == 302);
  CHECK(first.headers["location"] == "/bootstrap");
  auto bootstrap = f.owner.get("/bootstrap");
  CHECK(bootstrap.status == 200);
  CHECK(bootstrap.headers["content-type"].starts_with("text/html"));
  CHECK(bootstrap.headers["content-security-policy"].find("script-src 'self'")
        != std::string::npos);

  f.log_in_owner();
  auto later = f.owner.get("/");
  CHECK(later.status == 302);
  CHECK(later.headers["location"] == "/admin");
  auto page = f.owner.get("/admin/request-logs");
  CHECK(page.status == 200);
  CHECK(page.body.find("<div id=\"root\">") != std::string::npos);
  CHECK(page.headers["cache-control"] == "no-cache");
  CHECK(f.owner.get("/admin/assets/missing-0000.js").status == 404);
  CHECK(f.owner.get("/admin/api/missing").status == 404);

  auto system = f.owner.get("/admin/api/system");
  REQUIRE(system.status == 200);
  auto body = json::parse(system.body);
  CHECK(body["database"] == (kind == test::backend::sqlite ? "sqlite" : "postgresql"));
  CHECK_FALSE(body["build"]["version"].get<std::string>().empty());
  CHECK(body["nodes"].is_array());
}
