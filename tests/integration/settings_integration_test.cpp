#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/settings/settings_cache.hpp"
#include "common/clock.hpp"
#include "persistence/settings/settings_repository.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using test::backend;

TEST_CASE("settings rows upsert, list, change the revision and delete",
          "[integration][persistence][settings]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  test::test_database database{kind};
  persistence::settings_repository repository{database.db()};
  auto before = repository.revision();
  REQUIRE(before);
  REQUIRE(repository.upsert({"gateway.circuit_open_seconds", "120", std::nullopt,
                             to_iso8601(std::chrono::system_clock::now())}));
  REQUIRE(repository.upsert({"gateway.circuit_open_seconds", "90", std::nullopt,
                             to_iso8601(std::chrono::system_clock::now())}));
  auto rows = repository.load_all();
  REQUIRE(rows);
  REQUIRE(rows->size() == 1);
  CHECK(rows->at("gateway.circuit_open_seconds").value_json == "90");
  auto after = repository.revision();
  REQUIRE(after);
  CHECK(*after != *before);
  REQUIRE(repository.remove("gateway.circuit_open_seconds"));
  CHECK(repository.load_all()->empty());
}

TEST_CASE("the settings cache picks up a change written by another node",
          "[integration][actors][settings]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  test::test_database database{kind};
  caf::actor_system_config config;
  caf::actor_system system{config};
  auto pool = actors::spawn_db_pool(system, database.db(), 2);
  auto cache = actors::spawn_settings_cache(system, pool, std::chrono::milliseconds{50});
  caf::scoped_actor self{system};
  auto current = [&] {
    actors::settings_snapshot snapshot;
    self->request(cache, std::chrono::seconds{5}, actors::get_atom::value)
      .receive([&](actors::settings_snapshot& s) { snapshot = s; },
               [](caf::error& e) { FAIL(caf::to_string(e)); });
    return snapshot;
  };
  CHECK(current()->gateway().circuit.open_for == std::chrono::seconds{60});

  persistence::settings_repository other_node{database.db()};
  REQUIRE(other_node.upsert({"gateway.circuit_open_seconds", "240", std::nullopt,
                             to_iso8601(std::chrono::system_clock::now())}));
  auto seen = current();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  while (seen->gateway().circuit.open_for != std::chrono::seconds{240}
         && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    seen = current();
  }
  CHECK(seen->gateway().circuit.open_for == std::chrono::seconds{240});
  self->send_exit(cache, caf::exit_reason::user_shutdown);
  self->send_exit(pool, caf::exit_reason::user_shutdown);
}
