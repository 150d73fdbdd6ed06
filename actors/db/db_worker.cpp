#include "actors/db/db_worker.hpp"

#include <caf/actor_pool.hpp>
#include <caf/event_based_actor.hpp>

#include "common/log.hpp"

namespace cxp::actors {

caf::actor spawn_db_pool(caf::actor_system& system, persistence::database& db, size_t workers) {
  auto spawn_worker = [&system, &db] {
    return system.spawn<caf::detached>([&db](caf::event_based_actor*) -> caf::behavior {
      return {[&db](const db_call& call) -> caf::message {
        // An exception escaping a handler would kill this worker and strand its callers.
        try {
          return call.run(db);
        } catch (const std::exception& e) {
          log::error("db", "database call threw", {{"error", e.what()}});
          return caf::make_message(make_error(errc::internal_error, e.what()));
        }
      }};
    });
  };
  return caf::actor_pool::make(system.dummy_execution_unit(), workers, spawn_worker,
                               caf::actor_pool::round_robin());
}

} // namespace cxp::actors
