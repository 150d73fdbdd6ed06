#include "common/database_url.hpp"

#include <catch2/catch.hpp>

TEST_CASE("sqlite URLs keep absolute and relative paths", "[unit][common][config]") {
  auto absolute = cxp::parse_database_url("sqlite:///var/lib/cxp/db.sqlite");
  REQUIRE(absolute);
  CHECK(absolute->kind == cxp::database_kind::sqlite);
  CHECK(absolute->path == "/var/lib/cxp/db.sqlite");
  auto relative = cxp::parse_database_url("sqlite://data/x.db");
  REQUIRE(relative);
  CHECK(relative->path == "data/x.db");
}

TEST_CASE("postgres URLs are split into their parts", "[unit][common][config]") {
  auto url =
    cxp::parse_database_url("postgresql://app:p%40ss@db.internal:6543/codex?sslmode=require");
  REQUIRE(url);
  CHECK(url->kind == cxp::database_kind::postgres);
  CHECK(url->host == "db.internal");
  CHECK(url->port == 6543);
  CHECK(url->user == "app");
  CHECK(url->password.expose() == "p@ss");
  CHECK(url->dbname == "codex");
  CHECK(url->options == "sslmode=require");
  CHECK(url->redacted() == "postgres://app:***@db.internal:6543/codex");
}

TEST_CASE("postgres URL defaults to port 5432", "[unit][common][config]") {
  auto url = cxp::parse_database_url("postgres://localhost/codex");
  REQUIRE(url);
  CHECK(url->port == 5432);
  CHECK(url->user.empty());
}
