#pragma once

#include <chrono>

#include <caf/actor_system.hpp>

#include "actors/jobs/job_metrics.hpp"
#include "actors/jobs/job_store.hpp"
#include "actors/jobs/scheduler_leader.hpp"
#include "common/clock.hpp"

namespace cxp::actors {

/// The queue keeper's interface: it only hears leadership (`leader_atom, leading, epoch`).
using queue_keeper_actor = leadership_subscriber_actor;

struct queue_keeper_config {
  std::chrono::milliseconds interval;
  const cxp::clock& clock; ///< outlives the actor
  job_metrics& metrics;    ///< outlives the actor
};

/// Every `interval`: while this node leads, sends claims that outlived their timeout back to the
/// queue (their worker died or hung; see `job_repository::rescue_expired`) and prunes jobs
/// finished more than a day ago; on every scheduler node, publishes the queue depth, the running
/// jobs and the age of each kind's last success.
queue_keeper_actor spawn_queue_keeper(caf::actor_system& system, job_store_actor store,
                                      const queue_keeper_config& config);

/// Sets the queue gauges from `stats` at `now` (every kind's depth and running count, 0 when
/// absent; the age of each kind's last success, when it has one).
void publish_queue_stats(job_metrics& metrics, const job_queue_stats& stats, time_point now);

} // namespace cxp::actors
