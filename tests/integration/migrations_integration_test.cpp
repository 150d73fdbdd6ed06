#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "common/clock.hpp"
#include "persistence/migrate/migrator.hpp"
#include "tests/support/gateway_process.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using test::backend;

namespace {

int64_t count_rows(persistence::database& db, const std::string& table) {
  auto counted = db.run([&](soci::session& sql) {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM " + table, soci::into(n);
    return static_cast<int64_t>(n);
  });
  REQUIRE(counted);
  return *counted;
}

} // namespace

TEST_CASE("migrations apply once and a second run is a no-op",
          "[integration][persistence][migrate]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  test::test_database database{kind, false};
  system_clock_source clock;
  const auto& all = persistence::embedded_migrations();

  auto first = persistence::run_migrations(database.db(), all, clock);
  REQUIRE(first);
  CHECK(first->applied.size() == all.size());
  CHECK(first->already_applied == 0);

  auto second = persistence::run_migrations(database.db(), all, clock);
  REQUIRE(second);
  CHECK(second->applied.empty());
  CHECK(second->already_applied == all.size());
  CHECK(count_rows(database.db(), "schema_migrations") == static_cast<int64_t>(all.size()));
  for (const auto* table :
       {"operators", "operator_sessions", "invites", "pools", "upstream_accounts", "pool_accounts",
        "api_keys", "instance_settings", "audit_events", "request_logs", "account_quota_windows",
        "jobs", "cluster_nodes", "session_leases", "account_leases", "account_refresh_claims",
        "oauth_refresh_gates", "account_health", "http_session_pins"}) {
    CAPTURE(table);
    CHECK(count_rows(database.db(), table) == 0);
  }
}

TEST_CASE("attempts keyed by their request keep every attempt of a stored request and only those",
          "[integration][persistence][migrate]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  test::test_database database{kind, false};
  system_clock_source clock;
  const auto& all = persistence::embedded_migrations();
  std::vector<persistence::migration> before_keying;
  for (const auto& step : all) {
    if (step.version < "0013") {
      before_keying.push_back(step);
    }
  }
  REQUIRE(persistence::run_migrations(database.db(), before_keying, clock));
  auto sql = [&](const std::string& statement) {
    REQUIRE(database.db().run([&](soci::session& session) { session << statement; }));
  };
  sql("INSERT INTO request_logs (id, occurred_at, route, transport, status_code, outcome) VALUES "
      "('req-1', '2026-12-01T00:00:00.000000Z', '/backend-api/codex/responses', 'http_sse', 200, "
      "'succeeded')");
  sql("INSERT INTO request_attempts (id, request_id, attempt_number, started_at, status_code, "
      "outcome) VALUES ('a-1', 'req-1', 1, '2026-12-01T00:00:00.000000Z', 502, "
      "'retryable_failed'), ('a-2', 'req-1', 2, '2026-12-01T00:00:01.000000Z', 200, 'succeeded'), "
      "('a-orphan', 'req-gone', 1, '2026-12-01T00:00:00.000000Z', 200, 'succeeded')");

  REQUIRE(persistence::run_migrations(database.db(), all, clock));
  CHECK(count_rows(database.db(), "request_attempts") == 2);
  auto kept = database.db().run([](soci::session& session) {
    long long failed = 0;
    session << "SELECT COUNT(*) FROM request_attempts WHERE request_id = 'req-1' AND "
               "attempt_number = 1 AND status_code = 502 AND outcome = 'retryable_failed'",
      soci::into(failed);
    return failed;
  });
  REQUIRE(kept);
  CHECK(*kept == 1);
  auto twice = database.db().run([](soci::session& session) {
    session << "INSERT INTO request_attempts (request_id, attempt_number, started_at, outcome) "
               "VALUES ('req-1', 2, '2026-12-01T00:00:02.000000Z', 'succeeded')";
  });
  CHECK_FALSE(twice);
}

TEST_CASE("a failing migration rolls back and stops the run",
          "[integration][persistence][migrate]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  test::test_database database{kind, false};
  system_clock_source clock;
  const std::vector<persistence::migration> broken = {
    {"0001", "create_a", "CREATE TABLE a (x TEXT);\n"},
    {"0002", "half_broken", "CREATE TABLE b (x TEXT);\nINSERT INTO no_such_table VALUES (1);\n"},
  };
  auto result = persistence::run_migrations(database.db(), broken, clock);
  REQUIRE_FALSE(result);
  CHECK(to_errc(result.error()) == errc::migration_failed);
  CHECK(context_of(result.error()).find("0002_half_broken") != std::string::npos);
  CHECK(count_rows(database.db(), "schema_migrations") == 1);
  CHECK(count_rows(database.db(), "a") == 0);
  auto b_exists = database.db().run([](soci::session& sql) { sql << "SELECT COUNT(*) FROM b"; });
  CHECK_FALSE(b_exists);
}

TEST_CASE("a migration edited after it was applied is refused",
          "[integration][persistence][migrate]") {
  test::test_database database{backend::sqlite, false};
  system_clock_source clock;
  REQUIRE(persistence::run_migrations(database.db(),
                                      {{"0001", "create_a", "CREATE TABLE a (x TEXT);\n"}}, clock));
  auto edited = persistence::run_migrations(
    database.db(), {{"0001", "create_a", "CREATE TABLE a (y TEXT);\n"}}, clock);
  REQUIRE_FALSE(edited);
  CHECK(context_of(edited.error()).find("changed after it was applied") != std::string::npos);
}

TEST_CASE("two processes migrating PostgreSQL at once apply each migration exactly once",
          "[integration][persistence][migrate]") {
  test::test_database database{backend::postgres, false};
  auto env = test::gateway_env(database.url(), "unused");
  env["CODEX_POOLER_LOG_LEVEL"] = "info";
  test::command_result first;
  test::command_result second;
  std::thread a{[&] {
    first = test::run_gateway_command(env, {"migrate"});
  }};
  std::thread b{[&] {
    second = test::run_gateway_command(env, {"migrate"});
  }};
  a.join();
  b.join();
  CHECK(first.exit_code == 0);
  CHECK(second.exit_code == 0);

  std::multiset<std::string> applied;
  int runners_that_applied = 0;
  for (const auto* run : {&first, &second}) {
    bool this_one_applied = false;
    size_t start = 0;
    while (start < run->out.size()) {
      auto end = run->out.find('\n', start);
      auto line = nlohmann::json::parse(run->out.substr(start, end - start), nullptr, false);
      start = end == std::string::npos ? run->out.size() : end + 1;
      if (!line.is_discarded() && line.value("msg", "") == "migration applied") {
        applied.insert(line.value("version", ""));
        this_one_applied = true;
      }
    }
    runners_that_applied += this_one_applied ? 1 : 0;
  }
  const auto& all = persistence::embedded_migrations();
  CHECK(runners_that_applied == 1);
  CHECK(applied.size() == all.size());
  for (const auto& step : all) {
    CHECK(applied.count(step.version) == 1);
  }
  CHECK(count_rows(database.db(), "schema_migrations") == static_cast<int64_t>(all.size()));
}

TEST_CASE("an error returned from inside database::run reaches the caller",
          "[integration][persistence][db]") {
  test::test_database database{backend::sqlite};
  auto failed = database.db().run([](soci::session&) -> caf::expected<void> {
    return make_error(errc::not_found, "nothing there");
  });
  REQUIRE_FALSE(failed);
  CHECK(to_errc(failed.error()) == errc::not_found);
  auto succeeded = database.db().run([](soci::session&) -> caf::expected<void> { return {}; });
  CHECK(succeeded);
}
