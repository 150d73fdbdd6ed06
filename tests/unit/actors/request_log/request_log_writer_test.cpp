#include "actors/request_log/request_log_writer.hpp"

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/type_ids.hpp"
#include "common/errc.hpp"
#include "common/metrics/registry.hpp"

using namespace cxp;
using namespace cxp::actors;

namespace {

persistence::request_log_row row(int n) {
  persistence::request_log_row r;
  r.id = "row-" + std::to_string(n);
  return r;
}

} // namespace

// CAF's test coordinator runs every message and timer by hand, so the order (rows, retry ticks,
// the database's answers) is fixed and nothing sleeps.
TEST_CASE("request log writer counts the rows it drops while database writes fail",
          "[request_log]") {
  caf::actor_system_config config;
  add_message_types(config);
  config.set("scheduler.policy", caf::atom("testing"));
  caf::actor_system system{config};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
  metrics::registry registry;
  auto& dropped = metrics::build_counter()
                    .name("codex_pooler_request_logs_dropped_total")
                    .help("test")
                    .register_(registry)
                    .add({});
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

  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
  sched.run();
}
