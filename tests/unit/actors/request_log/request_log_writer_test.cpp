#include "actors/request_log/request_log_writer.hpp"

#include <any>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>
#include <soci/soci.h>

#include "actors/db/db_worker.hpp"
#include "actors/type_ids.hpp"
#include "common/clock.hpp"
#include "common/database_url.hpp"
#include "common/errc.hpp"
#include "common/metrics/registry.hpp"
#include "domain/pricing/price_book.hpp"
#include "persistence/migrate/migrator.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace cxp;
using namespace cxp::actors;

namespace {

/// A writer's world on the test coordinator, with the counter it drops rows into.
struct writer_fixture : test::actor_fixture {
  metrics::registry registry;
  metrics::counter& dropped = metrics::build_counter()
                                .name("codex_pooler_request_logs_dropped_total")
                                .help("test")
                                .register_(registry)
                                .add({});
};

persistence::request_log_row row(int n) {
  persistence::request_log_row r;
  r.id = "row-" + std::to_string(n);
  r.occurred_at = "2026-12-01T00:00:00.00000" + std::to_string(n) + "Z";
  r.route = "/backend-api/codex/responses";
  r.transport = "http_sse";
  r.status_code = 200;
  r.outcome = "succeeded";
  r.attempts.push_back({});
  r.attempts.back().started_at = r.occurred_at;
  r.attempts.back().outcome = "succeeded";
  return r;
}

/// A migrated in-memory SQLite database.
std::unique_ptr<persistence::database> migrated_database() {
  auto url = parse_database_url("sqlite://:memory:");
  REQUIRE(url);
  auto opened = persistence::database::open(*url, 1);
  REQUIRE(opened);
  system_clock_source clock;
  REQUIRE(persistence::run_migrations(**opened, persistence::embedded_migrations(), clock));
  return std::move(*opened);
}

/// The ids of the stored request logs, in the order they were written, each with its attempts.
std::vector<std::string> stored_ids(persistence::database& db) {
  auto ids = db.run([](soci::session& sql) {
    std::vector<std::string> found;
    soci::rowset<std::string> rows =
      (sql.prepare << "SELECT l.id || '/' || (SELECT COUNT(*) FROM request_attempts a WHERE "
                      "a.request_id = l.id) FROM request_logs l ORDER BY l.rowid");
    for (const auto& stored : rows) {
      found.push_back(stored);
    }
    return found;
  });
  REQUIRE(ids);
  return *ids;
}

/// A database that answers only when the test says so (`flush_atom`), like a slow write. A
/// written batch answers the price book it was priced with.
using slow_db_actor = db_pool_actor::extend<caf::reacts_to<flush_atom>>;
using pending_writes = std::vector<caf::typed_response_promise<db_result>>;

slow_db_actor spawn_slow_db(caf::actor_system& system, std::shared_ptr<pending_writes> pending) {
  return system.spawn([pending](slow_db_actor::pointer self) -> slow_db_actor::behavior_type {
    return {
      [=](const db_call&) -> caf::result<db_result> {
        pending->push_back(self->make_response_promise<db_result>());
        return pending->back();
      },
      [=](flush_atom) {
        for (auto& promise : *pending) {
          promise.deliver(
            db_result{std::any{caf::expected<std::shared_ptr<const domain::price_book>>{
              std::make_shared<const domain::price_book>()}}});
        }
        pending->clear();
      },
    };
  });
}

/// Asks `writer` to flush from an actor; true once it answered.
std::shared_ptr<bool> request_flush(caf::actor_system& system, const request_log_actor& writer) {
  auto flushed = std::make_shared<bool>(false);
  system.spawn([writer, flushed](caf::event_based_actor* self) {
    self->request(writer, caf::infinite, flush_atom::value).then([flushed](bool) {
      *flushed = true;
    });
  });
  return flushed;
}

} // namespace

