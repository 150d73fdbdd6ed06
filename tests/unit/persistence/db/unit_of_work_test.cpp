#include "persistence/db/unit_of_work.hpp"

#include <chrono>
#include <future>
#include <thread>

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include "persistence/db/database.hpp"
#include "tests/unit/persistence/db/temp_sqlite.hpp"

using namespace cxp;
using namespace cxp::persistence;
using namespace std::chrono_literals;

TEST_CASE("a SQLite unit of work that reads and then writes waits for a concurrent writer "
          "instead of failing with SQLITE_BUSY",
          "[persistence]") {
  test::temp_sqlite sqlite;
  auto& db = sqlite.db();
  REQUIRE(db.run([](soci::session& sql) { sql << "CREATE TABLE numbers (n INTEGER NOT NULL)"; }));

  std::future<caf::expected<void>> other;
  auto first = db.transact([&](unit_of_work& work) {
    int count = -1;
    work.session() << "SELECT COUNT(*) FROM numbers", soci::into(count);
    // Another connection writes while this one holds its read: a deferred transaction would
    // then fail its own write at once (SQLITE_BUSY_SNAPSHOT).
    other = std::async(std::launch::async, [&db] {
      return db.run([](soci::session& sql) { sql << "INSERT INTO numbers (n) VALUES (2)"; });
    });
    std::this_thread::sleep_for(200ms);
    work.session() << "INSERT INTO numbers (n) VALUES (1)";
    work.commit();
  });
  CHECK(first);
  REQUIRE(other.valid());
  CHECK(other.get());
  auto count = db.run([](soci::session& sql) {
    int rows = 0;
    sql << "SELECT COUNT(*) FROM numbers", soci::into(rows);
    return rows;
  });
  REQUIRE(count);
  CHECK(*count == 2);
}
