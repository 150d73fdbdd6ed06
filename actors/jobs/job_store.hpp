#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/type_ids.hpp"
#include "common/clock.hpp"
#include "persistence/jobs/job_repository.hpp"
#include "persistence/jobs/scheduler_lease_repository.hpp"

namespace cxp::actors {

/// Asks for the scheduler lease on behalf of `node_id`, to last `ttl` from now.
struct scheduler_lease_request {
  std::string node_id;
  std::chrono::milliseconds ttl{0};
};

/// What one keeper pass did: claims rescued, finished jobs pruned.
struct job_upkeep {
  persistence::rescue_result rescued;
  int64_t pruned = 0;
};

/// The queue's gauges as the database holds them.
struct job_queue_stats {
  std::vector<persistence::queue_depth_row> depth;
  std::vector<persistence::job_kind_runs_row> runs;
};

/// What the scheduler group asks of the database, as messages (tests put a typed fake here):
/// - `lease_atom, scheduler_lease_request` → the lease as it stands after acquiring or renewing it;
/// - `release_atom, lease_fence` → whether the lease was let go;
/// - `new_job, lease_fence` → how a scheduled enqueue fenced by the lease went;
/// - `rescue_atom` → rescue timed-out claims and prune old finished jobs;
/// - `stats_atom` → queue depth and the kinds' last runs.
using job_store_actor = caf::typed_actor<
  caf::replies_to<lease_atom, scheduler_lease_request>::with<persistence::scheduler_lease_row>,
  caf::replies_to<release_atom, persistence::lease_fence>::with<bool>,
  caf::replies_to<persistence::new_job,
                  persistence::lease_fence>::with<persistence::scheduled_enqueue>,
  caf::replies_to<rescue_atom>::with<job_upkeep>,
  caf::replies_to<stats_atom>::with<job_queue_stats>>;

/// How long finished jobs stay listed before the keeper prunes them.
constexpr auto finished_job_retention = std::chrono::hours{24};

/// The production store: each message becomes one repository call on the db pool, timed by
/// `clock` (which must outlive the actor).
job_store_actor spawn_job_store(caf::actor_system& system, db_pool_actor db_pool,
                                const cxp::clock& clock);

} // namespace cxp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::scheduler_lease_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::job_upkeep)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::job_queue_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::persistence::scheduler_lease_row)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::persistence::lease_fence)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::persistence::new_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::persistence::scheduled_enqueue)
