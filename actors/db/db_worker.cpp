#include "actors/db/db_worker.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_pool.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "common/log.hpp"

namespace cxp::actors {

namespace {

db_pool_actor::behavior_type db_worker(db_pool_actor::pointer, persistence::database* db) {
  return {[db](db_call& call) -> caf::result<db_result> {
    // An exception escaping a handler would kill this worker and strand its callers.
    try {
      return call.run(*db);
    } catch (const std::exception& e) {
      log::error("db", "database call threw", {{"error", e.what()}});
      return make_error(errc::internal_error, e.what());
    }
  }};
}

} // namespace

db_pool_actor spawn_db_pool(caf::actor_system& system, persistence::database& db, size_t workers) {
  auto spawn_worker = [&system, &db] {
    return caf::actor_cast<caf::actor>(system.spawn<caf::detached>(db_worker, &db));
  };
  // The pool only forwards: each worker is a db_pool_actor, so the pool is one too.
  return caf::actor_cast<db_pool_actor>(caf::actor_pool::make(
    system.dummy_execution_unit(), workers, spawn_worker, caf::actor_pool::round_robin()));
}

} // namespace cxp::actors
