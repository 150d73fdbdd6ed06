#include "tests/support/test_database.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "persistence/migrate/migrator.hpp"

namespace cxp::test {

namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in{path};
  std::string line;
  std::getline(in, line);
  return line;
}

std::string with_database(const std::string& server_url, const std::string& name) {
  return server_url.substr(0, server_url.rfind('/') + 1) + name;
}

bool run_admin_sql(const std::string& statement) {
  auto url = parse_database_url(postgres_server_url());
  if (!url) {
    return false;
  }
  auto admin = persistence::database::open(*url, 1);
  return admin && (*admin)->run([&](soci::session& sql) { sql << statement; });
}

} // namespace

std::string to_string(backend kind) {
  return kind == backend::sqlite ? "sqlite" : "postgres";
}

std::string postgres_state_dir() {
  if (const char* dir = std::getenv("CXP_TEST_PG_STATE_DIR")) {
    return dir;
  }
  return CXP_TEST_PG_STATE_DIR;
}

std::string postgres_server_url() {
  auto url = read_first_line(postgres_state_dir() + "/url");
  if (url.empty()) {
    FAIL("the test PostgreSQL server is not running: run the suite through ctest (fixture "
         "test_postgres)");
  }
  return url;
}

const std::map<std::string, std::string>& test_secrets_env() {
  static const std::map<std::string, std::string> env = {
    {"SECRET_KEY_BASE", "test-secret-key-base-test-secret-key-base"},
    {"CODEX_POOLER_UPSTREAM_SECRET_KEY", "0123456789abcdef0123456789abcdef"},
    {"CODEX_POOLER_TOTP_ENCRYPTION_KEY", "fedcba9876543210fedcba9876543210"},
  };
  return env;
}

test_database::test_database(backend kind, bool migrated) : kind_(kind) {
  name_ = "cxp_test_" + to_hex(random_bytes(6));
  if (kind == backend::sqlite) {
    directory_ = (std::filesystem::temp_directory_path() / name_).string();
    std::filesystem::create_directories(directory_);
    url_ = "sqlite://" + directory_ + "/test.db";
  } else {
    REQUIRE(run_admin_sql("CREATE DATABASE " + name_ + " TEMPLATE "
                          + (migrated ? "cxp_template" : "template0")));
    url_ = with_database(postgres_server_url(), name_);
  }
  if (kind == backend::sqlite && migrated) {
    system_clock_source clock;
    REQUIRE(persistence::run_migrations(db(), persistence::embedded_migrations(), clock));
  }
}

test_database::~test_database() {
  db_.reset();
  if (kind_ == backend::sqlite) {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
    return;
  }
  // A database left behind by a failed drop dies with the throwaway server.
  run_admin_sql("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

persistence::database& test_database::db() {
  if (!db_) {
    auto url = parse_database_url(url_);
    REQUIRE(url);
    auto opened = persistence::database::open(*url, 4);
    REQUIRE(opened);
    db_ = std::move(*opened);
  }
  return *db_;
}

} // namespace cxp::test
