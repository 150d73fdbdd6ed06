#include "persistence/db/database.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "tests/unit/persistence/db/temp_sqlite.hpp"

using namespace cxp;
using namespace cxp::persistence;

TEST_CASE("SQLite connections skip SQLite's own connection locks and allocation statistics",
          "[persistence]") {
  test::temp_sqlite sqlite;
  auto worked = sqlite.db().run([](soci::session& sql) {
    // A connection has a mutex only in SQLite's serialized mode; the pool already gives each
    // connection to one thread at a time.
    const auto* backend = static_cast<soci::sqlite3_session_backend*>(sql.get_backend());
    CHECK(sqlite_api::sqlite3_db_mutex(backend->conn_) == nullptr);
    sql << "CREATE TABLE numbers (n INTEGER NOT NULL)";
    sql << "INSERT INTO numbers (n) VALUES (1)";
  });
  CHECK(worked);
  CHECK(sqlite_api::sqlite3_memory_used() == 0); // counted only with the statistics on
}
