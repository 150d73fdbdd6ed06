#include <csignal>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include <sys/stat.h>

#include "common/encoding.hpp"
#include "persistence/migrate/migration.hpp"
#include "tests/support/gateway_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using json = nlohmann::json;

namespace {

struct temp_dir {
  std::filesystem::path path =
    std::filesystem::temp_directory_path() / ("cxp_gw_" + to_hex(random_bytes(6)));
  temp_dir() { std::filesystem::create_directories(path); }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

} // namespace

TEST_CASE("with no environment at all the gateway serves :4000 on a migrated SQLite file",
          "[integration][edge][gateway]") {
  temp_dir cwd;
  test::gateway_process gateway{{}, {"serve"}, cwd.path.string()};
  CHECK(gateway.port() == 4000);
  auto health = test::http_get(gateway.port(), "/healthz");
  CHECK(health.status == 200);
  CHECK(json::parse(health.body) == json{{"status", "ok"}});
  CHECK(test::http_get(gateway.port(), "/readyz").status == 200);

  const auto database_file = cwd.path / "data" / "codex-pooler.db";
  REQUIRE(std::filesystem::exists(database_file));
  struct stat info {};
  REQUIRE(stat((cwd.path / "data" / "secrets.json").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);

  soci::session sql{"sqlite3", "db=" + database_file.string()};
  long long applied = 0;
  sql << "SELECT COUNT(*) FROM schema_migrations", soci::into(applied);
  CHECK(applied == static_cast<long long>(persistence::embedded_migrations().size()));
  CHECK(gateway.stop(SIGTERM, std::chrono::seconds{10}) == 0);
}

TEST_CASE("health, readiness and metrics answer on PostgreSQL", "[integration][edge][gateway]") {
  test::test_database database{test::backend::postgres};
  temp_dir data;
  test::gateway_process gateway{test::gateway_env(database.url(), data.path.string())};
  CHECK(test::http_get(gateway.port(), "/healthz").status == 200);
  auto ready = test::http_get(gateway.port(), "/readyz");
  CHECK(ready.status == 200);
  CHECK(json::parse(ready.body)["status"] == "ready");

  auto missing = test::http_get(gateway.port(), "/no/such/route");
  CHECK(missing.status == 404);
  auto envelope = json::parse(missing.body);
  CHECK(envelope["error"]["code"] == "not_found");
  CHECK(envelope["error"]["type"] == "invalid_request_error");
  CHECK(envelope["error"].contains("param"));
  CHECK(test::http_request(gateway.port(), "POST", "/healthz").status == 405);

  auto metrics = test::http_get(gateway.port(), "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.headers["content-type"].find("text/plain; version=0.0.4") == 0);
  CHECK(
    metrics.body.find(
      "codex_pooler_http_requests_total{method=\"GET\",route=\"/healthz\",status_class=\"2xx\"}")
    != std::string::npos);
  CHECK(metrics.body.find("route=\"unmatched\"") != std::string::npos);
  auto checked = test::run_program({"promtool", "check", "metrics"}, metrics.body);
  INFO(checked.out << checked.err);
  CHECK(checked.exit_code == 0);
}

TEST_CASE("a bad DATABASE_URL or PORT stops startup with one line naming the variable",
          "[integration][edge][config]") {
  temp_dir data;
  auto env =
    test::gateway_env("sqlite://" + (data.path / "db.sqlite").string(), data.path.string());
  SECTION("DATABASE_URL") {
    env["DATABASE_URL"] = "mysql://nope/db";
    auto result = test::run_gateway_command(env, {"serve"});
    CHECK(result.exit_code != 0);
    CHECK(result.err.rfind("codex-pooler: DATABASE_URL: ", 0) == 0);
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  }
  SECTION("PORT") {
    env["PORT"] = "seventy";
    auto result = test::run_gateway_command(env, {"serve"});
    CHECK(result.exit_code != 0);
    CHECK(result.err.rfind("codex-pooler: PORT: ", 0) == 0);
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  }
  SECTION("unreachable PostgreSQL") {
    env["DATABASE_URL"] = "postgres://nobody:secretpw@127.0.0.1:1/none";
    auto result = test::run_gateway_command(env, {"serve"});
    CHECK(result.exit_code != 0);
    CHECK(result.err.rfind("codex-pooler: DATABASE_URL: ", 0) == 0);
    CHECK(result.err.find("secretpw") == std::string::npos);
  }
}

TEST_CASE("SIGTERM drains the node and records it down", "[integration][edge][gateway]") {
  test::test_database database{test::backend::postgres};
  temp_dir data;
  test::gateway_process gateway{test::gateway_env(database.url(), data.path.string())};
  CHECK(test::http_get(gateway.port(), "/healthz").status == 200);
  CHECK(gateway.stop(SIGTERM, std::chrono::seconds{10}) == 0);
  auto status = database.db().run([](soci::session& sql) {
    std::string value;
    sql << "SELECT status FROM cluster_nodes", soci::into(value);
    return value;
  });
  REQUIRE(status);
  CHECK(*status == "down");
  CHECK(gateway.output().find("\"msg\":\"stopped\"") != std::string::npos);
}
