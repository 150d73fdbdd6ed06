#include "persistence/db/database.hpp"

#include <filesystem>

#include <catch2/catch.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "common/database_url.hpp"
#include "common/encoding.hpp"

using namespace cxp;
using namespace cxp::persistence;

TEST_CASE("SQLite connections skip SQLite's own connection locks and allocation statistics",
          "[persistence]") {
  const auto dir = std::filesystem::temp_directory_path() / ("cxp-db-" + new_uuid());
  std::filesystem::create_directories(dir);
  auto url = parse_database_url("sqlite://" + (dir / "db.db").string());
  REQUIRE(url);
  auto opened = database::open(*url, 2);
  REQUIRE(opened);
  auto worked = (*opened)->run([](soci::session& sql) {
    // A connection has a mutex only in SQLite's serialized mode; the pool already gives each
    // connection to one thread at a time.
    const auto* backend = static_cast<soci::sqlite3_session_backend*>(sql.get_backend());
    CHECK(sqlite_api::sqlite3_db_mutex(backend->conn_) == nullptr);
    sql << "CREATE TABLE numbers (n INTEGER NOT NULL)";
    sql << "INSERT INTO numbers (n) VALUES (1)";
  });
  CHECK(worked);
  CHECK(sqlite_api::sqlite3_memory_used() == 0); // counted only with the statistics on
  opened->reset();
  std::filesystem::remove_all(dir);
}
