#include <catch2/catch.hpp>

#include "persistence/migrate/migration.hpp"

using cxp::persistence::split_statements;

TEST_CASE("statements split at line-ending semicolons only", "[unit][persistence][migrate]") {
  const auto statements = split_statements("-- a comment;\nCREATE TABLE a (x TEXT DEFAULT "
                                           "'a;b');\n\nCREATE INDEX i ON a (x);\n-- trailing\n");
  REQUIRE(statements.size() == 2);
  CHECK(statements[0].find("DEFAULT 'a;b'") != std::string::npos);
  CHECK(statements[1].find("CREATE INDEX") != std::string::npos);
}

TEST_CASE("embedded migrations are ordered, named and non-empty", "[unit][persistence][migrate]") {
  const auto& all = cxp::persistence::embedded_migrations();
  REQUIRE_FALSE(all.empty());
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].version.size() == 4);
    CHECK_FALSE(all[i].name.empty());
    CHECK_FALSE(split_statements(all[i].sql).empty());
    if (i > 0) {
      CHECK(all[i - 1].version < all[i].version);
    }
  }
}
