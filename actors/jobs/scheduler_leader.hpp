#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/jobs/job_store.hpp"
#include "actors/type_ids.hpp"
#include "common/clock.hpp"
#include "common/metrics/registry.hpp"

namespace cxp::actors {

/// What this node knows of the scheduler lease, and when to ask the database again. Plain
/// logic: the leader actor feeds it the store's answers.
class leadership_state {
public:
  leadership_state(std::string node_id, std::chrono::milliseconds ttl)
      : node_id_(std::move(node_id)),
        ttl_(ttl) {}

  /// The lease as the database answered at `now`. True when leading or the epoch changed.
  bool on_lease(const persistence::scheduler_lease_row& lease, time_point now);

  /// The database did not answer: a leader keeps leading while its lease lasts (enqueues are
  /// fenced by the database anyway) and steps down once it expired. True when that changed.
  bool on_failure(time_point now);

  /// Stops leading (the lease was released). True when it was leading.
  bool step_down();

  bool leading() const { return leading_; }
  int64_t epoch() const { return epoch_; }

  /// When to ask again: a leader renews every third of the TTL; a standby asks as often, and
  /// also just after the lease it saw runs out, so it takes a dead leader's place within the TTL.
  std::chrono::milliseconds next_attempt(time_point now) const;

private:
  std::string node_id_;
  std::chrono::milliseconds ttl_;
  bool leading_ = false;
  int64_t epoch_ = 0;
  std::optional<time_point> expires_;
};

/// Hears this node's scheduler leadership: `leader_atom, leading, epoch`.
using leadership_subscriber_actor = caf::typed_actor<caf::reacts_to<leader_atom, bool, int64_t>>;

/// The scheduler leader's interface:
/// - `subscribe_atom, subscriber` → the subscriber hears the current leadership now and every
///   change after;
/// - `get_atom` → whether this node leads;
/// - `drain_atom` → stops asking for the lease, lets it go (a standby takes over at its next
///   attempt) and answers once it is released.
using scheduler_leader_actor =
  caf::typed_actor<caf::reacts_to<subscribe_atom, leadership_subscriber_actor>,
                   caf::replies_to<get_atom>::with<bool>, caf::replies_to<drain_atom>::with<bool>>;

struct scheduler_leader_config {
  std::string node_id;
  std::chrono::milliseconds ttl;
  const cxp::clock& clock; ///< outlives the actor
  metrics::gauge& leader;  ///< 1 while leading; outlives the actor
};

/// Holds (or waits for) the cluster's one scheduler lease in the database through `store`,
/// renewing it every third of its TTL.
scheduler_leader_actor spawn_scheduler_leader(caf::actor_system& system, job_store_actor store,
                                              const scheduler_leader_config& config);

} // namespace cxp::actors
