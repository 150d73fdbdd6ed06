#include "actors/db/db_worker.hpp"

#include <caf/actor_pool.hpp>
#include <caf/event_based_actor.hpp>

namespace cxp::actors {

caf::actor spawn_db_pool(caf::actor_system& system, persistence::database& db, size_t workers) {
  auto spawn_worker = [&system, &db] {
    return system.spawn<caf::detached>([&db](caf::event_based_actor*) -> caf::behavior {
      return {[&db](const db_call& call) -> caf::message {
        return call.run(db);
      }};
    });
  };
  return caf::actor_pool::make(system.dummy_execution_unit(), workers, spawn_worker,
                               caf::actor_pool::round_robin());
}

} // namespace cxp::actors