// CAF's test coordinator runs every message and timer by hand, so the order (rows, retry ticks,
// the database's answers) is fixed and nothing sleeps.
TEST_CASE_METHOD(writer_fixture,
                 "request log writer counts the rows it drops while database writes fail",
                 "[request_log]") {
  auto calls = std::make_shared<int>(0);
  auto db = system.spawn([calls]() -> db_pool_actor::behavior_type {
    return {[calls](const db_call&) -> caf::result<db_result> {
      ++*calls;
      return make_error(errc::service_unavailable, "database down");
    }};
  });
  // Writes only on the flush tick (the batch never fills), at most 3 rows kept.
  auto writer = spawn_request_log_writer(system, db, std::chrono::seconds{1}, dropped,
                                         /*max_batch=*/100, /*max_buffered=*/3);

  for (int n = 1; n <= 5; ++n) {
    caf::anon_send(writer, row(n));
  }
  sched.run();
  CHECK(*calls == 0);
  CHECK(dropped.value() == 2); // rows 1 and 2 made room for 4 and 5

  // Two failed writes, each retried on the next tick: the rows stay buffered.
  sched.trigger_timeouts();
  sched.run();
  sched.trigger_timeouts();
  sched.run();
  CHECK(*calls == 2);
  CHECK(dropped.value() == 2);

  caf::anon_send(writer, row(6));
  caf::anon_send(writer, row(7));
  sched.run();
  CHECK(dropped.value() == 4);

  stop(writer, db);
}

TEST_CASE_METHOD(writer_fixture, "request log writer batches the rows that arrive during a write",
                 "[request_log]") {
  auto pending = std::make_shared<pending_writes>();
  auto db = spawn_slow_db(system, pending);
  auto answer_writes = [&] {
    caf::anon_send(db, flush_atom::value);
    sched.run();
  };
  auto writer = spawn_request_log_writer(system, db_pool_actor{db}, std::chrono::seconds{1},
                                         dropped, /*max_batch=*/4, /*max_buffered=*/100);
  for (int n = 1; n <= 4; ++n) { // a full batch is written at once
    caf::anon_send(writer, row(n));
  }
  sched.run();
  REQUIRE(pending->size() == 1);
  for (int n = 5; n <= 6; ++n) { // two rows arrive while it is written
    caf::anon_send(writer, row(n));
  }
  sched.run();
  answer_writes();
  CHECK(pending->empty());  // no write of two rows right after the first
  sched.trigger_timeouts(); // their tick
  sched.run();
  CHECK(pending->size() == 1);
  answer_writes();

  stop(writer, db);
}

TEST_CASE_METHOD(writer_fixture,
                 "a batch whose write failed is written later, whole and in order, before the rows "
                 "that came in meanwhile",
                 "[request_log]") {
  auto database = migrated_database();
  auto failures_left = std::make_shared<int>(1);
  auto db =
    system.spawn([failures_left, database = database.get()]() -> db_pool_actor::behavior_type {
      return {[=](const db_call& call) -> caf::result<db_result> {
        if ((*failures_left)-- > 0) {
          return make_error(errc::service_unavailable, "database down");
        }
        return call.run(*database);
      }};
    });
  auto writer = spawn_request_log_writer(system, db, std::chrono::seconds{1}, dropped,
                                         /*max_batch=*/2, /*max_buffered=*/100);
  caf::anon_send(writer, row(1));
  caf::anon_send(writer, row(2)); // a full batch: written at once, and the write fails
  sched.run();
  CHECK(stored_ids(*database).empty());

  caf::anon_send(writer, row(3)); // a full batch again: rows 1 and 2, back in front
  sched.run();
  CHECK(stored_ids(*database) == std::vector<std::string>{"row-1/1", "row-2/1"});

  auto flushed = request_flush(system, writer);
  sched.run();
  CHECK(*flushed);
  CHECK(stored_ids(*database) == std::vector<std::string>{"row-1/1", "row-2/1", "row-3/1"});
  CHECK(dropped.value() == 0);

  stop(writer, db);
}

TEST_CASE_METHOD(writer_fixture, "a flush is answered only when the batch in flight is written",
                 "[request_log]") {
  auto pending = std::make_shared<pending_writes>();
  auto db = spawn_slow_db(system, pending);
  auto writer = spawn_request_log_writer(system, db_pool_actor{db}, std::chrono::seconds{1},
                                         dropped, /*max_batch=*/2, /*max_buffered=*/100);
  caf::anon_send(writer, row(1));
  caf::anon_send(writer, row(2)); // in flight; nothing is left in the buffer
  sched.run();
  REQUIRE(pending->size() == 1);

  auto flushed = request_flush(system, writer);
  sched.run();
  CHECK_FALSE(*flushed);
  caf::anon_send(db, flush_atom::value);
  sched.run();
  CHECK(*flushed);

  stop(writer, db);
}
