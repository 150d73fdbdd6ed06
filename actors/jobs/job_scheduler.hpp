#pragma once

#include <chrono>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/jobs/job_metrics.hpp"
#include "actors/jobs/job_store.hpp"
#include "actors/type_ids.hpp"
#include "common/clock.hpp"
#include "domain/jobs/job_schedule.hpp"

namespace cxp::actors {

/// The scheduler group's interface:
/// - `get_atom` → whether this node leads the scheduler (holds the lease);
/// - `drain_atom` → stops scheduling and releases the lease; answers once it is released.
using job_scheduler_actor =
  caf::typed_actor<caf::replies_to<get_atom>::with<bool>, caf::replies_to<drain_atom>::with<bool>>;

struct job_scheduler_config {
  std::string node_id;
  std::chrono::milliseconds lease_ttl;
  std::chrono::milliseconds keeper_interval;
  domain::job_tuning tuning;
  const cxp::clock& clock;    ///< outlives the group
  job_metrics& metrics;       ///< outlives the group
  metrics::counter& restarts; ///< children that failed and were spawned again
};

/// The scheduler actor group of a node: the leader (`spawn_scheduler_leader`: holds or waits
/// for the cluster's one scheduler lease), one kind scheduler per job kind
/// (`spawn_kind_scheduler`) and the queue keeper (`spawn_queue_keeper`), all talking to the
/// database through `store`. The group supervises them: a child that fails is spawned again and
/// hears the current leadership at once (a new leader also makes every child start as a
/// standby until it speaks). Exiting the group ends its children.
job_scheduler_actor spawn_job_scheduler(caf::actor_system& system, job_store_actor store,
                                        const job_scheduler_config& config);

} // namespace cxp::actors
