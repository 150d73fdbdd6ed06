#pragma once

#include <filesystem>
#include <memory>

#include <catch2/catch.hpp>

#include "common/database_url.hpp"
#include "common/encoding.hpp"
#include "persistence/db/database.hpp"

namespace cxp::test {

/// An empty SQLite database file with a pool of `pool_size` connections, in a fresh temporary
/// directory that goes with it. A file, not `:memory:`, so the connections share it.
class temp_sqlite {
public:
  explicit temp_sqlite(size_t pool_size = 2)
      : dir_(std::filesystem::temp_directory_path() / ("cxp-db-" + new_uuid())) {
    std::filesystem::create_directories(dir_);
    auto url = parse_database_url("sqlite://" + (dir_ / "test.db").string());
    REQUIRE(url);
    auto opened = persistence::database::open(*url, pool_size);
    REQUIRE(opened);
    db_ = std::move(*opened);
  }
  ~temp_sqlite() {
    db_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  temp_sqlite(const temp_sqlite&) = delete;
  temp_sqlite& operator=(const temp_sqlite&) = delete;

  persistence::database& db() { return *db_; }

private:
  std::filesystem::path dir_;
  std::unique_ptr<persistence::database> db_;
};

} // namespace cxp::test
