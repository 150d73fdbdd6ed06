#include "persistence/db/column_table.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/database_url.hpp"
#include "persistence/db/database.hpp"
#include "persistence/db/filtered_query.hpp"
#include "persistence/db/select_rows.hpp"

using namespace cxp;
using namespace cxp::persistence;

namespace {

struct sample_row {
  std::string id;
  std::optional<std::string> note;
  int32_t count = 0;
  std::optional<int64_t> total;
  double ratio = 0;
  bool enabled = false;
  std::vector<std::string> parts;
};

int32_t parts_of(const sample_row& row) {
  return static_cast<int32_t>(row.parts.size());
}

constexpr auto sample_table = make_column_table(
  col<&sample_row::id>("id"), col<&sample_row::note>("note"), col<&sample_row::count>("count"),
  col<&sample_row::total>("total"), col<&sample_row::ratio>("ratio"),
  col<&sample_row::enabled>("enabled"), derived_col<&parts_of>("part_count"));

std::unique_ptr<database> sample_database() {
  auto url = parse_database_url("sqlite://:memory:");
  REQUIRE(url);
  auto opened = database::open(*url, 1);
  REQUIRE(opened);
  auto created = (*opened)->run([](soci::session& sql) {
    sql << "CREATE TABLE samples (id TEXT PRIMARY KEY, note TEXT, count INTEGER NOT NULL, "
           "total BIGINT, ratio REAL NOT NULL, enabled INTEGER NOT NULL, "
           "part_count INTEGER NOT NULL, created_at TEXT NOT NULL DEFAULT '')";
  });
  REQUIRE(created);
  return std::move(*opened);
}

std::vector<sample_row> all_samples(database& db) {
  auto rows = db.run([](soci::session& sql) {
    return select_rows(sql, "SELECT " + sample_table.select_list() + " FROM samples ORDER BY id",
                       {}, [](const soci::row& row) { return sample_table.read(row); });
  });
  REQUIRE(rows);
  return *rows;
}

} // namespace

TEST_CASE("a column table inserts a row from the same columns it reads it back with",
          "[persistence]") {
  auto db = sample_database();
  CHECK(sample_table.insert_sql("samples")
        == "INSERT INTO samples (id, note, count, total, ratio, enabled, part_count) VALUES (:id, "
           ":note, :count, :total, :ratio, :enabled, :part_count)");

  const sample_row full{"a", "hello", 3, int64_t{1} << 40, 0.5, true, {"x", "y"}};
  const sample_row sparse{"b", std::nullopt, -1, std::nullopt, 0.0, false, {}};
  REQUIRE(db->run([&](soci::session& sql) {
    insert_row(sql, "samples", sample_table, full);
    // A prepared insert rebinds every column for each row: the nulls of one row do not leak
    // into the next, nor its values into a null.
    prepared_insert batch{sql, "samples", sample_table};
    batch.execute(sparse);
    batch.execute(sample_row{"c", "again", 7, 9, 1.25, true, {"z"}});
  }));

  auto rows = all_samples(*db);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].id == "a");
  CHECK(rows[0].note == std::optional<std::string>{"hello"});
  CHECK(rows[0].count == 3);
  CHECK(rows[0].total == std::optional<int64_t>{int64_t{1} << 40});
  CHECK(rows[0].ratio == 0.5);
  CHECK(rows[0].enabled);
  CHECK(rows[0].parts.empty()); // derived columns are written, never read back
  CHECK_FALSE(rows[1].note);
  CHECK(rows[1].count == -1);
  CHECK_FALSE(rows[1].total);
  CHECK_FALSE(rows[1].enabled);
  CHECK(rows[2].note == std::optional<std::string>{"again"});
  CHECK(rows[2].total == std::optional<int64_t>{9});

  auto counts = db->run([](soci::session& sql) {
    return select_rows(sql, "SELECT part_count FROM samples ORDER BY id", {},
                       [](const soci::row& row) { return row_reader{row}.int64(0); });
  });
  REQUIRE(counts);
  CHECK(*counts == std::vector<int64_t>{2, 0, 1});
}

TEST_CASE("an insert takes a suffix: an upsert replaces the row it conflicts with",
          "[persistence]") {
  auto db = sample_database();
  REQUIRE(db->run([&](soci::session& sql) {
    insert_row(sql, "samples", sample_table, sample_row{"a", "first", 1, 1, 0.1, false, {}});
    insert_row(sql, "samples", sample_table, sample_row{"a", std::nullopt, 2, 2, 0.2, true, {}},
               " ON CONFLICT (id) DO UPDATE SET note = excluded.note, count = excluded.count");
  }));
  auto rows = all_samples(*db);
  REQUIRE(rows.size() == 1);
  CHECK_FALSE(rows[0].note);
  CHECK(rows[0].count == 2);
  CHECK(rows[0].total == std::optional<int64_t>{1}); // not in the update list
}

TEST_CASE("a filtered query pages by keyset either way and binds in text order", "[persistence]") {
  auto db = sample_database();
  REQUIRE(db->run([&](soci::session& sql) {
    prepared_insert batch{sql, "samples", sample_table};
    for (const auto* id : {"a", "b", "c", "d"}) {
      batch.execute(sample_row{id, std::nullopt, 0, std::nullopt, 0, false, {}});
    }
    sql << "UPDATE samples SET created_at = CASE WHEN id IN ('a', 'b') THEN '1' ELSE '2' END";
  }));
  auto ids = [&](const filtered_query& query) {
    auto rows = db->run([&](soci::session& sql) {
      return select_rows(sql, query.sql(), query.values(),
                         [](const soci::row& row) { return row_reader{row}.text(0); });
    });
    REQUIRE(rows);
    return *rows;
  };

  filtered_query after{"SELECT id FROM samples"};
  after.where_after("created_at", "id", "1", "a");
  after.append(" ORDER BY created_at, id");
  CHECK(ids(after) == std::vector<std::string>{"b", "c", "d"});

  filtered_query before{"SELECT id FROM samples"};
  before.where_before("created_at", "id", "2", "d");
  before.where_in("id", {"a", "c", "d"});
  before.append(" ORDER BY created_at DESC, id DESC");
  CHECK(ids(before) == std::vector<std::string>{"c", "a"});

  REQUIRE(db->run([&](soci::session& sql) {
    sql << "UPDATE samples SET note = CASE id WHEN 'a' THEN '50%OFF' WHEN 'b' THEN '5000' "
           "WHEN 'c' THEN 'x_y!' ELSE NULL END";
  }));
  auto containing = [&](std::string_view term) {
    filtered_query query{"SELECT id FROM samples"};
    query.where_contains({"lower(note)", "lower(id)"}, term);
    query.append(" ORDER BY id");
    return ids(query);
  };
  // Wildcards in a search term are taken literally; case does not matter.
  CHECK(containing("0%o") == std::vector<std::string>{"a"});
  CHECK(containing("_y!") == std::vector<std::string>{"c"});
  CHECK(containing("D") == std::vector<std::string>{"d"});

  filtered_query update{"UPDATE samples SET note = :p0"};
  update.bind("touched");
  update.where_equal("id", "b");
  REQUIRE(db->run(
    [&](soci::session& sql) { CHECK(execute_bound(sql, update.sql(), update.values()) == 1); }));
  CHECK(all_samples(*db)[1].note == std::optional<std::string>{"touched"});
}
