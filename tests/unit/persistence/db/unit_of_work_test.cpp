#include "persistence/db/unit_of_work.hpp"

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include "common/database_url.hpp"
#include "common/encoding.hpp"
#include "persistence/db/database.hpp"

using namespace cxp;
using namespace cxp::persistence;
using namespace std::chrono_literals;

TEST_CASE("a SQLite unit of work that reads and then writes waits for a concurrent writer "
          "instead of failing with SQLITE_BUSY",
          "[persistence]") {
  const auto dir = std::filesystem::temp_directory_path() / ("cxp-uow-" + new_uuid());
  std::filesystem::create_directories(dir);
  auto url = parse_database_url("sqlite://" + (dir / "uow.db").string());
  REQUIRE(url);
  auto opened = database::open(*url, 2);
  REQUIRE(opened);
  auto& db = **opened;
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
  opened->reset();
  std::filesystem::remove_all(dir);
}
