#pragma once

#include <string>

#include <caf/actor_system.hpp>

#include "actors/jobs/job_store.hpp"
#include "actors/jobs/scheduler_leader.hpp"
#include "common/clock.hpp"
#include "domain/jobs/job_schedule.hpp"

namespace cxp::actors {

/// A kind scheduler's interface: it only hears leadership (`leader_atom, leading, epoch`).
using kind_scheduler_actor = leadership_subscriber_actor;

struct kind_scheduler_config {
  domain::job_kind kind;
  std::string node_id;
  domain::job_tuning tuning;
  const cxp::clock& clock; ///< outlives the actor
};

/// Enqueues one run of `kind` per schedule slot (`domain::every_of`) while this node leads the
/// scheduler: at once when leadership arrives (the slot's run, unless it exists already), then
/// at each slot boundary. Every enqueue is fenced by the lease epoch in the database, so a
/// node that lost the lease without hearing it enqueues nothing.
kind_scheduler_actor spawn_kind_scheduler(caf::actor_system& system, job_store_actor store,
                                          const kind_scheduler_config& config);

/// The delay from `now` to just past the next slot boundary of `every`.
std::chrono::milliseconds until_next_slot(time_point now, std::chrono::milliseconds every);

} // namespace cxp::actors
